"""The fake's state lock: one writer at a time, or any number of readers together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType


class StateLock:
    """``with lock:`` holds it alone (to change the state); ``with lock.shared():`` holds it
    alongside other readers (to read the state only).

    Re-entrant: a thread that holds it either way takes it again at once, either way (a thread
    holding it shared must then still only read). A waiting writer goes before readers that
    arrive after it, so a stream of readers cannot keep it out.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._local = threading.local()

    def _depth(self) -> int:
        return int(getattr(self._local, "depth", 0))

    def acquire(self) -> None:
        """Hold it alone (blocks until no one else holds it)."""
        depth = self._depth()
        if depth:
            self._local.depth = depth + 1
            return
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        self._local.depth = 1
        self._local.shared = False

    def acquire_shared(self) -> None:
        """Hold it with other readers (blocks while a writer holds it or waits for it)."""
        depth = self._depth()
        if depth:
            self._local.depth = depth + 1
            return
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        self._local.depth = 1
        self._local.shared = True

    def release(self) -> None:
        depth = self._depth()
        if depth <= 0:
            raise RuntimeError("release of a StateLock this thread does not hold")
        self._local.depth = depth - 1
        if depth > 1:
            return
        with self._cond:
            if self._local.shared:
                self._readers -= 1
            else:
                self._writer = False
            self._cond.notify_all()

    def __enter__(self) -> StateLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    @contextmanager
    def shared(self) -> Iterator[None]:
        self.acquire_shared()
        try:
            yield
        finally:
            self.release()
