"""What the App keeps: deliveries, jobs, runs, and the ids of what it created on GitHub.

The App talks to a :class:`Store`; ``sqlite_store`` implements it on SQLite. A PostgreSQL backend
implements the same interface later. Jobs are keyed by (kind, repository, PR, head sha): a job
already queued for the same key absorbs new requests for it (coalescing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class JobKind(StrEnum):
    EVALUATE = "evaluate"
    FIX = "fix"
    EXPLAIN = "explain"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class JobSpec:
    """A job to enqueue. ``sha`` may be empty when the event does not name a commit."""

    kind: JobKind
    repo: str
    installation_id: int
    pr: int
    sha: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    id: int
    kind: JobKind
    repo: str
    installation_id: int
    pr: int
    sha: str
    payload: Mapping[str, Any]
    state: JobState
    #: How many times a worker started this job (1 on the first run).
    attempts: int
    #: How many times it was put back because GitHub's rate limit was reached.
    deferrals: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    action: str | None
    installation_id: int | None
    received_at: float


@dataclass(frozen=True)
class RunRecord:
    """One evaluation, kept for later analysis."""

    repo: str
    pr: int
    sha: str
    config_sha: str
    conclusion: str
    counts: Mapping[str, int]
    started_at: float
    finished_at: float
    #: Seconds spent on each step (fetch, config, evaluate, publish).
    timings: Mapping[str, float] = field(default_factory=dict)
    api_calls: int = 0
    reason: str | None = None


class StoreError(Exception):
    """The store could not do what was asked (the database is unavailable, full, locked)."""


class Store(Protocol):
    def ping(self) -> None:
        """Raise :class:`StoreError` when the store cannot be used."""

    def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool:
        """Record ``delivery`` and enqueue its jobs in one step.

        ``False`` (and nothing enqueued) when a delivery with that id was already recorded.
        """

    def record_installation(
        self, installation_id: int, *, account: str, action: str, repos: Sequence[str]
    ) -> None: ...

    def enqueue(self, spec: JobSpec) -> int: ...

    def claim(self, *, now: float) -> Job | None:
        """The oldest due job whose PR has no other job running, marked running."""

    def finish(self, job_id: int, *, state: JobState, error: str | None = None) -> None: ...

    def defer(self, job_id: int, *, run_at: float, error: str, rate_limited: bool) -> None:
        """Put a running job back in the queue until ``run_at``."""

    def recover(self) -> int:
        """Requeue jobs left running by a process that stopped; how many."""

    def job(self, job_id: int) -> Job | None: ...

    def jobs(self) -> list[Job]: ...

    def counts(self) -> dict[str, int]:
        """Number of jobs in each state."""

    def next_due(self) -> float | None:
        """When the earliest queued job becomes due."""

    def check_run_id(self, repo: str, sha: str) -> int | None: ...

    def save_check_run(self, repo: str, sha: str, run_id: int) -> None: ...

    def comment_id(self, repo: str, pr: int) -> int | None: ...

    def save_comment(self, repo: str, pr: int, comment_id: int) -> None: ...

    def save_fix_commit(self, repo: str, pr: int, *, commit: str, parent: str) -> None: ...

    def is_fix_commit(self, repo: str, sha: str) -> bool: ...

    def record_run(self, run: RunRecord) -> None: ...

    def runs(self, *, repo: str | None = None, limit: int = 100) -> list[RunRecord]: ...

    def last_run(self, repo: str, pr: int) -> RunRecord | None: ...

    def close(self) -> None: ...
