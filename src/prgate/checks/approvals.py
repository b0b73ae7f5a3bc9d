"""Approvals of guarded files: who may give them, and whether one given still holds. Pure.

A rule of the ``paths`` kind with ``approvers`` passes a file once someone it names approved the
pull request, provided that person is not its author nor an author or committer of its commits,
their latest review is an approval, and the file is the same at head as at the commit they
approved (compared by blob ids, fetched before judging). Without reviews (``prgate check`` on a
local repository) the file stays a finding that says whom to ask on the pull request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import field_validator, model_validator

from prgate.checks import Params, Rule
from prgate.checks.codeowners import CodeOwners, Owners, parse
from prgate.model import Approvals, ChangeSet, FileChange, Review

_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Review states that change what a reviewer last said (comments do not).
_DECISIVE = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})
#: GitHub lists at most this many commits of a pull request.
MAX_PR_COMMITS = 250


class Approvers(Params):
    #: GitHub users who may approve (logins, with or without `@`).
    users: tuple[str, ...] = ()
    #: GitHub teams whose members may approve, as `org/team-slug`.
    teams: tuple[str, ...] = ()
    #: Whether the code owners of a file (from the base branch's CODEOWNERS) may approve it.
    codeowners: bool = True

    @field_validator("users")
    @classmethod
    def _logins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(v.strip().removeprefix("@") for v in value)
        for login in out:
            if not _LOGIN.match(login):
                raise ValueError(f"{login!r} is not a GitHub user name")
        return out

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(v.strip().removeprefix("@") for v in value)
        for team in out:
            if not _TEAM.match(team):
                raise ValueError(f"{team!r} is not a team; write it as org/team-slug")
        return out

    @model_validator(mode="after")
    def _someone(self) -> Approvers:
        if not (self.users or self.teams or self.codeowners):
            raise ValueError(
                "approvers names nobody: list `users` or `teams`, or set `codeowners: true`"
            )
        return self


@dataclass(frozen=True)
class Needs:
    """What judging approvals will read: blob ids of ``paths``, these teams, CODEOWNERS."""

    paths: tuple[str, ...]
    teams: tuple[str, ...]
    codeowners: bool


def guarded_paths(change: FileChange) -> tuple[str, ...]:
    """The paths of ``change`` an approval must have seen: at head, and where it came from."""
    paths = [] if change.is_deleted else [change.path]
    if change.is_deleted:
        paths.append(change.old_path or change.path)
    elif change.old_path and change.old_path != change.path:
        paths.append(change.old_path)
    return tuple(paths)


def needs(rules: Sequence[Rule], touched: Iterable[FileChange]) -> Needs:
    """What the shell must fetch for ``rules`` (enabled, with approvers) over ``touched``."""
    paths: dict[str, None] = {}
    for change in touched:
        paths.update(dict.fromkeys(guarded_paths(change)))
    teams: dict[str, None] = {}
    codeowners = False
    for rule in rules:
        approvers = getattr(rule.params, "approvers", None)
        if isinstance(approvers, Approvers):
            teams.update(dict.fromkeys(t.casefold() for t in approvers.teams))
            codeowners = codeowners or approvers.codeowners
    return Needs(tuple(paths), tuple(teams), codeowners)


@dataclass(frozen=True)
class Allowed:
    """Who may approve one file."""

    users: tuple[str, ...]
    teams: tuple[str, ...]
    owners: Owners | None  # ``None``: code owners are not asked
    codeowners_file: str | None

    def lets(self, login: str, approvals: Approvals) -> bool:
        who = login.casefold()
        users = (*self.users, *(self.owners.users if self.owners else ()))
        if any(u.casefold() == who for u in users):
            return True
        teams = (*self.teams, *(self.owners.teams if self.owners else ()))
        return any(approvals.is_member(t, login) for t in teams)

    def teams_in_play(self) -> tuple[str, ...]:
        return (*self.teams, *(self.owners.teams if self.owners else ()))

    def describe(self) -> str:
        parts: list[str] = []
        parts.extend(f"@{u}" for u in self.users)
        if self.teams:
            word = "team" if len(self.teams) == 1 else "teams"
            parts.append(f"a member of the {word} " + _or([f"@{t}" for t in self.teams]))
        if self.owners:
            names = [f"@{u}" for u in self.owners.users] + [f"@{t}" for t in self.owners.teams]
            parts.append(
                f"a code owner of this file ({', '.join(names)}, per {self.codeowners_file})"
            )
        return _or(parts)


def allowed_for(approvers: Approvers, change: FileChange, approvals: Approvals | None) -> Allowed:
    owners: Owners | None = None
    source = None
    if approvers.codeowners:
        file = approvals.codeowners if approvals is not None else None
        owners = Owners()
        if file is not None:
            source = file.path
            table = parse(file.text)
            owners = _merge(table.owners(p) for p in guarded_paths(change))
    return Allowed(approvers.users, approvers.teams, owners, source)


def codeowner_teams(text: str, paths: Iterable[str]) -> tuple[str, ...]:
    """The teams CODEOWNERS names for any of ``paths`` (for the shell to look up)."""
    table: CodeOwners = parse(text)
    teams: dict[str, None] = {}
    for path in paths:
        teams.update(dict.fromkeys(t.casefold() for t in table.owners(path).teams))
    return tuple(teams)


def latest_decisions(reviews: Iterable[Review]) -> dict[str, Review]:
    """Each reviewer's latest approval, change request or dismissal (comments do not count)."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state.upper() in _DECISIVE:
            latest[review.reviewer.casefold()] = review
    return latest


