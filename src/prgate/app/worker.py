"""The in-process worker pool: threads that claim jobs from the store and run them.

A job that fails on a transient GitHub error is retried a few times with a pause; a job that
hits GitHub's rate limit goes back to the queue until the limit resets (no worker sleeps on
it). After the last try, ``give_up`` reports the failure (the check run concludes ``failure``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from prgate.app.store import Job, JobState, Store, StoreError
from prgate.github.errors import GitHubError, RateLimited

log = logging.getLogger("prgate.worker")

#: Runs of a job before it is given up (transient errors).
MAX_ATTEMPTS = 3
#: Times a job may be put back for rate limits before it is given up.
MAX_DEFERRALS = 20
#: Longest pause between polls of the store when nothing wakes the pool.
POLL_SECONDS = 1.0


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
    ) -> None:
        self._store = store
        self._handle = handle
        self._give_up = give_up
        self._workers = workers
        self._clock = clock
        self._backoff = backoff
        self._on_result = on_result
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._busy_lock = threading.Lock()

    def start(self) -> None:
        self._stop.clear()
        for i in range(self._workers):
            t = threading.Thread(target=self._loop, name=f"prgate-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.wake()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    @property
    def busy(self) -> int:
        with self._busy_lock:
            return self._busy

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._store.claim(now=self._clock())
            except StoreError:
                log.exception("the store cannot hand out jobs")
                job = None
            if job is None:
                self._sleep()
                continue
            with self._busy_lock:
                self._busy += 1
            try:
                self.run(job)
            except Exception:  # the store failed while recording: the worker must live on
                log.exception("job %s could not be recorded; it will run again", job.id)
                try:
                    self._store.defer(
                        job.id,
                        run_at=self._clock() + self._backoff(job.attempts),
                        error="the store could not record the job's outcome",
                        rate_limited=False,
                    )
                except Exception:  # still failing: a restart recovers it (jobs left running)
                    log.exception("job %s stays claimed until prgate restarts", job.id)
                    self._sleep()
            finally:
                with self._busy_lock:
                    self._busy -= 1

    def _sleep(self) -> None:
        pause = POLL_SECONDS
        try:
            due = self._store.next_due()
        except StoreError:
            due = None
        if due is not None:
            pause = min(pause, max(0.01, due - self._clock()))
        with self._wake:
            self._wake.wait(pause)

    def run(self, job: Job) -> None:
        """Run one claimed job and record its outcome."""
        try:
            result = self._handle(job)
        except RateLimited as exc:
            if job.deferrals + 1 >= MAX_DEFERRALS:
                self._fail(job, "GitHub's rate limit kept it from finishing")
                return
            log.info("job %s waits for GitHub's rate limit (%.0fs)", job.id, exc.retry_after())
            self._store.defer(job.id, run_at=exc.retry_at, error=str(exc), rate_limited=True)
            self._on_result(job, "deferred")
            return
        except GitHubError as exc:
            if job.attempts < MAX_ATTEMPTS:
                log.info("job %s failed (%s); trying again", job.id, exc)
                self._store.defer(
                    job.id,
                    run_at=self._clock() + self._backoff(job.attempts),
                    error=str(exc),
                    rate_limited=False,
                )
                self._on_result(job, "retry")
                return
            self._fail(job, f"GitHub kept failing ({exc})")
            return
        except Exception as exc:
            log.error("job %s failed: %s", job.id, type(exc).__name__)
            self._fail(job, f"an internal error occurred ({type(exc).__name__})")
            return
        self._store.finish(job.id, state=JobState.DONE, error=None)
        self._on_result(job, result)

    def _fail(self, job: Job, reason: str) -> None:
        try:
            self._give_up(job, reason)
        finally:
            self._store.finish(job.id, state=JobState.FAILED, error=reason)
            self._on_result(job, "failed")
