"""What of a pull request is read from GitHub, decided from sizes before any contents travel.

A PR's author decides how much it holds, so the App must not take in whatever it is sent.
GitHub first tells the size and kind of every blob the judging needs (the same batched queries,
without text). A file over the per-file analysis limit is never read: the engine reports it as
too large to check, as ``prgate check`` does. The rest is read only when it all fits in the
per-PR budget (``PRGATE_MAX_FETCH_BYTES``); past it the PR is too big to judge, and the gate
fails closed with a message that says so (:class:`TooBigToJudge`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prgate.errors import SourceError
from prgate.github.http import Http
from prgate.github.pulls import Blob, TreeEntry, fetch_objects, fetch_texts, read_blob

#: Bytes of file contents the App reads for one pull request at most.
DEFAULT_MAX_FETCH_BYTES = 200 * 1024 * 1024

Key = tuple[str, str]


class TooBigToJudge(SourceError):
    """The files of a pull request add up to more than the App reads for one PR."""


def fetch_within(
    http: Http,
    repo: str,
    blobs: Sequence[Key],
    trees: Sequence[Key],
    *,
    max_file_bytes: int,
    max_fetch_bytes: int,
    extra: Sequence[str] = (),
    answers: dict[str, Any] | None = None,
) -> tuple[dict[Key, Blob | None], dict[Key, dict[str, TreeEntry] | None]]:
    """Blobs at ``(rev, path)`` and folder listings, as :func:`fetch_objects` gives them, with
    text only for the blobs within ``max_file_bytes``, and only when those add up to no more
    than ``max_fetch_bytes``; else :class:`TooBigToJudge`, before any text is asked for.
    ``extra`` fields go with the first query (see :func:`fetch_objects`)."""
    found, listed = fetch_objects(
        http, repo, blobs, trees, text=False, extra=extra, answers=answers
    )
    to_read = {k: b for k, b in found.items() if b is not None and b.byte_size <= max_file_bytes}
    total = sum(b.byte_size for b in to_read.values())
    if total > max_fetch_bytes:
        raise TooBigToJudge(too_big(total, max_fetch_bytes))
    # Files GitHub marks binary have no text there; they are read whole later, within the total.
    found.update(fetch_texts(http, repo, {k: b for k, b in to_read.items() if not b.is_binary}))
    return found, listed


def too_big(total: int, limit: int) -> str:
    """The plain-language reason a pull request is not judged, for its check run."""
    return (
        f"this pull request is too big to judge: the files prgate would have to read add up to "
        f"{_size(total)}, more than the {_size(limit)} it reads for one pull request"
    )


#: What to do about it, for the builder and their agent.
TOO_BIG_FIX = (
    "Split it into smaller pull requests that each change fewer or smaller files. If it must "
    "stay one pull request, ask whoever runs prgate for your team to raise "
    "PRGATE_MAX_FETCH_BYTES."
)


def _size(n: int) -> str:
    mib = n / (1024 * 1024)
    if mib >= 1024:
        return f"{mib / 1024:.1f} GiB"
    if mib >= 1:
        return f"{mib:,.0f} MiB"
    return f"{max(n // 1024, 1)} KiB"


class Contents:
    """Whole contents of blobs: GraphQL's text, else the git data API (binary or cut short)."""

    def __init__(self, http: Http, repo: str, *, limit: int | None = None) -> None:
        self._http = http
        self._repo = repo
        self._limit = limit
        #: Paths whose contents were not read because they are larger than the limit.
        self.too_large: set[str] = set()

    def of(self, blob: Blob | None, path: str) -> bytes | None:
        """The whole file, or ``None`` when nothing is there; over the limit, not read."""
        if blob is None:
            return None
        if blob.data is not None and not blob.is_truncated and not blob.is_binary:
            return blob.data
        if blob.text is not None and not blob.is_truncated and not blob.is_binary:
            return blob.text.encode("utf-8")
        if self._limit is not None and blob.byte_size > self._limit:
            self.too_large.add(path)
            return None
        return read_blob(self._http, self._repo, blob.oid)

    def whole(self, blob: Blob | None, path: str) -> bytes | None:
        """The whole file, read whatever its size up to the limit; larger ones fail closed."""
        data = self.of(blob, path)
        if path in self.too_large:
            raise SourceError(
                f"{path} is larger than prgate reads ({self._limit // 1024 if self._limit else 0}"
                " KiB), so the change cannot be judged; keep that file smaller"
            )
        return data
