"""The in-process worker pool: threads that claim jobs from the store and run them.

A job that fails on a transient GitHub error is retried a few times with a pause; a job that
hits GitHub's rate limit goes back to the queue until the limit resets (no worker sleeps on
it). After the last try, ``give_up`` reports the failure (the check run concludes ``failure``).

Each pool has an owner id (``host:pid:random``). It claims jobs under a lease of ``lease``
seconds and renews the leases of its running jobs from a heartbeat thread every ``lease / 3``.
When a renewal fails, the job was taken over (or released) and the pool marks it lost: the job
must not write to GitHub any more. The handler asks :meth:`WorkerPool.owns` (or calls
:meth:`WorkerPool.check`, which raises :class:`~prgate.app.store.LeaseLost`) right before each
write. :meth:`WorkerPool.drain` stops claiming, lets running jobs finish within a grace period
and releases the rest to the queue, for another process to run.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable

from prgate.app.store import Job, JobState, LeaseLost, Store, StoreError
from prgate.github.errors import GitHubError, RateLimited

log = logging.getLogger("prgate.worker")

#: Runs of a job before it is given up (transient errors), unless the pool is given another
#: number. With the default backoff the tries span about half a minute. A job started more often
#: than this (its workers kept stopping mid-job) is given up too, so it cannot stop them forever.
MAX_ATTEMPTS = 5
#: Times a job may be put back for rate limits before it is given up.
MAX_DEFERRALS = 20
#: Longest pause between polls of the store when nothing wakes the pool.
POLL_SECONDS = 1.0
#: Default lease on a claimed job, in seconds (``PRGATE_JOB_LEASE``).
DEFAULT_LEASE = 60.0


def new_owner_id() -> str:
    """An id for this process's pool: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class WorkerPool:
    def __init__(
        self,
        store: Store,
        handle: Callable[[Job], str],
        give_up: Callable[[Job, str], None],
        *,
        workers: int = 2,
        clock: Callable[[], float] = time.time,
        backoff: Callable[[int], float] = lambda attempt: 2.0**attempt,
        on_result: Callable[[Job, str], None] = lambda _job, _result: None,
        lease: float = DEFAULT_LEASE,
        owner: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if lease <= 0:
            raise ValueError("the job lease must be a positive number of seconds")
        if max_attempts < 1:
            raise ValueError("a job must be tried at least once")
        self.max_attempts = max_attempts
        self._store = store
        self._handle = handle
        self._give_up = give_up
        self._workers = workers
        self._clock = clock
        self._backoff = backoff
        self._on_result = on_result
        self.lease = lease
        self.owner = owner or new_owner_id()
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._heart: threading.Thread | None = None
        self._state = threading.Condition()
        self._busy = 0  # workers claiming or running a job
        self._running: dict[int, Job] = {}
        self._lost: set[int] = set()
        self._released = False  # drain has handed back what was running

    def start(self) -> None:
        self._stop.clear()
        self._draining.clear()
        self._released = False
        for i in range(self._workers):
            t = threading.Thread(target=self._loop, name=f"prgate-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        self._heart = threading.Thread(target=self._beat, name="prgate-heartbeat", daemon=True)
        self._heart.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Drain with ``timeout`` as the grace period (see :meth:`drain`)."""
        self.drain(timeout)

    def drain(self, grace: float) -> int:
        """Stop claiming; wait up to ``grace`` seconds for running jobs to finish; put the ones
        still running back in the queue (for another process, or this one's next start), and
        stop the threads. Returns how many jobs were released."""
        self._draining.set()
        self.wake()
        deadline = time.monotonic() + max(0.0, grace)
        with self._state:
            while self._busy and (left := deadline - time.monotonic()) > 0:
                self._state.wait(left)
            leftover = list(self._running.values())
            self._lost.update(job.id for job in leftover)
            self._released = True
        released = 0
        for job in leftover:
            try:
                if self._store.release(job.id, owner=self.owner):
                    released += 1
                    log.info("job %s did not finish in time; it goes back to the queue", job.id)
            except StoreError:
                log.warning("job %s could not be released; its lease will run out", job.id)
        self._stop.set()
        self.wake()
        for t in self._threads:
            t.join(0.5 if leftover else max(1.0, grace))
        self._threads.clear()
        if self._heart is not None:
            self._heart.join(1.0)
            self._heart = None
        return released

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    @property
    def busy(self) -> int:
        with self._state:
            return len(self._running)

    @property
    def draining(self) -> bool:
        return self._draining.is_set()

    def owns(self, job_id: int) -> bool:
        """Whether this pool still holds ``job_id``: ask right before writing to GitHub.

        ``False`` when the heartbeat found it taken over, when it was released by
        :meth:`drain`, when its lease ran out, or when the store cannot tell (fail safe)."""
        with self._state:
            if job_id in self._lost:
                return False
        try:
            return self._store.owns(job_id, owner=self.owner, now=self._clock())
        except StoreError:
            return False

    def check(self, job_id: int) -> None:
        """Raise :class:`LeaseLost` unless this pool still holds ``job_id``."""
        if not self.owns(job_id):
            raise LeaseLost(f"job {job_id} is no longer this worker's to publish")

    # the threads

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._state:
                if self._draining.is_set():
                    return
                self._busy += 1
            try:
                worked = self._once()
            finally:
                with self._state:
                    self._busy -= 1
                    self._state.notify_all()
            if not worked:
                self._sleep()

    def _once(self) -> bool:
        """Claim and run one job; ``False`` when there was none (the caller pauses)."""
        try:
            job = self._store.claim(now=self._clock(), owner=self.owner, lease=self.lease)
        except StoreError:
            log.exception("the store cannot hand out jobs")
            job = None
        if job is None:
            return False
        with self._state:
            late = self._released
            if not late:
                self._running[job.id] = job
        if late:  # claimed while the pool was being drained: hand it straight back
            try:
                self._store.release(job.id, owner=self.owner)
            except StoreError:
                log.warning("job %s could not be released; its lease will run out", job.id)
            return True
        try:
            if job.attempts > self.max_attempts:
                self._fail(job, "it was interrupted too many times (its worker stopped)")
            else:
                self.run(job)
        except Exception:  # the store failed while recording: the worker must live on
            log.exception("job %s could not be recorded; it will run again", job.id)
            try:
                self._store.defer(
                    job.id,
                    run_at=self._clock() + self._backoff(job.attempts),
                    error="the store could not record the job's outcome",
                    rate_limited=False,
                    owner=self.owner,
                )
            except Exception:  # still failing: the lease runs out and the job is taken over
                log.exception("job %s stays claimed until its lease runs out", job.id)
                return False
        finally:
            with self._state:
                self._running.pop(job.id, None)
                self._lost.discard(job.id)
        return True

    def _beat(self) -> None:
        every = self.lease / 3
        while not self._stop.wait(every):
            with self._state:
                held = [j for j in self._running if j not in self._lost]
            for job_id in held:
                try:
                    kept = self._store.heartbeat(
                        job_id, owner=self.owner, until=self._clock() + self.lease
                    )
                except StoreError:
                    log.warning("the lease of job %s could not be renewed", job_id)
                    continue
                if not kept:
                    log.warning("job %s was taken over; it will not publish", job_id)
                    with self._state:
                        if job_id in self._running:
                            self._lost.add(job_id)

    def _sleep(self) -> None:
        if self._draining.is_set():
            return
        pause = POLL_SECONDS
        try:
            due = self._store.next_due()
        except StoreError:
            due = None
        if due is not None:
            pause = min(pause, max(0.01, due - self._clock()))
        with self._wake:
            self._wake.wait(pause)

    # one job

    def run(self, job: Job) -> None:
        """Run one claimed job and record its outcome (only while this pool still holds it)."""
        try:
            result = self._handle(job)
        except LeaseLost:
            log.warning("job %s was taken over while it ran; its outcome is dropped", job.id)
            self._on_result(job, "lost")
            return
        except RateLimited as exc:
            # Waiting for the budget's reset (``waits`` set) is never a reason to give up.
            if job.deferrals + 1 >= MAX_DEFERRALS and not exc.waits:
                self._fail(job, "GitHub's rate limit kept it from finishing")
                return
            log.info("job %s waits for GitHub's rate limit (%.0fs)", job.id, exc.retry_after())
            self._requeued(
                job,
                self._store.defer(
                    job.id,
                    run_at=exc.retry_at,
                    error=str(exc),
                    rate_limited=True,
                    owner=self.owner,
                ),
                "deferred",
            )
            return
        except GitHubError as exc:
            if job.attempts < self.max_attempts:
                log.info("job %s failed (%s); trying again", job.id, exc)
                self._requeued(
                    job,
                    self._store.defer(
                        job.id,
                        run_at=self._clock() + self._backoff(job.attempts),
                        error=str(exc),
                        rate_limited=False,
                        owner=self.owner,
                    ),
                    "retry",
                )
                return
            self._fail(job, f"GitHub kept failing ({exc})")
            return
        except Exception as exc:
            log.error("job %s failed: %s", job.id, type(exc).__name__)
            self._fail(job, f"an internal error occurred ({type(exc).__name__})")
            return
        done = self._store.finish(job.id, state=JobState.DONE, error=None, owner=self.owner)
        self._requeued(job, done, result)

    def _requeued(self, job: Job, recorded: bool, result: str) -> None:
        if not recorded:
            log.warning("job %s was taken over; its outcome (%s) is not recorded", job.id, result)
            result = "lost"
        self._on_result(job, result)

    def _fail(self, job: Job, reason: str) -> None:
        if not self.owns(job.id):
            log.warning("job %s was taken over; its failure is not reported", job.id)
            self._on_result(job, "lost")
            return
        try:
            self._give_up(job, reason)
        finally:
            recorded = self._store.finish(
                job.id, state=JobState.FAILED, error=reason, owner=self.owner
            )
            self._requeued(job, recorded, "failed")
