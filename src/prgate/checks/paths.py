"""The ``paths`` check kind: files a change may not touch, or may touch only with an approval.

A file counts when its path at head *or* its old path matches: moving a file out of a guarded
folder, or deleting it, touches the guarded folder too. Every kind of file counts (binary files,
links and submodules included), since only the path is judged. With ``approvers``, a file passes
once someone the rule names approved the pull request as the file is now (see ``approvals``).
``unless_label`` is still read, so that old configs load, but no label lifts anything: the App
cannot tell who applied a label, and the builder or their agent can apply one.
"""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.approvals import Approvers, Needs, judge, needs
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.model import ChangeSet, FileChange, FileStatus

#: What ``prgate config validate`` says about ``unless_label``.
UNLESS_LABEL_DEPRECATED = (
    "`unless_label` no longer lets a change through: anyone who can label a pull request, its "
    "author or their AI agent included, could add the label. It is ignored."
)
UNLESS_LABEL_HINT = (
    "Remove it and name who may approve instead, under `approvers` "
    "(`users`, `teams` as org/team, and `codeowners: true` for the code owners)."
)


class PathsParams(Params):
    #: Gitignore-style patterns of the guarded paths.
    paths: Globs
    #: Who may approve a change to these paths: `users` (GitHub logins), `teams` (`org/team-slug`)
    #: and `codeowners` (`true`: each file's code owners in the base branch's CODEOWNERS). An
    #: approving review counts when its author is neither the pull request's author nor an author
    #: or committer of its commits, for the files as they were at the commit it approved. Without
    #: `approvers`, nobody can approve: the paths are forbidden.
    approvers: Approvers | None = None
    #: Deprecated and ignored: a label lifts nothing (anyone who can label a pull request, its
    #: author included, could add it). Still read so that older configs load.
    unless_label: str | None = None


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    for rule in rules:
        params = rule.params
        assert isinstance(params, PathsParams)
        matcher = compile_globs(params.paths)
        for change in ctx.changeset.files:
            message = _describe(change, matcher)
            if message is None:
                continue
            if params.approvers is not None:
                outcome = judge(params.approvers, change, ctx.changeset)
                if outcome.approved:
                    continue
                message = f"{message} {outcome.text}"
            result.findings.append(rule.finding(path=change.path, message=message))
    return result


def approval_needs(changeset: ChangeSet, rules: Sequence[Rule]) -> Needs | None:
    """What judging ``rules`` will read about approvals; ``None`` when no enabled rule with
    ``approvers`` matches a changed file (then nothing needs fetching)."""
    wanted = [
        r
        for r in rules
        if r.enabled
        and r.check == KIND.name
        and isinstance(r.params, PathsParams)
        and r.params.approvers is not None
    ]
    touched: dict[str, FileChange] = {}
    for rule in wanted:
        assert isinstance(rule.params, PathsParams)
        matcher = compile_globs(rule.params.paths)
        for change in changeset.files:
            if _describe(change, matcher) is not None:
                touched[change.path] = change
    if not touched:
        return None
    return needs(wanted, touched.values())


def _describe(change: FileChange, matcher: Matcher) -> str | None:
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
    return what


KIND = CheckKind(
    name="paths",
    params=PathsParams,
    run=run,
    summary=(
        "Reports every changed file whose path (or old path, for moved and deleted files) "
        "matches `paths`; with `approvers`, a file passes once someone named there (not the "
        "pull request's author nor an author or committer of its commits) approved the pull "
        "request, and the file has not changed since the commit they approved."
    ),
)
