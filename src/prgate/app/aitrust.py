"""Whose pull requests the App sends to the AI service, and what the comment says when it stops.

Anyone who can open a pull request could otherwise spend the team's AI budget and have any text
read by the AI service in the team's name. So a pull request from a fork, or by an author without
write access to the repository, is *held*: nothing of it is sent (reviews already cached for
this very repository and path are still used), and every ``llm`` rule says why. A maintainer
lifts the hold for one evaluation by commenting ``/prgate review``: the job carries who asked
(:data:`REQUEST_KEY`), and the request counts only when that person has write access. A later
push is held again, so what is sent is always a version someone with write access looked at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prgate.github.http import Http
from prgate.github.pulls import PullRequest, can_write
from prgate.llm.session import Hold, ReviewSession

#: The job payload's key naming who asked for the AI review with ``/prgate review``.
REQUEST_KEY = "ai_review_by"
#: What a person can do about a hold.
HOW = (
    "Someone with write access to this repository can comment `/prgate review` to have the AI "
    "reviewer read this version of the change."
)


@dataclass(frozen=True)
class AiAccess:
    """Whether a pull request may be sent to the AI service: ``hold`` is ``None`` when it may;
    ``refused`` names a ``/prgate review`` that did not count (its author cannot write)."""

    hold: Hold | None = None
    refused: bool = False


def ai_access(
    http: Http, repo: str, pull: PullRequest, payload: Mapping[str, Any], *, job_pr: int
) -> AiAccess:
    """Whether ``pull`` may be sent to the AI service (asks GitHub for permissions)."""
    if pull.is_fork:
        why = (
            "it comes from a fork, and prgate sends changes from forks only when a maintainer asks"
        )
    elif pull.author is None or not can_write(http, repo, pull.author):
        why = (
            "its author does not have write access to this repository, and prgate sends such "
            "changes only when a maintainer asks"
        )
    else:
        return AiAccess()
    asked = payload.get(REQUEST_KEY) if pull.number == job_pr else None
    if isinstance(asked, str) and asked:
        if can_write(http, repo, asked):
            return AiAccess()
        return AiAccess(Hold(why=why, how=HOW), refused=True)
    return AiAccess(Hold(why=why, how=HOW))


def ai_note(session: ReviewSession | None, access: AiAccess) -> str | None:
    """The comment's plain note when the AI reviewer did not read all of the change because it
    was held or its budget ran out; ``None`` otherwise. prgate's own words only."""
    if session is None:
        return None
    notes: list[str] = []
    if session.held and access.hold is not None:
        notes.append(
            "**The AI reviewer did not read this pull request:** it was not sent to the AI "
            f"service because {access.hold.why}. {HOW}"
            + (
                " A `/prgate review` request by someone without write access was not followed."
                if access.refused
                else ""
            )
        )
    if session.stopped is not None:
        notes.append(
            "**The AI review stopped before it read the whole change:** "
            f"{session.stopped}. The AI review is advisory, so this does not block merging; "
            "what it did not read is listed under Not checked."
        )
    return "\n\n".join(notes) or None
