"""A pull request as it is now, and the open pull requests whose head a commit is, read as
two fields of a GraphQL query that reads the change anyway (so they cost no call of their own).

A webhook's pull request may be stale by the time its job runs (the branch moved on, the pull
request was closed, retargeted or relabelled). A job that starts from the event's copy confirms
it with these fields in its first query; when the copy differs from what GitHub says now, the
job reads everything again the usual way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prgate.github.pulls import PullRequest

#: Open pull requests whose head is a commit, asked at once (more: read the usual way).
HEADS_LIMIT = 50
PR_ALIAS = "pullnow"
HEADS_ALIAS = "headsnow"


def state_fields(number: int, sha: str) -> list[str]:
    """The aliased fields that read pull request ``number`` now, and the open pull requests
    whose head is ``sha``."""
    return [
        f"    {PR_ALIAS}: pullRequest(number: {int(number)}) {{ number state isDraft "
        "headRefName headRefOid baseRefName baseRefOid author { login } "
        "labels(first: 100) { totalCount nodes { name } } "
        "headRepository { nameWithOwner } baseRepository { nameWithOwner } }",
        f"    {HEADS_ALIAS}: object(expression: {json.dumps(sha)}) {{ ... on Commit {{ "
        f"associatedPullRequests(first: {HEADS_LIMIT}) {{ totalCount "
        "nodes { number state headRefOid } } } }",
    ]


@dataclass(frozen=True)
class PullNow:
    """What GitHub says now: the pull request, and the open pull requests whose head is the
    commit (``None`` when it could not tell them all)."""

    pull: PullRequest
    heads: tuple[int, ...] | None


def parse_state(answers: Mapping[str, Any], repo: str, sha: str) -> PullNow | None:
    """The answers of :func:`state_fields`; ``None`` when they are missing or odd."""
    node = answers.get(PR_ALIAS)
    if not isinstance(node, dict):
        return None
    try:
        labels = node["labels"]
        if int(labels.get("totalCount") or 0) > len(labels.get("nodes") or ()):
            return None  # more labels than asked for: read the usual way
        head_repo = (node.get("headRepository") or {}).get("nameWithOwner")
        pull = PullRequest(
            number=int(node["number"]),
            state="open" if node.get("state") == "OPEN" else "closed",
            head_sha=str(node["headRefOid"]),
            head_ref=str(node.get("headRefName") or ""),
            head_repo=str(head_repo) if head_repo else None,
            base_ref=str(node.get("baseRefName") or ""),
            base_sha=str(node.get("baseRefOid") or ""),
            base_repo=str((node.get("baseRepository") or {}).get("nameWithOwner") or repo),
            author=str((node.get("author") or {}).get("login") or "") or None,
            labels=tuple(str(n["name"]) for n in labels.get("nodes") or ()),
            changed_files=0,
            draft=bool(node.get("isDraft")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return PullNow(pull, _heads(answers.get(HEADS_ALIAS), sha))


def _heads(node: object, sha: str) -> tuple[int, ...] | None:
    found = node.get("associatedPullRequests") if isinstance(node, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("nodes"), list):
        return None
    if int(found.get("totalCount") or 0) > len(found["nodes"]):
        return None
    out = []
    for n in found["nodes"]:
        if isinstance(n, dict) and n.get("state") == "OPEN" and n.get("headRefOid") == sha:
            out.append(int(n["number"]))
    return tuple(sorted(out))


def same_judgement(hint: PullRequest, now: PullRequest) -> bool:
    """Whether the event's copy of the pull request judges like GitHub's current one: the same
    head, base and everything the change carries (labels, author)."""
    return (
        now.state == "open"
        and hint.state == "open"
        and (now.number, now.head_sha, now.base_sha, now.base_ref, now.base_repo)
        == (hint.number, hint.head_sha, hint.base_sha, hint.base_ref, hint.base_repo)
        and (now.head_repo or "").lower() == (hint.head_repo or "").lower()
        and set(now.labels) == set(hint.labels)
        and _login(now.author) == _login(hint.author)
    )


def _login(author: str | None) -> str:
    """A login as both APIs name it (REST calls an App's bot ``name[bot]``, GraphQL ``name``)."""
    return (author or "").lower().removesuffix("[bot]")
