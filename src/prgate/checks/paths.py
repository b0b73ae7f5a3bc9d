"""The ``paths`` check kind: files a change may not touch, or may touch only with a label.

A file counts when its path at head *or* its old path matches: moving a file out of a guarded
folder, or deleting it, touches the guarded folder too. Every kind of file counts (binary files,
links and submodules included), since only the path is judged. With ``unless_label``, a pull
request that carries that label passes (labels are compared without regard to case, as GitHub
does).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import field_validator

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.model import FileChange, FileStatus


class PathsParams(Params):
    #: Gitignore-style patterns of the guarded paths.
    paths: Globs
    #: A pull-request label that allows the change (for protected paths).
    unless_label: str | None = None

    @field_validator("unless_label")
    @classmethod
    def _label_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("unless_label is empty; name the label or remove the setting")
        return value.strip() if value is not None else None


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    labels = {label.casefold() for label in ctx.changeset.labels}
    for rule in rules:
        params = rule.params
        assert isinstance(params, PathsParams)
        if params.unless_label is not None and params.unless_label.casefold() in labels:
            continue
        matcher = compile_globs(params.paths)
        for change in ctx.changeset.files:
            message = _describe(change, matcher, params.unless_label)
            if message is not None:
                result.findings.append(rule.finding(path=change.path, message=message))
    return result


def _describe(change: FileChange, matcher: Matcher, label: str | None) -> str | None:
    head_pattern = None if change.is_deleted else matcher.matching_pattern(change.path)
    old_path = change.old_path if change.old_path not in (None, change.path) else None
    old_pattern = matcher.matching_pattern(old_path) if old_path is not None else None
    if change.is_deleted and old_pattern is None:
        old_path, old_pattern = change.path, matcher.matching_pattern(change.path)
    if head_pattern is None and old_pattern is None:
        return None

    if change.status is FileStatus.DELETED:
        what = (
            f"This change deletes {change.path}, which matches the guarded pattern {old_pattern}."
        )
    elif old_pattern is not None and head_pattern is None:
        what = (
            f"This change moves {old_path} (matching the guarded pattern {old_pattern}) "
            f"to {change.path}."
        )
    elif old_pattern is not None:
        what = (
            f"This change moves {old_path} to {change.path}; both match guarded patterns "
            f"({old_pattern}, {head_pattern})."
            if old_pattern != head_pattern
            else f"This change moves {old_path} to {change.path}; both match the guarded "
            f"pattern {head_pattern}."
        )
    else:
        verb = "adds" if change.status is FileStatus.ADDED else "changes"
        what = (
            f"This change {verb} {change.path}, which matches the guarded pattern {head_pattern}."
        )
    if label is not None:
        what += f" Changes here need the label “{label}” on the pull request."
    return what


KIND = CheckKind(
    name="paths",
    params=PathsParams,
    run=run,
    summary=(
        "Reports every changed file whose path (or old path, for moved and deleted files) "
        "matches `paths`; with `unless_label`, a pull request carrying that label passes."
    ),
)
