"""Files of a base commit, kept once read: every pull request on that base reads the same ones.

A base commit's files never change (a commit names its content), so what was read at a base
sha (prgate's config, the repository's own packs, the tool settings files above the changed
folders) serves every later job on that base without a call to GitHub, for as long as it is
kept. The cache is bounded by its bytes and forgets the least recently used first; a file
that was not there (``None``) is remembered too, so a missing config costs no call either.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

#: Bytes of base files kept in memory at most (per process).
DEFAULT_BASE_CACHE_BYTES = 16 * 1024 * 1024
#: What an entry costs besides its bytes (its key, a missing file).
_ENTRY_COST = 200

Key = tuple[str, str, str]


class BaseCache:
    """``(repository, base sha, path) -> bytes | None``, bounded, shared by a process's jobs."""

    def __init__(self, max_bytes: int = DEFAULT_BASE_CACHE_BYTES) -> None:
        self._max = max_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[Key, bytes | None] = OrderedDict()
        self._bytes = 0
        #: Lookups answered from memory, and lookups that were not (for the benchmarks).
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _key(repo: str, sha: str, path: str) -> Key:
        return (repo.lower(), sha, path)

    def get(self, repo: str, sha: str, path: str) -> tuple[bool, bytes | None]:
        """``(True, contents)`` when known (``None``: not there), else ``(False, None)``."""
        key = self._key(repo, sha, path)
        with self._lock:
            if key not in self._items:
                self.misses += 1
                return False, None
            self._items.move_to_end(key)
            self.hits += 1
            return True, self._items[key]

    def put(self, repo: str, sha: str, path: str, data: bytes | None) -> None:
        if not sha:
            return
        key = self._key(repo, sha, path)
        cost = _ENTRY_COST + (len(data) if data is not None else 0)
        if cost > self._max // 4:  # one huge file must not push out everything else
            return
        with self._lock:
            if key in self._items:
                old = self._items.pop(key)
                self._bytes -= _ENTRY_COST + (len(old) if old is not None else 0)
            self._items[key] = data
            self._bytes += cost
            while self._bytes > self._max and self._items:
                _k, gone = self._items.popitem(last=False)
                self._bytes -= _ENTRY_COST + (len(gone) if gone is not None else 0)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def size(self) -> int:
        """Bytes held (contents and a fixed cost per entry)."""
        with self._lock:
            return self._bytes
