"""Reading what approvals depend on: a PR's reviews and commits, team members, blob ids.

Each function is one kind of call (paginated where GitHub pages): the reviews and commits of a
pull request (REST), whether a user is an active member of a team (REST; the App needs the
organization permission Members: read), and the blob ids of paths at several commits together
with a few files' text, in one GraphQL query.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from prgate.github.errors import GitHubError, NotFound
from prgate.github.http import Http
from prgate.github.pulls import repo_path, repository_query
from prgate.model import Review

#: GitHub lists at most this many commits of a pull request.
MAX_PR_COMMITS = 250
#: Object lookups per GraphQL query.
OBJECTS_PER_QUERY = 200


def list_reviews(http: Http, repo: str, number: int) -> tuple[Review, ...]:
    """The PR's submitted reviews, oldest first (pending ones, and reviews by deleted users,
    are left out)."""
    out: list[Review] = []
    path = f"{repo_path(repo)}/pulls/{number}/reviews"
    for batch in http.pages(path, "the pull request's reviews"):
        for item in batch:
            review = _parse_review(item)
            if review is not None:
                out.append(review)
    return tuple(out)


def _parse_review(item: Any) -> Review | None:
    if not isinstance(item, dict):
        return None
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    state = item.get("state")
    commit = item.get("commit_id")
    if not isinstance(login, str) or not isinstance(state, str) or state.upper() == "PENDING":
        return None
    return Review(reviewer=login, state=state.upper(), commit=str(commit or ""))


@dataclass(frozen=True)
class Contributors:
    """Logins of the authors and committers of a PR's commits."""

    logins: frozenset[str]
    #: ``False`` when GitHub's list stopped at its cap: there may be more commits.
    complete: bool


def list_contributors(http: Http, repo: str, number: int) -> Contributors:
    logins: set[str] = set()
    count = 0
    path = f"{repo_path(repo)}/pulls/{number}/commits"
    for batch in http.pages(path, "the pull request's commits"):
        for item in batch:
            count += 1
            if not isinstance(item, dict):
                continue
            for key in ("author", "committer"):
                person = item.get(key)
                if isinstance(person, dict) and isinstance(person.get("login"), str):
                    logins.add(person["login"])
    return Contributors(frozenset(logins), complete=count < MAX_PR_COMMITS)


class MembershipUnreadable(GitHubError):
    """GitHub refused to say who is in a team (the App lacks Members: read)."""


def is_team_member(http: Http, team: str, login: str) -> bool:
    """Whether ``login`` is an active member of ``org/team``; 404 means no."""
    org, _, slug = team.partition("/")
    path = (
        f"/orgs/{quote(org, safe='')}/teams/{quote(slug.lower(), safe='')}"
        f"/memberships/{quote(login, safe='')}"
    )
    try:
        data = http.json("GET", path)
    except NotFound:
        return False
    except GitHubError as exc:
        if exc.status == 403:
            raise MembershipUnreadable(str(exc), status=403) from None
        raise
    return isinstance(data, dict) and data.get("state") == "active"


@dataclass(frozen=True)
class ObjectsAnswer:
    #: ``(rev, path) -> oid`` (``None``: nothing there); path ``""`` asks for the commit itself.
    oids: Mapping[tuple[str, str], str | None]
    #: ``(rev, path) -> text`` of the files asked for with text (``None``: absent or not text).
    texts: Mapping[tuple[str, str], str | None]


def fetch_objects(
    http: Http,
    repo: str,
    oids: Sequence[tuple[str, str]],
    *,
    texts: Sequence[tuple[str, str]] = (),
) -> ObjectsAnswer:
    """Blob (or commit) ids at ``(rev, path)`` and the text of a few files, in one query per
    :data:`OBJECTS_PER_QUERY` lookups."""
    wanted = [(k, False) for k in dict.fromkeys(oids)] + [(k, True) for k in dict.fromkeys(texts)]
    found_oids: dict[tuple[str, str], str | None] = {}
    found_texts: dict[tuple[str, str], str | None] = {}
    for start in range(0, len(wanted), OBJECTS_PER_QUERY):
        chunk = wanted[start : start + OBJECTS_PER_QUERY]
        fields = []
        for i, ((rev, path), with_text) in enumerate(chunk):
            expression = json.dumps(f"{rev}:{path}" if path else rev)
            body = "oid ... on Blob { text isTruncated }" if with_text else "oid"
            fields.append(f"    o{i}: object(expression: {expression}) {{ {body} }}")
        repository = repository_query(http, repo, fields)
        for i, (key, with_text) in enumerate(chunk):
            node = repository.get(f"o{i}")
            oid = node.get("oid") if isinstance(node, dict) else None
            if with_text:
                text = node.get("text") if isinstance(node, dict) else None
                truncated = isinstance(node, dict) and bool(node.get("isTruncated"))
                found_texts[key] = text if isinstance(text, str) and not truncated else None
            else:
                found_oids[key] = str(oid) if isinstance(oid, str) else None
    return ObjectsAnswer(found_oids, found_texts)
