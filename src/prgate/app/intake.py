"""Group commit for webhook intake.

One writer thread records deliveries for the web handlers: it takes every delivery waiting at
that moment and records them all in one transaction (:meth:`Store.accept_many`), then answers
each waiting request. A request is answered only after the transaction that holds its delivery
committed, so a 2xx still means "recorded"; when a batch fails, its deliveries are recorded one
by one, so that one delivery the store refuses fails alone and the others go through.

Under load, deliveries arrive while the previous batch commits, so the batches grow by
themselves and the cost of a commit (a flush to disk on PostgreSQL) is shared; when idle, a
batch is one delivery and nothing waits for company.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from prgate.app.store import Delivery, JobSpec, StoreError

log = logging.getLogger("prgate.intake")

#: The most deliveries recorded in one transaction.
MAX_BATCH = 256


class BatchStore(Protocol):
    def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool: ...

    def accept_many(self, batch: Sequence[tuple[Delivery, Sequence[JobSpec]]]) -> list[bool]: ...


@dataclass(frozen=True)
class _Waiting:
    delivery: Delivery
    jobs: Sequence[JobSpec]
    future: asyncio.Future[bool]
    loop: asyncio.AbstractEventLoop


_Outcome = bool | BaseException


class Intake:
    """Records deliveries in batches on a writer thread of its own (started on first use).

    One writer: on SQLite, writes take turns anyway; on PostgreSQL, measured, more writers
    recording smaller batches at once answered no sooner and used more CPU.
    """

    def __init__(self, store: BatchStore, *, max_batch: int = MAX_BATCH) -> None:
        self._store = store
        self._max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lock = threading.Lock()
        #: How many deliveries each batch held, oldest first (the last 1000; for tests and
        #: benchmarks).
        self.batch_sizes: list[int] = []

    async def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool:
        """:meth:`Store.accept`, answered once the delivery's transaction committed. Raises
        what the store raised (:class:`StoreError` when it could not record the delivery)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            if self._closed:
                raise StoreError("prgate is shutting down and records no more deliveries")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="prgate-intake", daemon=True)
                self._thread.start()
            self._queue.put(_Waiting(delivery, jobs, future, loop))
        return await future

    def close(self, timeout: float = 30.0) -> None:
        """Record what is waiting, then stop the writer thread. Deliveries that come later are
        refused with :class:`StoreError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)  # after every delivery taken before the close
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        """The writer: batch after batch, until the stop sign."""
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._record(batch)

    def _record(self, batch: list[_Waiting]) -> None:
        outcomes: list[_Outcome]
        if len(batch) == 1:  # nobody to share the commit with: the store's plain step
            outcomes = [self._one(batch[0])]
            self._answer_batch(batch, outcomes)
            return
        try:
            outcomes = list(self._store.accept_many([(w.delivery, w.jobs) for w in batch]))
            if len(outcomes) != len(batch):
                raise StoreError(
                    f"the store answered {len(outcomes)} times for {len(batch)} deliveries"
                )
        except Exception as exc:
            # One delivery the store refuses must not fail the others: one by one.
            log.warning(
                "a batch of %d deliveries could not be recorded (%s); recording them one by one",
                len(batch),
                exc,
            )
            outcomes = [self._one(w) for w in batch]
        self._answer_batch(batch, outcomes)

    def _answer_batch(self, batch: list[_Waiting], outcomes: Sequence[_Outcome]) -> None:
        self.batch_sizes.append(len(batch))
        if len(self.batch_sizes) > 1000:
            del self.batch_sizes[:500]
        _answer(batch, outcomes)

    def _one(self, waiting: _Waiting) -> _Outcome:
        try:
            return self._store.accept(waiting.delivery, waiting.jobs)
        except Exception as exc:
            return exc


def _answer(batch: list[_Waiting], outcomes: Sequence[_Outcome]) -> None:
    """Settle each request's future on its own event loop: one wake-up per loop per batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], _Outcome]]] = {}
    for waiting, outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(waiting.loop, []).append((waiting.future, outcome))
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # the loop is closed: nobody waits for these answers any more
            continue


def _settle(settled: list[tuple[asyncio.Future[bool], _Outcome]]) -> None:
    for future, outcome in settled:
        if future.done():  # the request was cancelled (its client went away)
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