@dataclass(frozen=True)
class Outcome:
    approved: bool
    text: str


def judge(approvers: Approvers, change: FileChange, changeset: ChangeSet) -> Outcome:
    """Whether an approval covers ``change``, and the sentences that say so to the builder."""
    approvals = changeset.approvals
    allowed = allowed_for(approvers, change, approvals)
    who = allowed.describe()
    if not who:
        return Outcome(False, _nobody(approvers, allowed))
    ask = (
        "Changes here need an approving review on the pull request from someone who did not "
        f"open it nor write or commit any of it: {who}."
    )
    if approvals is None or approvals.reviews is None:
        return Outcome(
            False,
            f"{ask} prgate check cannot see reviews, so this stays a finding here; "
            "on GitHub it passes once such a review is given.",
        )
    notes: list[str] = []
    if not approvals.all_commits_seen:
        notes.append(
            f"The pull request has more commits than GitHub lists ({MAX_PR_COMMITS}), so prgate "
            "cannot tell who wrote them all and counts no approval."
        )
        return Outcome(False, f"{ask} {' '.join(notes)}")
    author = (changeset.author or "").casefold()
    contributors = {c.casefold() for c in approvals.contributors}
    for login, review in sorted(latest_decisions(approvals.reviews).items()):
        if review.state.upper() != "APPROVED":
            continue
        name = f"@{review.reviewer}"
        if login == author:
            notes.append(f"{name}'s approval does not count: they opened the pull request.")
            continue
        if login in contributors:
            notes.append(
                f"{name}'s approval does not count: they wrote or committed changes in it."
            )
            continue
        if not allowed.lets(review.reviewer, approvals):
            unread = [t for t in allowed.teams_in_play() if t.casefold() in _unread(approvals)]
            if unread:
                notes.append(
                    f"prgate could not read the members of {_or(['@' + t for t in unread])} "
                    f"to tell whether {name} may approve: the App needs the organization "
                    "permission Members (read)."
                )
            else:
                notes.append(f"{name} approved, but is not among those who may approve this file.")
            continue
        if not review.commit:
            notes.append(
                f"GitHub no longer shows which commit {name} approved, so that approval cannot "
                "be matched to this file as it is now."
            )
            continue
        if not _unchanged(approvals, review.commit, guarded_paths(change)):
            notes.append(
                f"{name} approved commit {review.commit[:12]}, but this file has changed since "
                f"then (the pull request is now at {approvals.head[:12]}), so that approval no "
                "longer covers it."
            )
            continue
        return Outcome(True, f"Approved by {name}.")
    if not notes:
        notes.append("No one who may approve it has approved the pull request yet.")
    return Outcome(False, f"{ask} {' '.join(notes)}")


def _unread(approvals: Approvals) -> set[str]:
    return {t.casefold() for t in approvals.unreadable_teams}


def _unchanged(approvals: Approvals, commit: str, paths: Sequence[str]) -> bool:
    """Whether every one of ``paths`` is the same at ``commit`` as at head (unknown: no)."""
    head = approvals.head
    if not head or not approvals.knows(commit, "") or approvals.oid(commit, "") is None:
        return False  # the reviewed commit itself could not be found
    for path in paths:
        if not (approvals.knows(commit, path) and approvals.knows(head, path)):
            return False
        if approvals.oid(commit, path) != approvals.oid(head, path):
            return False
    return True


def _nobody(approvers: Approvers, allowed: Allowed) -> str:
    if approvers.codeowners and allowed.codeowners_file is None:
        reason = "the rule names no people or teams, and the base branch has no CODEOWNERS file"
    elif approvers.codeowners:
        reason = (
            "the rule names no people or teams, and CODEOWNERS "
            f"({allowed.codeowners_file}) names no owner for this file"
        )
    else:
        reason = "the rule names no people or teams"
    return (
        f"Nobody may approve this change: {reason}. Ask whoever looks after this repository's "
        "prgate rules to say who may approve changes here."
    )


def _merge(owners: Iterable[Owners]) -> Owners:
    users: dict[str, None] = {}
    teams: dict[str, None] = {}
    for o in owners:
        users.update(dict.fromkeys(o.users))
        teams.update(dict.fromkeys(o.teams))
    return Owners(tuple(users), tuple(teams))


def _or(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
