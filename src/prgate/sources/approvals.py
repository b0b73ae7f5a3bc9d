"""The approvals of a pull request, read from GitHub before judging and attached to its ChangeSet.

Nothing is read unless an enabled rule with ``approvers`` matches a changed file. Then: the
reviews (one listing); when someone's latest review is an approval, the PR's commits (to know
who wrote them), the blob ids of the guarded paths at each approved commit and at head, and the
base's CODEOWNERS, in one GraphQL query; and, for teams that may approve, whether each approving
reviewer belongs to them. Usually three or four calls; one when nobody approved and the code
owners are not asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from prgate.checks import Rule
from prgate.checks.approvals import codeowner_teams, latest_decisions
from prgate.checks.codeowners import LOCATIONS
from prgate.checks.paths import approval_needs
from prgate.github.http import Http
from prgate.github.pulls import PullRequest
from prgate.github.reviews import (
    Contributors,
    MembershipUnreadable,
    fetch_objects,
    is_team_member,
    list_contributors,
    list_reviews,
)
from prgate.model import Approvals, ChangeSet, CodeOwnersFile


def with_approvals(
    http: Http, repo: str, pull: PullRequest, changeset: ChangeSet, rules: Sequence[Rule]
) -> ChangeSet:
    """``changeset`` with the approvals ``rules`` need (unchanged when they need none)."""
    need = approval_needs(changeset, rules)
    if need is None:
        return changeset
    reviews = list_reviews(http, repo, pull.number)
    author = (pull.author or "").casefold()
    approving = [
        r
        for login, r in latest_decisions(reviews).items()
        if r.state == "APPROVED" and login != author
    ]
    contributors = Contributors(frozenset(), complete=True)
    if approving:
        contributors = list_contributors(http, repo, pull.number)
    seen = {c.casefold() for c in contributors.logins}
    candidates = [r for r in approving if r.reviewer.casefold() not in seen]
    if not contributors.complete:
        candidates = []

    oids: list[tuple[str, str]] = []
    if candidates:
        for rev in dict.fromkeys([pull.head_sha, *(r.commit for r in candidates if r.commit)]):
            oids.append((rev, ""))
            oids.extend((rev, path) for path in need.paths)
    texts = [(pull.base_sha, path) for path in LOCATIONS] if need.codeowners else []
    answer = fetch_objects(http, repo, oids, texts=texts) if oids or texts else None

    codeowners = None
    if answer is not None:
        for path in LOCATIONS:
            text = answer.texts.get((pull.base_sha, path))
            if text is not None:
                codeowners = CodeOwnersFile(path=path, text=text)
                break

    teams = dict.fromkeys(need.teams)
    if codeowners is not None:
        teams.update(dict.fromkeys(codeowner_teams(codeowners.text, need.paths)))
    members: set[tuple[str, str]] = set()
    unreadable: set[str] = set()
    for team in teams:
        for review in candidates:
            try:
                if is_team_member(http, team, review.reviewer):
                    members.add((team.casefold(), review.reviewer.casefold()))
            except MembershipUnreadable:
                unreadable.add(team.casefold())
                break

    approvals = Approvals(
        head=pull.head_sha,
        reviews=reviews,
        contributors=contributors.logins,
        all_commits_seen=contributors.complete,
        oids=tuple(
            (rev, path, oid) for (rev, path), oid in (answer.oids if answer else {}).items()
        ),
        team_members=frozenset(members),
        unreadable_teams=frozenset(unreadable),
        codeowners=codeowners,
    )
    return replace(changeset, approvals=approvals)
