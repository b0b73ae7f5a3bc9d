"""oxlint and oxfmt on the tool seam (:mod:`prgate.checks.tools`): the settings files they read
at base, their one batched run per evaluation, and their fixes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from prgate.checks import CheckContext, Reads, Rule
from prgate.checks.tools import FixedFile, FixRequest, Tool
from prgate.checks.web.hunks import apply, introduced
from prgate.checks.web.settings import (
    FORMAT_SUFFIXES,
    LOCKFILES,
    SETTINGS_NAMES,
    in_scope,
    is_format_rule,
)
from prgate.checks.web.tools import WebOutput, run_tools
from prgate.model import ChangeSet

#: What every web rule reads: the base's settings files above each changed file.
WEB_READS = Reads(settings=frozenset(SETTINGS_NAMES))


def texts_for(
    rules: Sequence[Rule], heads: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Of ``heads`` (path -> text at head), the files the lint rules and the formatting rules
    of ``rules`` judge: (lint files, format files)."""
    lint_rules = [r for r in rules if not is_format_rule(r)]
    format_rules = [r for r in rules if is_format_rule(r)]
    lint = {p: t for p, t in heads.items() if any(in_scope(r, p) for r in lint_rules)}
    fmt = {p: t for p, t in heads.items() if any(in_scope(r, p) for r in format_rules)}
    return lint, fmt


def changed_heads(ctx: CheckContext) -> dict[str, str]:
    """Head texts of the changed files with added lines that can be read."""
    out: dict[str, str] = {}
    for f in ctx.analysable():
        text = f.head_text() if f.added else None
        if text is not None:
            out[f.path] = text
    return out


class WebTool(Tool[WebOutput]):
    name = "oxlint and oxfmt"
    reads = WEB_READS

    def takes(self, path: str) -> bool:
        return path.lower().endswith(FORMAT_SUFFIXES) and path.rsplit("/", 1)[-1] not in LOCKFILES

    def run(self, ctx: CheckContext, rules: Sequence[Rule], codes: Sequence[str]) -> WebOutput:
        lint, fmt = texts_for(rules, changed_heads(ctx))
        if not lint and not fmt:
            return WebOutput()
        return run_tools(ctx.settings, lint=lint, fmt=fmt)

    def fix(self, request: FixRequest) -> dict[str, FixedFile]:
        """oxlint's safe fixes, then oxfmt's layout, each kept only where it overlaps lines the
        change added, for the files with fixable findings."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for rule, finding in request.findings:
            if finding.path is not None:
                wanted[finding.path].add(rule.id)
        heads: dict[str, str] = {}
        for path, data in request.heads.items():
            if path in wanted:
                try:
                    heads[path] = data.decode("utf-8")
                except UnicodeDecodeError:
                    continue
        fixed = fixed_contents(request.changeset, request.settings, request.rules, heads)
        return {
            path: FixedFile(
                content=text.encode("utf-8"),
                rules=tuple(sorted(wanted[path])),
                description="applied oxlint's safe fixes and oxfmt's layout to the added lines",
            )
            for path, text in fixed.items()
        }

    def fix_summary(self, rule_ids: Collection[str]) -> str:
        return "apply oxlint's safe fixes and oxfmt's layout to the added lines"


TOOL = WebTool()


def fixed_contents(
    changeset: ChangeSet,
    settings: Mapping[str, bytes | None],
    rules: Sequence[Rule],
    heads: Mapping[str, str],
) -> dict[str, str]:
    """Path -> new contents, for the files of ``heads`` a fix would change.

    Lint fixes come first, on added lines only; the layout of the result is then fixed where
    it overlaps added lines (lines that shifted keep their "added" mark by position).
    """
    lint, fmt = texts_for(rules, heads)
    if not lint and not fmt:
        return {}
    changes = {f.path: f for f in changeset.files}
    first = run_tools(settings, lint=lint, fmt={}, lint_fix=True) if lint else WebOutput()
    texts = {**fmt, **lint}
    for path, fixed in first.lint_fixed.items():
        texts[path] = apply(lint[path], introduced(lint[path], fixed, changes[path].touches))
    second = run_tools(settings, lint={}, fmt={p: texts[p] for p in fmt}) if fmt else WebOutput()
    out: dict[str, str] = {}
    for path, text in texts.items():
        new = text
        if path in second.formatted:
            new = apply(text, introduced(text, second.formatted[path], changes[path].touches))
        if new != heads[path]:
            out[path] = new
    return out
