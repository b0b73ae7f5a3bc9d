"""evaluate(): a change and a team's rules in, a verdict out. Deterministic, no network."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace

from prgate.checks import (
    DEFAULT_MAX_FILE_BYTES,
    CheckContext,
    CheckKind,
    CheckResult,
    Reviewer,
    Rule,
    declared_reads,
    registry,
)
from prgate.checks import ruff as ruff_check
from prgate.checks.links import link_findings
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

CONFIG_CHANGED = "config/changed"


def evaluate(
    changeset: ChangeSet,
    config: Config,
    *,
    reviewer: Reviewer | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    kinds: Mapping[str, CheckKind] | None = None,
) -> Report:
    """Judge ``changeset`` by ``config``'s rules.

    A rule whose check cannot run at all becomes an ``error`` finding: the gate fails closed.
    Files that cannot be analysed (binary, links, submodules, too large) are listed as skipped.
    ``kinds`` replaces the registry of check kinds (for tests of the engine itself).
    """
    kinds = kinds if kinds is not None else registry()
    rules = [r for r in config.rules if r.enabled]
    # Evaluation reads only what the rules declared (and the sources fetched before judging).
    reads = declared_reads(rules, kinds)
    changeset = changeset.reading_only(head=reads.head, base=reads.base)
    result = CheckResult()
    result.extend(_file_notices(changeset, max_file_bytes))
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
        ruff_config=config.ruff,
        reviewer=reviewer,
        max_file_bytes=max_file_bytes,
    )
    ruff_rules = [r for r in rules if r.check in kinds and kinds[r.check].ruff_codes is not None]
    broken: set[str] = set()
    if ruff_rules:
        codes = sorted({c for r in ruff_rules for c in _ruff_codes(kinds[r.check], r)})
        try:
            output = ruff_check.run_batch(
                ctx, codes=codes, rules=ruff_rules, max_file_bytes=max_file_bytes
            )
        except Exception as exc:  # fail closed: every rule that needed ruff reports it
            for rule in ruff_rules:
                result.findings.append(_cannot_run(rule, _describe(exc)))
                broken.add(rule.id)
        else:
            ctx = replace(ctx, ruff=output)

    for name in sorted(by_kind):
        group = [r for r in by_kind[name] if r.id not in broken]
        if not group:
            continue
        try:
            result.extend(kinds[name].run(ctx, group))
        except Exception as exc:  # a bug or an unexpected input must not pass the change
            result.findings.extend(_cannot_run(rule, _describe(exc)) for rule in group)

    findings = _on_changed_lines(changeset, result.findings)
    return _report(findings, result.skipped)


def _ruff_codes(kind: CheckKind, rule: Rule) -> Sequence[str]:
    assert kind.ruff_codes is not None
    return kind.ruff_codes(rule)


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


def _file_notices(changeset: ChangeSet, max_file_bytes: int) -> CheckResult:
    out = CheckResult()
    for f in changeset.files:
        if f.is_deleted:
            continue
        reason = _not_analysed_reason(f, max_file_bytes)
        if reason:
            out.skipped.append(Skipped(rule=None, path=f.path, reason=reason))
    return out


def _not_analysed_reason(f: FileChange, max_file_bytes: int) -> str | None:
    if f.is_submodule:
        return "a submodule: prgate does not look inside other repositories"
    if f.is_symlink:
        return "a symbolic link: prgate does not follow links"
    if f.is_binary:
        return "a binary file: its contents were not checked"
    if f.size is not None and f.size > max_file_bytes:
        return (
            f"larger than {max_file_bytes // 1024} KiB ({f.size // 1024} KiB): "
            "its contents were not checked"
        )
    return None


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
    """Keep findings about the change: whole-file ones, or those overlapping added lines."""
    files = {f.path: f for f in changeset.files}
    kept = []
    for finding in findings:
        f = files.get(finding.path) if finding.path is not None else None
        if f is None or finding.line is None or f.touches(finding.line, finding.end_line):
            kept.append(finding)
    return kept


def _report(findings: Sequence[Finding], skipped: Sequence[Skipped]) -> Report:
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
        Fix(path=path, rules=tuple(sorted(ids)), description=_fix_description(ids))
        for path, ids in sorted(fix_rules.items())
    )
    return Report(
        conclusion=conclusion,
        findings=tuple(unique),
        skipped=tuple(skipped_unique),
        fixes=fixes,
    )


def _fix_description(rule_ids: set[str]) -> str:
    parts = []
    if any(r.endswith("ruff-format") for r in rule_ids):
        parts.append("reformat the file")
    if any(not r.endswith("ruff-format") for r in rule_ids):
        parts.append("apply ruff's automatic fixes")
    return " and ".join(parts)
