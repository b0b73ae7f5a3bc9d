"""The one pull-request comment, found by its hidden marker and edited in place."""

from __future__ import annotations

from prgate.github.errors import NotFound
from prgate.github.http import Http
from prgate.github.pulls import repo_path

#: GitHub refuses comments of 65,536 characters or more.
COMMENT_LIMIT = 65_536


def find_marked(http: Http, repo: str, number: int, marker: str) -> int | None:
    """The id of the bot comment on PR ``number`` that starts with ``marker``.

    prgate's comment begins with its marker; another bot that quotes it somewhere in its own
    text does not, and so is never taken for prgate's.
    """
    page = 1
    found: int | None = None
    while True:
        batch = http.json(
            "GET",
            f"{repo_path(repo)}/issues/{number}/comments",
            params={"per_page": 100, "page": page},
        )
        if not isinstance(batch, list):
            return found
        for c in batch:
            if not isinstance(c, dict):
                continue
            user = c.get("user") or {}
            body = str(c.get("body") or "")
            if body.lstrip().startswith(marker) and user.get("type") == "Bot":
                found = found or int(c["id"])
        if len(batch) < 100 or found is not None:
            return found
        page += 1


def upsert(
    http: Http, repo: str, number: int, body: str, *, marker: str, known_id: int | None
) -> int:
    """Edit the marked comment (``known_id`` first, else the one found), or post it once."""
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
    comment_id = find_marked(http, repo, number, marker)
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
