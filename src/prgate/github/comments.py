"""The one pull-request comment, found by its hidden marker and edited in place."""

from __future__ import annotations

from typing import Any

from prgate.github.errors import GitHubError, NotFound
from prgate.github.http import Http
from prgate.github.pulls import repo_path

#: GitHub refuses comments of 65,536 characters or more.
COMMENT_LIMIT = 65_536


def find_marked(http: Http, repo: str, number: int, marker: str, *, author: str) -> int | None:
    """The id of the comment on PR ``number`` that starts with ``marker`` and was written by
    ``author``, this App's bot (``<app-slug>[bot]``).

    prgate's comment begins with its marker; another bot that quotes it somewhere in its own
    text does not, and one that starts its own comment with it (a forged "nothing blocks"
    report) is not this App's bot: neither is ever taken for prgate's.
    """
    page = 1
    while True:
        batch = http.json(
            "GET",
            f"{repo_path(repo)}/issues/{number}/comments",
            params={"per_page": 100, "page": page},
        )
        if not isinstance(batch, list):
            return None
        for c in batch:
            if isinstance(c, dict) and _is_ours(c, marker, author=author):
                return int(c["id"])
        if len(batch) < 100:
            return None
        page += 1


def _is_ours(comment: dict[str, Any], marker: str, *, author: str) -> bool:
    user = comment.get("user")
    if not isinstance(user, dict) or user.get("type") != "Bot":
        return False
    if str(user.get("login") or "").lower() != author.lower():
        return False
    body = comment.get("body")
    return isinstance(body, str) and body.lstrip().startswith(marker)


def upsert(
    http: Http,
    repo: str,
    number: int,
    body: str,
    *,
    marker: str,
    known_id: int | None,
    author: str,
) -> int:
    """Edit the marked comment written by ``author`` (``known_id`` first, else the one found),
    or post it once."""
    if len(body) >= COMMENT_LIMIT:
        raise ValueError("comment too long")  # the renderer keeps it shorter
    comment_id = known_id
    if comment_id is not None:
        try:
            http.json(
                "PATCH",
                f"{repo_path(repo)}/issues/comments/{comment_id}",
                json={"body": body},
                retry=True,  # sets the same text again: safe to repeat
            )
            return comment_id
        except NotFound:
            comment_id = None  # deleted by someone: look again, then post
        except GitHubError as exc:
            if exc.status != 403:
                raise
            comment_id = None  # not this App's comment after all: look again, then post
    comment_id = find_marked(http, repo, number, marker, author=author)
    if comment_id is not None:
        http.json(
            "PATCH",
            f"{repo_path(repo)}/issues/comments/{comment_id}",
            json={"body": body},
            retry=True,
        )
        return comment_id
    # Never repeated here: a post whose answer was lost may have happened; the next attempt
    # finds it by its marker.
    data = http.json("POST", f"{repo_path(repo)}/issues/{number}/comments", json={"body": body})
    return int(data["id"])


def post(http: Http, repo: str, number: int, body: str) -> int:
    """A new comment (used for replies such as ``/prgate explain``)."""
    data = http.json("POST", f"{repo_path(repo)}/issues/{number}/comments", json={"body": body})
    return int(data["id"])


def body_of(http: Http, repo: str, number: int, comment_id: int) -> str | None:
    """The text of the comment ``comment_id`` on PR ``number``; ``None`` when it is gone."""
    path = f"{repo_path(repo)}/issues/{number}/comments"
    for batch in http.pages(path, "the pull request's comments"):
        for c in batch:
            if isinstance(c, dict) and c.get("id") == comment_id:
                body = c.get("body")
                return body if isinstance(body, str) else None
    return None


def edit(http: Http, repo: str, comment_id: int, body: str) -> None:
    """Set the text of the comment ``comment_id`` (safe to repeat)."""
    if len(body) >= COMMENT_LIMIT:
        raise ValueError("comment too long")
    http.json(
        "PATCH",
        f"{repo_path(repo)}/issues/comments/{comment_id}",
        json={"body": body},
        retry=True,
    )
