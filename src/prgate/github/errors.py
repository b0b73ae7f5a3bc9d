"""Errors from talking to GitHub, typed so that the App can decide what to do with each."""

from __future__ import annotations

import time

from prgate.errors import PrgateError


class GitHubError(PrgateError):
    """A call to GitHub failed. The message names the call and the status, never a token."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class NotFound(GitHubError):
    """GitHub answered 404 (or the App cannot see the resource)."""


class Unprocessable(GitHubError):
    """GitHub refused a write as invalid (422), e.g. a branch update that is not a fast-forward."""


class RateLimited(GitHubError):
    """GitHub asked us to slow down; ``retry_at`` is when (epoch seconds) to try again."""

    #: Whether the job only waits for the budget's reset (it spent nothing it could not
    #: afford): never a reason to give it up.
    waits = False

    def __init__(self, message: str, *, retry_at: float, status: int | None = None) -> None:
        self.retry_at = retry_at
        super().__init__(message, status=status)

    def retry_after(self, now: float | None = None) -> float:
        return max(0.0, self.retry_at - (time.time() if now is None else now))
