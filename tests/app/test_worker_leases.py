"""The worker pool's leases: heartbeats, takeover fencing, draining on shutdown, give-up."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pgdb import fresh_database
from waiting import wait_until

from prgate.app.store import Job, JobKind, JobSpec, JobState, LeaseLost, Store, open_store
from prgate.app.worker import MAX_ATTEMPTS, WorkerPool


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'w.db'}")
        yield s
        s.close()
        return
    with fresh_database() as url:
        s = open_store(url, pool_size=4)
        try:
            yield s
        finally:
            s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    yield s
    s.close()


class Recorder:
    """A job handler that waits to be let go, and records what it did."""

    def __init__(self, pool_ref: Callable[[], WorkerPool], *, publish_checked: bool) -> None:
        self.started = threading.Event()
        self.go = threading.Event()
        self.published: list[int] = []
        self.results: list[tuple[int, str]] = []
        self.given_up: list[tuple[int, str]] = []
        self._pool = pool_ref
        self._checked = publish_checked

    def handle(self, job: Job) -> str:
        self.started.set()
        assert self.go.wait(10)
        if self._checked:
            self._pool().check(job.id)  # right before writing to GitHub
        self.published.append(job.id)
        return "success"

    def give_up(self, job: Job, reason: str) -> None:
        self.given_up.append((job.id, reason))

    def on_result(self, job: Job, result: str) -> None:
        self.results.append((job.id, result))


def make_pool(
    store: Store, *, lease: float = 60.0, workers: int = 1
) -> tuple[WorkerPool, Recorder]:
    holder: list[WorkerPool] = []
    rec = Recorder(lambda: holder[0], publish_checked=True)
    pool = WorkerPool(
        store,
        rec.handle,
        rec.give_up,
        workers=workers,
        lease=lease,
        on_result=rec.on_result,
        backoff=lambda _a: 0.0,
    )
    holder.append(pool)
    return pool, rec


@contextmanager
def running_pool(store: Store, *, lease: float = 60.0) -> Iterator[tuple[WorkerPool, Recorder]]:
    """A started pool of one worker, drained at the end."""
    pool, rec = make_pool(store, lease=lease)
    pool.start()
    try:
        yield pool, rec
    finally:
        pool.drain(grace=5)


def spec(pr: int = 1, sha: str = "a") -> JobSpec:
    return JobSpec(JobKind.EVALUATE, "o/r", 1, pr, sha)


def test_each_pool_has_an_owner_id_of_host_pid_and_a_random_part(sqlite_store: Store) -> None:
    a, _ = make_pool(sqlite_store)
    b, _ = make_pool(sqlite_store)
    assert re.fullmatch(rf"{re.escape(socket.gethostname())}:{os.getpid()}:[0-9a-f]{{8}}", a.owner)
    assert a.owner != b.owner
    with pytest.raises(ValueError):
        WorkerPool(sqlite_store, lambda j: "", lambda j, r: None, lease=0)


def test_drain_lets_a_job_finish_within_the_grace_period(sqlite_store: Store) -> None:
    job_id = sqlite_store.enqueue(spec())
    pool, rec = make_pool(sqlite_store)
    pool.start()
    assert rec.started.wait(10)
    threading.Timer(0.1, rec.go.set).start()
    assert pool.drain(grace=10) == 0
    assert rec.results == [(job_id, "success")]
    assert sqlite_store.job(job_id).state is JobState.DONE  # type: ignore[union-attr]
    later = sqlite_store.enqueue(spec(2))
    time.sleep(0.05)
    assert sqlite_store.job(later).state is JobState.QUEUED  # type: ignore[union-attr]


def test_drain_releases_what_is_still_running_and_that_job_never_publishes(store: Store) -> None:
    job_id = store.enqueue(spec())
    waiting = store.enqueue(spec(2))
    pool, rec = make_pool(store)
    pool.start()
    assert rec.started.wait(10)
    t0 = time.monotonic()
    assert pool.drain(grace=0.2) == 1
    assert time.monotonic() - t0 < 3
    back = store.job(job_id)
    assert back is not None and back.state is JobState.QUEUED
    assert back.attempts == 0 and back.owner is None  # the attempt does not count
    assert store.job(waiting).state is JobState.QUEUED  # type: ignore[union-attr]
    assert not pool.owns(job_id)
    rec.go.set()  # the handler gets to its publishing step only now
    wait_until(lambda: bool(rec.results), "the released job's handler ends")
    assert rec.published == [] and rec.results == [(job_id, "lost")]
    assert store.job(job_id).state is JobState.QUEUED  # type: ignore[union-attr]


def test_the_heartbeat_keeps_a_long_job_its_own(store: Store) -> None:
    job_id = store.enqueue(spec())
    with running_pool(store, lease=0.3) as (pool, rec):
        assert rec.started.wait(10)
        deadline = time.monotonic() + 1.0  # more than three leases
        while time.monotonic() < deadline:
            assert store.claim(now=time.time(), owner="other", lease=5) is None
            time.sleep(0.05)
        assert pool.owns(job_id)
        rec.go.set()
        wait_until(lambda: bool(rec.results), "the job is done")
    job = store.job(job_id)
    assert job is not None and job.state is JobState.DONE and job.attempts == 1
    assert rec.published == [job_id]


def test_a_job_taken_over_by_another_worker_does_not_publish(store: Store) -> None:
    job_id = store.enqueue(spec())
    with running_pool(store, lease=0.3) as (pool, rec):
        assert rec.started.wait(10)
        # Another replica, whose clock says the lease ran out long ago, takes the job over.
        taken = store.claim(now=time.time() + 1000, owner="other", lease=5000)
        assert taken is not None and taken.id == job_id and taken.attempts == 2
        wait_until(lambda: not pool.owns(job_id), "the pool notices")
        rec.go.set()
        wait_until(lambda: bool(rec.results), "the handler ends")
    assert rec.published == [] and rec.results == [(job_id, "lost")]
    job = store.job(job_id)
    assert job is not None and job.state is JobState.RUNNING and job.owner == "other"
    with pytest.raises(LeaseLost):
        pool.check(job_id)


def test_a_job_that_keeps_stopping_its_workers_is_given_up(sqlite_store: Store) -> None:
    job_id = sqlite_store.enqueue(spec())
    now = time.time()
    for n in range(MAX_ATTEMPTS):  # as many workers as it may have died holding it
        dead = sqlite_store.claim(now=now + 0.002 * n, owner=f"dead{n}", lease=0.001)
        assert dead is not None and dead.id == job_id
    time.sleep(0.01)
    with running_pool(sqlite_store) as (_pool, rec):
        wait_until(lambda: bool(rec.results), "the job is given up")
    assert not rec.started.is_set()  # not run once more
    assert rec.given_up and rec.given_up[0][0] == job_id
    assert "interrupted" in rec.given_up[0][1]
    job = sqlite_store.job(job_id)
    assert job is not None and job.state is JobState.FAILED and job.attempts == MAX_ATTEMPTS + 1
