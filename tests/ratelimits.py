"""GitHub's answers for a spent rate limit, scripted on the fake GitHub."""

from __future__ import annotations

from fakegithub.fake import FakeGitHub


def spend_rate_limit(gh: FakeGitHub, method: str, path_regex: str, *, reset: int) -> None:
    """The next ``method`` request whose path matches ``path_regex`` gets the 403 GitHub sends
    when the primary rate limit is spent, until ``reset`` (seconds since the epoch)."""
    gh.fail_next(
        method,
        path_regex,
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        body={"message": "API rate limit exceeded"},
    )
