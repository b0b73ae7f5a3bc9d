"""evaluate(): a change and a team's rules in, a verdict out. Deterministic, no network."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from prgate.checks import (
    DEFAULT_MAX_FILE_BYTES,
    CheckContext,
    CheckKind,
    CheckResult,
    Reviewer,
    Rule,
    declared_reads,
    read_settings,
    registry,
)
from prgate.checks.links import link_findings
from prgate.checks.text import file_size, head_text, whole_file_judged
from prgate.checks.tools import Tool, run_tools
from prgate.config import Config, is_config_path
from prgate.model import (
    ChangeSet,
    Conclusion,
    FileChange,
    Finding,
    Fix,
    Level,
    Report,
    Skipped,
)

if TYPE_CHECKING:
    from prgate.checks.flagsandbox import Limits

CONFIG_CHANGED = "config/changed"


def evaluate(
    changeset: ChangeSet,
    config: Config,
    *,
    reviewer: Reviewer | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    kinds: Mapping[str, CheckKind] | None = None,
    scan_limits: Limits | None = None,
) -> Report:
    """Judge ``changeset`` by ``config``'s rules.

    A rule whose check cannot run at all becomes an ``error`` finding: the gate fails closed.
    A file that cannot be read (too large, not text) is a finding of each enabled rule whose
    scope holds it, at that rule's level; a file no enabled rule judges (an image, a font), a
    link or a submodule is listed as skipped. ``kinds`` replaces the registry of check kinds
    (for tests of the engine itself); ``scan_limits`` bounds the isolated Python parser.
    """
    kinds = kinds if kinds is not None else registry()
    rules = [r for r in config.rules if r.enabled]
    # Evaluation reads only what the rules declared (and the sources fetched before judging).
    reads = declared_reads(rules, kinds)
    settings = read_settings(reads, changeset, lambda ps: {p: changeset.read_base(p) for p in ps})
    changeset = changeset.reading_only(head=reads.head, base=reads.base | settings.keys())
    result = CheckResult()
    result.extend(_unreadable_files(changeset, rules, kinds, max_file_bytes))
    result.findings.extend(_config_changed(changeset, config))
    result.findings.extend(link_findings(changeset, rules))

    by_kind: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules:
        if rule.check not in kinds:
            result.findings.append(
                _cannot_run(rule, f"its check kind '{rule.check}' does not exist")
            )
            continue
        by_kind[rule.check].append(rule)

    ctx = CheckContext(
        changeset=changeset,
        reviewer=reviewer,
        max_file_bytes=max_file_bytes,
        scan_limits=scan_limits,
        settings=settings,
        rules=tuple(rules),
    )
    # Each external tool runs once for all the rules that read it; a team's tool settings the
    # tool refuses raise a ConfigError, as prgate's own would.
    broken: set[str] = set()
    for tool_rules, exc in run_tools(ctx, kinds):
        for rule in tool_rules:
            result.findings.append(_cannot_run(rule, _describe(exc)))
            broken.add(rule.id)

    for name in sorted(by_kind):
        group = [r for r in by_kind[name] if r.id not in broken]
        if not group:
            continue
        try:
            result.extend(kinds[name].run(ctx, group))
        except Exception as exc:  # a bug or an unexpected input must not pass the change
            result.findings.extend(_cannot_run(rule, _describe(exc)) for rule in group)

    findings = _on_changed_lines(changeset, result.findings)
    tools = {r.id: kinds[r.check].tool for r in rules if r.check in kinds}
    report = _report(findings, result.skipped, tools)
    fired = {f.rule for f in report.findings}
    return replace(
        report,
        config_source=config.source,
        config_notes=tuple(config.notices),
        rule_why=tuple((r.id, r.why) for r in config.rules if r.id in fired and r.why.strip()),
        anchor=next(
            (f.path for f in changeset.files if not f.is_deleted),
            changeset.files[0].path if changeset.files else None,
        ),
    )


def _describe(exc: BaseException) -> str:
    # Only the exception's type and our own error messages: contents of the change (which may
    # hold secrets) never travel through exception text into a report.
    from prgate.errors import PrgateError

    if isinstance(exc, PrgateError):
        return str(exc)
    return f"an internal error occurred ({type(exc).__name__})"


def _cannot_run(rule: Rule, why: str) -> Finding:
    return Finding(
        rule=rule.id,
        level=Level.ERROR,
        path=None,
        line=None,
        end_line=None,
        title=f"prgate could not run the rule “{rule.title}”",
        message=(
            f"The rule {rule.id} could not check this change: {why}. "
            "Because the change was not judged by this rule, it cannot pass yet."
        ),
        fix=(
            "Run the check again. If this keeps happening, ask whoever maintains prgate "
            "for your team to look at it; the change itself may be fine."
        ),
    )


def _unreadable_files(
    changeset: ChangeSet,
    rules: Sequence[Rule],
    kinds: Mapping[str, CheckKind],
    max_file_bytes: int,
) -> CheckResult:
    """What cannot be read: a finding of each enabled rule whose scope holds it, else a notice."""
    out = CheckResult()
    for f in changeset.files:
        if f.is_deleted:
            continue
        problem = _not_analysed(f, max_file_bytes)
        if problem is None:
            continue
        scoped = [] if problem.notice_only else _rules_in_scope(f, rules, kinds)
        if not scoped:
            out.skipped.append(Skipped(rule=None, path=f.path, reason=problem.notice))
            continue
        for rule in scoped:
            looks_for = kinds[rule.check].looks_for or f"the rule “{rule.title}”"
            out.findings.append(
                rule.cannot_check(
                    path=f.path,
                    looks_for=looks_for,
                    message=f"{problem.message}, so prgate could not check it for {looks_for}.",
                    fix=problem.fix,
                )
            )
    return out


def _rules_in_scope(
    f: FileChange, rules: Sequence[Rule], kinds: Mapping[str, CheckKind]
) -> list[Rule]:
    scoped = []
    for rule in rules:
        kind = kinds.get(rule.check)
        if kind is None:
            continue
        if kind.in_scope is not None:
            in_scope = kind.in_scope
        elif kind.tool is not None:  # a tool kind judges the files its tool takes
            in_scope = _tool_scope(kind.tool)
        else:
            continue
        try:
            wanted = in_scope(rule, f)
        except Exception:  # a scope that cannot be decided holds the file: fail closed
            wanted = True
        if wanted:
            scoped.append(rule)
    return scoped


def _tool_scope(tool: Tool[Any]) -> Callable[[Rule, FileChange], bool]:
    return lambda rule, f: tool.takes(f.path)


@dataclass(frozen=True)
class _Unreadable:
    #: For the builder, finished by ", so prgate could not check it for ...".
    message: str
    fix: str
    #: The reason a file nobody judges is listed as not checked.
    notice: str
    #: Links and submodules are not judged as files by any rule.
    notice_only: bool = False


_SPLIT_FIX = (
    "Split it into smaller files, each under {limit}. If it is data or generated output that "
    "does not need this check, ask whoever maintains your team's prgate rules to leave it out "
    "of the rule."
)
_NOT_TEXT_FIX = (
    "Save it as plain UTF-8 text (the encoding Python and most tools expect), then run the check "
    "again. If it is not meant to be text, give it a name that says what kind of file it is."
)


def _not_analysed(f: FileChange, max_file_bytes: int) -> _Unreadable | None:
    if f.is_submodule:
        return _Unreadable(
            "", "", "a submodule: prgate does not look inside other repositories", True
        )
    if f.is_symlink:
        return _Unreadable("", "", "a symbolic link: prgate does not follow links", True)
    size = file_size(f)
    if size is not None and size > max_file_bytes:
        limit, actual = _size_words(max_file_bytes), _size_words(size, exact=False)
        return _Unreadable(
            message=f"This file is larger than {limit} ({actual})",
            fix=_SPLIT_FIX.format(limit=limit),
            notice=f"larger than {limit} ({actual}): its contents were not checked",
        )
    if f.is_binary and head_text(f) is None:
        unread = f.head_bytes() is None
        return _Unreadable(
            message=(
                "This file is marked binary and prgate could not read its contents"
                if unread
                else "This file is not text: it holds binary data (such as NUL bytes)"
            ),
            fix=_NOT_TEXT_FIX,
            notice="a binary file: its contents were not checked",
        )
    return None


def _size_words(size: int, *, exact: bool = True) -> str:
    """``1 MiB`` for a round limit; else ``1,074 KiB``; ``900 bytes`` under a KiB."""
    if exact and size and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024:
        return f"{size // 1024:,} KiB"
    return f"{size} bytes"


def _config_changed(changeset: ChangeSet, config: Config) -> list[Finding]:
    out = []
    for f in changeset.files:
        if not (is_config_path(f.path) or (f.old_path and is_config_path(f.old_path))):
            continue
        out.append(
            Finding(
                rule=CONFIG_CHANGED,
                level=Level.WARNING,
                path=f.path,
                line=None,
                end_line=None,
                title="This change edits prgate's own rules",
                message=(
                    f"{f.path} holds the rules prgate applies to every change. This change is "
                    f"still judged by the rules as they are on {changeset.base_name}; the edit "
                    "takes effect once it is merged."
                ),
                fix=(
                    "Ask an engineering lead to review this edit to the team's rules before "
                    "merging."
                ),
            )
        )
    return out


def _on_changed_lines(changeset: ChangeSet, findings: Sequence[Finding]) -> list[Finding]:
    """Keep findings about the change: whole-file ones, or those overlapping added lines.

    A file its source marked binary has no diff, so every line of it counts as changed.
    """
    files = {f.path: f for f in changeset.files}
    kept = []
    for finding in findings:
        f = files.get(finding.path) if finding.path is not None else None
        if (
            f is None
            or finding.line is None
            or whole_file_judged(f)
            or f.touches(finding.line, finding.end_line)
        ):
            kept.append(finding)
    return kept


def _report(
    findings: Sequence[Finding],
    skipped: Sequence[Skipped],
    tools: Mapping[str, Tool[Any] | None],
) -> Report:
    unique = sorted(set(findings), key=Finding.sort_key)
    skipped_unique = sorted(set(skipped), key=lambda s: (s.path or "", s.rule or "", s.reason))
    conclusion = (
        Conclusion.FAILURE if any(f.level is Level.ERROR for f in unique) else Conclusion.SUCCESS
    )
    fix_rules: dict[str, set[str]] = defaultdict(set)
    for f in unique:
        if f.fixable and f.path is not None:
            fix_rules[f.path].add(f.rule)
    fixes = tuple(
        Fix(path=path, rules=tuple(sorted(ids)), description=_fix_description(ids, tools))
        for path, ids in sorted(fix_rules.items())
    )
    return Report(
        conclusion=conclusion,
        findings=tuple(unique),
        skipped=tuple(skipped_unique),
        fixes=fixes,
    )


def _fix_description(rule_ids: set[str], tools: Mapping[str, Tool[Any] | None]) -> str:
    """What the fixes of ``rule_ids`` do, in the words of the tools that make them."""
    by_tool: dict[int, tuple[Tool[Any] | None, set[str]]] = {}
    for rule_id in sorted(rule_ids):
        tool = tools.get(rule_id)
        by_tool.setdefault(id(tool), (tool, set()))[1].add(rule_id)
    parts = [
        tool.fix_summary(ids) if tool is not None else "apply automatic fixes"
        for tool, ids in by_tool.values()
    ]
    return " and ".join(p for p in parts if p)
