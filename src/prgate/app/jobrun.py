"""What a running job holds: the App's services, the job, and its connection to GitHub."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prgate.app.settings import DEFAULT_LLM_MAX_USD_PER_DAY, BacktestLimits
from prgate.app.store import Job, JobSpec, LeaseLost, Store
from prgate.github.auth import AppAuth
from prgate.github.budget import DEFAULT_LOW_WATER
from prgate.github.http import Http
from prgate.llm.session import LlmUsage, Service
from prgate.sources.basecache import BaseCache
from prgate.sources.fetchplan import DEFAULT_MAX_FETCH_BYTES


@dataclass
class ApiCounter:
    """Counts GitHub calls per worker thread (one job at a time per thread)."""

    local: threading.local = field(default_factory=threading.local)

    def add(self) -> None:
        self.local.n = getattr(self.local, "n", 0) + 1

    def reset(self) -> None:
        self.local.n = 0

    @property
    def value(self) -> int:
        return int(getattr(self.local, "n", 0))


@dataclass
class JobContext:
    store: Store
    auth: AppAuth
    app_id: str
    enqueue: Callable[[JobSpec], None]
    counter: ApiCounter = field(default_factory=ApiCounter)
    observe_conclusion: Callable[[str], None] = lambda _c: None
    observe_seconds: Callable[[float], None] = lambda _s: None
    clock: Callable[[], float] = time.time
    #: The AI service for configs with ``llm: {enabled: true}``; ``None`` when no key is set.
    reviewer: Service | None = None
    observe_llm: Callable[[LlmUsage], None] = lambda _u: None
    #: The most the AI reviewer spends for one installation in a UTC day (US dollars).
    llm_max_usd_per_day: float = DEFAULT_LLM_MAX_USD_PER_DAY
    #: Whether this worker still holds a job (the pool's view, which also knows the jobs a
    #: drain released); without it, the store is asked.
    still_ours: Callable[[int], bool] | None = None
    #: Bytes of file contents read for one pull request at most (``PRGATE_MAX_FETCH_BYTES``).
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES
    #: The backtest of pull requests that change prgate's rules (``backtesting``).
    backtest: BacktestLimits = field(default_factory=BacktestLimits)
    #: Files of base commits already read (configs, packs, settings), shared by every job of
    #: the process: content addressed by the base sha, so never stale.
    base_cache: BaseCache = field(default_factory=BaseCache)
    #: Calls of GitHub's hourly budget an installation keeps in reserve: below it, jobs wait
    #: for the reset (``PRGATE_RATE_LIMIT_LOW_WATER``).
    rate_low_water: int = DEFAULT_LOW_WATER


def fence(ctx: JobContext, job: Job) -> None:
    """Raise :class:`LeaseLost` unless this worker still holds ``job`` (called right before a
    write to GitHub, so that a job taken over by another worker never publishes twice)."""
    if ctx.still_ours is not None:
        ours = ctx.still_ours(job.id)
    else:
        ours = job.owner is None or ctx.store.owns(job.id, owner=job.owner)
    if not ours:
        raise LeaseLost(f"job {job.id} is no longer this worker's to publish")


@dataclass(frozen=True)
class JobRun:
    """One run of one job: what its steps share instead of a thread of arguments."""

    ctx: JobContext
    job: Job
    http: Http

    @property
    def repo(self) -> str:
        return self.job.repo

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def retried(self) -> bool:
        """Whether an earlier attempt of this job may have written to GitHub already."""
        return self.job.attempts > 1 or self.job.deferrals > 0

    def fence(self) -> None:
        fence(self.ctx, self.job)
