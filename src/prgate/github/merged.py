"""The pull requests merged into a branch, newest first, from GitHub's list of pull requests.

GitHub lists closed pull requests by their last update (100 a call); the merged ones are kept
and ordered by when they were merged. A merged pull request keeps its base commit (the branch
as it was when the pull request last moved) and its head, so it can be judged again as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prgate.github.http import Http
from prgate.github.pulls import PullRequest, parse_pull, repo_path


@dataclass(frozen=True)
class MergedPull:
    pull: PullRequest
    title: str
    merged_at: str


def merged_pulls(
    http: Http, repo: str, base: str, *, last: int, max_pages: int
) -> list[MergedPull]:
    """Up to ``last`` pull requests merged into the branch ``base``, newest first, reading at
    most ``max_pages`` pages (one call each) of the closed pull requests."""
    found: list[MergedPull] = []
    params = {"state": "closed", "base": base, "sort": "updated", "direction": "desc"}
    for n, batch in enumerate(
        http.pages(f"{repo_path(repo)}/pulls", "the pull requests", params=params)
    ):
        found.extend(m for m in (_merged(item, repo) for item in batch) if m is not None)
        if len(found) >= last or n + 1 >= max_pages:
            break
    found.sort(key=lambda m: (m.merged_at, m.pull.number), reverse=True)
    return found[:last]


def _merged(item: Any, repo: str) -> MergedPull | None:
    if not isinstance(item, Mapping) or not item.get("merged_at"):
        return None
    try:
        pull = parse_pull(item, repo)
    except (KeyError, TypeError, ValueError):
        return None
    if not pull.base_sha or not pull.head_sha:
        return None
    return MergedPull(
        pull=pull, title=str(item.get("title") or ""), merged_at=str(item["merged_at"])
    )
