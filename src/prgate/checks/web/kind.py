"""The ``web`` check kind: oxlint's findings on added lines of JavaScript and TypeScript, and
(``format: true``) the layout oxfmt would change in lines the change added."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Rule
from prgate.checks.tools import tool_output
from prgate.checks.web.hunks import introduced
from prgate.checks.web.output import LintProblem
from prgate.checks.web.settings import (
    KIND_NAME,
    WebParams,
    in_scope,
    is_format_rule,
)
from prgate.checks.web.tool import TOOL, changed_heads, texts_for
from prgate.checks.web.tools import WebOutput
from prgate.model import FileChange, Finding, Level

#: A comment that turns oxlint (or ESLint, whose comments oxlint honours) off.
_DISABLE = re.compile(r"(?://|/\*)\s*(?P<what>(?:oxlint|eslint)-disable(?:-next-line|-line)?)\b")


def _lint_finding(rule: Rule, p: LintProblem, change: FileChange | None) -> Finding:
    if p.code is None:
        # Reported even when the syntax error is on an old line: the file was not judged.
        on_change = change is not None and change.touches(p.line)
        return rule.finding(
            path=p.path,
            line=p.line if on_change else None,
            column=p.column if on_change else None,
            message=(
                f"This file could not be read as JavaScript or TypeScript (line {p.line}: "
                f"{p.message}), so it could not be checked."
            ),
            fix=(
                "Fix the syntax error at the line shown (a missing bracket, quote or comma is "
                "the usual cause), then run the check again."
            ),
        )
    fix = f"{rule.fix} oxlint suggests: {p.help}" if p.help else rule.fix
    return rule.finding(
        path=p.path,
        line=p.line,
        column=p.column,
        message=f"{p.message} (oxlint {p.code})",
        fix=fix,
        code=p.code,
    )


def _disable_findings(
    rule: Rule, lint: Mapping[str, str], changes: dict[str, FileChange]
) -> list[Finding]:
    """One warning for each comment the change adds that turns oxlint off, so that a reviewer
    sees it (the tool honours it; prgate does not hide that it did)."""
    found: list[Finding] = []
    for path in sorted(lint):
        lines = lint[path].splitlines()
        for n in changes[path].added_line_numbers():
            m = _DISABLE.search(lines[n - 1]) if n <= len(lines) else None
            if m is None:
                continue
            found.append(
                rule.finding(
                    path=path,
                    line=n,
                    message=(
                        f"This change adds a comment (`{m.group('what')}`) that turns oxlint's "
                        "checks off here, so the problems it would report are not shown. It is "
                        "named so that a reviewer sees it."
                    ),
                    fix=(
                        "Keep the comment if the code is right as it is and say why next to "
                        "it; otherwise fix the problem and remove the comment."
                    ),
                    level=Level.WARNING,
                )
            )
    return found


def _format_findings(rule: Rule, out: WebOutput, changes: dict[str, FileChange]) -> list[Finding]:
    found: list[Finding] = []
    for path in sorted(out.unformattable):
        found.append(
            rule.cannot_check(
                path=path,
                looks_for="layout (oxfmt)",
                message="The formatter could not read this file (it may have a syntax error).",
                fix="Fix the file so that it reads correctly, then run the check again.",
            )
        )
    for path in sorted(out.formatted):
        change = changes[path]
        head = change.head_text() or ""
        for h in introduced(head, out.formatted[path], change.touches):
            found.append(
                rule.finding(
                    path=path,
                    line=h.start,
                    end_line=h.end,
                    message=(
                        "The team's formatter (oxfmt) would lay out these lines differently "
                        "(spacing, line breaks, quotes, commas)."
                    ),
                    fixable=True,
                )
            )
    return found


def _run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    lint, fmt = texts_for(rules, changed_heads(ctx))
    result = CheckResult()
    if not lint and not fmt:
        return result
    out = tool_output(ctx, TOOL)
    changes = {f.path: f for f in ctx.changeset.files}
    for rule in sorted(rules, key=lambda r: r.id):
        for path in sorted(out.unjudged):
            if in_scope(rule, path):
                result.findings.append(
                    rule.cannot_check(
                        path=path,
                        looks_for=KIND.looks_for,
                        message="Its name is too long or unusual to hand to the checking tools.",
                        fix="Give the file a shorter, plain name, then run the check again.",
                    )
                )
        if is_format_rule(rule):
            result.findings.extend(_format_findings(rule, out, changes))
        else:
            result.findings.extend(
                _lint_finding(rule, p, changes.get(p.path)) for p in out.problems
            )
            result.findings.extend(_disable_findings(rule, lint, changes))
    return result


KIND = CheckKind(
    name=KIND_NAME,
    params=WebParams,
    run=_run,
    tool=TOOL,
    in_scope=lambda rule, change: in_scope(rule, change.path),
    looks_for="JavaScript, TypeScript and web-file mistakes and layout (oxlint, oxfmt)",
    summary=(
        "what oxlint reports on added lines of JavaScript and TypeScript (the team's "
        ".oxlintrc.json on the base branch), or with format: true, added lines of web files "
        "that oxfmt would lay out differently (the team's .oxfmtrc.json, .prettierrc or "
        ".editorconfig on the base branch)"
    ),
)
