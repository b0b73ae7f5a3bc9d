"""The ``ruff`` check kind: the team's ruff findings on added lines, and formatting the change
introduced."""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Rule
from prgate.checks.ruff.noqa import Suppression
from prgate.checks.ruff.output import RuffOutput, SyntaxProblem, Violation, is_import_order
from prgate.checks.ruff.settings import (
    KIND_NAME,
    RuffParams,
    Selection,
    is_format_rule,
    params_of,
)
from prgate.checks.ruff.tool import TOOL
from prgate.checks.tools import tool_output
from prgate.model import Finding, Level

OUTDATED_NOTE = (
    " A `# noqa` or `# ruff: noqa` comment that was already in the file covers this line, but "
    "it was written for the code as it was: it does not silence prgate for code this change "
    "adds. Fix the problem; if the whole file should be exempt, an engineer can say so in the "
    "team's ruff settings (per-file-ignores)."
)


def violation_finding(rule: Rule, v: Violation, *, describe: str | None = None) -> Finding:
    """A finding of ``rule`` for one ruff violation (shared with the ``debug`` kind), carrying
    ruff's code as data.

    ``describe`` replaces ruff's own wording of the problem.
    """
    message = f"{describe or v.message} (ruff {v.code})"
    fix = rule.fix
    if v.suppression is Suppression.ADDED:
        level = _noqa_level(rule)
        return rule.finding(
            path=v.path,
            line=v.line,
            end_line=v.end_line,
            column=v.column,
            message=(
                f"This change adds a comment that silences ruff's {v.code} here ({message}). "
                "It is named so that a reviewer sees it; the problem itself is not reported."
            ),
            fix=(
                "Keep the comment if the code is right as it is and say why next to it; "
                "otherwise fix the problem and remove the comment."
            ),
            level=level,
            code=v.code,
        )
    if v.suppression is Suppression.OUTDATED:
        message += "." + OUTDATED_NOTE
    elif v.fix_message:
        fix = f"{rule.fix} Ruff suggests: {v.fix_message}."
    return rule.finding(
        path=v.path,
        line=v.line,
        end_line=v.end_line,
        column=v.column,
        message=message,
        fix=fix,
        fixable=v.safe_fix and v.suppression is Suppression.NONE,
        code=v.code,
    )


PARTIAL_TREE_NOTE = (
    " prgate could not list every file of the repository (it is too large for one listing), "
    "so it could not tell the project's own modules from others': this import-order finding "
    "may be wrong. An engineer can confirm it with `ruff check` in the repository."
)


def _noqa_level(rule: Rule) -> Level:
    params = rule.params
    chosen = getattr(params, "added_noqa", "warning")
    return Level(chosen) if chosen in ("error", "warning", "notice") else Level.WARNING


def required_output(ctx: CheckContext) -> RuffOutput:
    """The evaluation's one ruff run (raises a CheckError when it did not happen)."""
    return tool_output(ctx, TOOL)


def _codes(rule: Rule) -> Sequence[str]:
    """Codes a rule asks for by name (a rule without ``select`` reads the team's own run)."""
    if is_format_rule(rule):
        return ()
    return params_of(rule).select or ()


def _run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    output = required_output(ctx)
    result = CheckResult(skipped=list(output.skipped))
    lint_rules = sorted((r for r in rules if not is_format_rule(r)), key=lambda r: r.id)
    format_rules = [r for r in rules if is_format_rule(r)]
    reporter = (lint_rules or format_rules)[0] if rules else None
    if reporter is not None:
        for problem in output.syntax_errors:
            result.findings.append(_syntax_finding(reporter, problem, ctx))
        for dropped in output.dropped:
            result.findings.append(
                reporter.finding(
                    path=dropped.path,
                    message=dropped.notice(),
                    level=Level.NOTICE,
                    fix=f"Whoever keeps {dropped.path} can delete `{dropped.key}` there.",
                )
            )
    for rule in lint_rules:
        params = params_of(rule)
        if params.select is None:
            found = output.team_reportable(params.ignore or ())
        else:
            found = output.reportable(Selection(params.select, params.ignore or ()))
        for v in found:
            if v.suppression is Suppression.ADDED and params.added_noqa == "off":
                continue
            finding = violation_finding(rule, v)
            if output.partial_tree and is_import_order(v.code):
                finding = rule.finding(
                    path=finding.path,
                    line=finding.line,
                    end_line=finding.end_line,
                    column=finding.column,
                    message=finding.message + "." + PARTIAL_TREE_NOTE,
                    fix=finding.fix,
                    code=finding.code,
                )
            result.findings.append(finding)
    for rule in format_rules:
        result.findings.extend(_suppression_findings(rule, output))
        for path in sorted(output.unformatted):
            for hunk in output.format_hunks.get(path, ()):
                result.findings.append(
                    rule.finding(
                        path=path,
                        line=hunk.start,
                        end_line=hunk.end,
                        message=(
                            "ruff would lay out these lines differently (spacing, line breaks, "
                            "quotes): they differ from the team's formatting."
                        ),
                        fixable=True,
                    )
                )
    return result


def _suppression_findings(rule: Rule, output: RuffOutput) -> list[Finding]:
    """One finding for each formatting suppression the change adds."""
    chosen = params_of(rule).added_suppression or "warning"
    if chosen == "off":
        return []
    out = []
    for path in sorted(output.format_suppressions):
        for s in output.format_suppressions[path]:
            lines = f"line {s.start}" if s.start == s.end else f"lines {s.start} to {s.end}"
            out.append(
                rule.finding(
                    path=path,
                    line=s.start,
                    end_line=s.end,
                    message=(
                        f"This change adds a comment (`{s.text}` on line {s.line}) that turns "
                        f"formatting off for {lines}: ruff leaves them as they are written, so "
                        "their layout is not judged. It is named so that a reviewer sees it."
                    ),
                    fix=(
                        "Keep the comment if these lines must keep their own layout (a table, "
                        "for example) and say why next to it; otherwise remove it and run "
                        "`prgate fix`."
                    ),
                    level=Level(chosen),
                )
            )
    return out


def _syntax_finding(rule: Rule, problem: SyntaxProblem, ctx: CheckContext) -> Finding:
    if problem.unreadable is not None:
        return rule.finding(
            path=problem.path,
            message=problem.unreadable,
            fix=(
                "Save the file as UTF-8 text and give it a plain name (letters, digits, `-`, "
                "`_` and `.`), then run the check again."
            ),
        )
    change = ctx.changeset.file(problem.path)
    on_change = change is not None and change.touches(problem.line)
    return rule.finding(
        path=problem.path,
        line=problem.line if on_change else None,
        column=problem.column if on_change else None,
        message=(
            f"This file could not be read as Python (line {problem.line}: {problem.message}), "
            "so its other checks could not run."
        ),
        fix=(
            "Fix the Python syntax error at the line shown (a missing bracket, colon, quote "
            "or indentation is the usual cause), then run the check again."
        ),
    )


KIND = CheckKind(
    name=KIND_NAME,
    params=RuffParams,
    run=_run,
    tool=TOOL,
    tool_codes=_codes,
    looks_for="Python mistakes and formatting (ruff)",
    summary=(
        "what the team's own ruff reports on added lines (their settings on the base branch, "
        "found as ruff finds them; a rule's own select/ignore narrow it), or with format: true, "
        "added lines ruff would lay out differently"
    ),
)
