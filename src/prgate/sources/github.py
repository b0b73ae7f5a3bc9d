"""The ChangeSet of a pull request, built from GitHub's API in few calls.

One paginated listing of the PR's files (with their diff hunks), then one batched GraphQL query
(per 100 files) that brings the head contents of every changed file together with the base
branch's config files. Base contents are rebuilt from the head and the diff, without a call.
Anything that cannot be read raises :class:`~prgate.errors.SourceError`: the gate fails closed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from prgate.errors import SourceError
from prgate.github.errors import NotFound
from prgate.github.http import Http
from prgate.github.pulls import Blob, PullFile, PullRequest, fetch_blobs, list_files, read_content
from prgate.model import ChangeSet, FileChange, FileStatus, LineRange, Loader
from prgate.sources.memory import added_ranges, constant

#: Files of the base branch read with the first query, so that config loading needs no call.
CONFIG_FILES = (
    ".github/prgate.yml",
    ".github/prgate.yaml",
    "ruff.toml",
    ".ruff.toml",
    "pyproject.toml",
)

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_SUBMODULE = re.compile(r"^[-+]Subproject commit [0-9a-f]{40}", re.MULTILINE)

#: Opens a client for another repository of the same installation (for ``extends``).
OtherRepo = Callable[[str], Http]


@dataclass
class GitHubConfigFetcher:
    """Reads config files: the judged repository at the PR's base, others at their default
    branch. Files read with the first batched query are served from memory."""

    http: Http
    repo: str
    base_sha: str
    other_repo: OtherRepo | None = None
    cache: dict[tuple[str | None, str], bytes | None] = field(default_factory=dict)
    calls: int = 0

    def read(self, repo: str | None, path: str) -> bytes | None:
        key = (None if repo is None or repo.lower() == self.repo.lower() else repo, path)
        if key in self.cache:
            return self.cache[key]
        if key[0] is None:
            found = fetch_blobs(self.http, self.repo, [(self.base_sha, path)])
            data = _blob_bytes(found[(self.base_sha, path)], path)
        else:
            if self.other_repo is None:
                raise SourceError(f"prgate cannot read {key[0]} from here")
            try:
                with self.other_repo(key[0]) as other:
                    data = read_content(other, key[0], path)
            except NotFound:
                # Not installed there or no such repository: GitHub does not tell which.
                data = None
        self.calls += 1
        self.cache[key] = data
        return data


@dataclass(frozen=True)
class PullSource:
    """What one job needs from GitHub to judge a PR."""

    changeset: ChangeSet
    fetcher: GitHubConfigFetcher
    files: tuple[PullFile, ...]


def load_pull(
    http: Http,
    repo: str,
    pull: PullRequest,
    *,
    other_repo: OtherRepo | None = None,
) -> PullSource:
    """Build the ChangeSet of ``pull`` at its current head and a config fetcher for its base."""
    files = list_files(http, repo, pull.number, expected=pull.changed_files)
    wanted: list[tuple[str, str]] = [(pull.base_sha, p) for p in CONFIG_FILES]
    wanted += [(pull.head_sha, f.path) for f in files if f.status != "removed"]
    blobs = fetch_blobs(http, repo, wanted)

    fetcher = GitHubConfigFetcher(
        http=http, repo=repo, base_sha=pull.base_sha, other_repo=other_repo
    )
    for path in CONFIG_FILES:
        fetcher.cache[(None, path)] = _blob_bytes(blobs[(pull.base_sha, path)], path)

    base_reader = _LazyReader(http, repo, pull.base_sha)
    head_reader = _LazyReader(http, repo, pull.head_sha)
    changes = []
    for f in files:
        blob = blobs.get((pull.head_sha, f.path)) if f.status != "removed" else None
        change = _file_change(f, blob, pull=pull, base_reader=base_reader)
        changes.append(change)
        head_reader.known[f.path] = change.head_bytes() if not change.is_submodule else None
    for path in CONFIG_FILES:
        base_reader.known[path] = fetcher.cache[(None, path)]

    changeset = ChangeSet(
        files=tuple(sorted(changes, key=lambda c: c.path)),
        labels=frozenset(pull.labels),
        author=pull.author,
        base_name=pull.base_ref or "base",
        head_name=pull.head_ref or "head",
        read_head=head_reader.read,
        read_base=base_reader.read,
    )
    return PullSource(changeset=changeset, fetcher=fetcher, files=tuple(files))


class _LazyReader:
    """Reads any path at one commit, one call per unknown path, remembering the answers."""

    def __init__(self, http: Http, repo: str, rev: str) -> None:
        self._http = http
        self._repo = repo
        self._rev = rev
        self._lock = threading.Lock()
        self.known: dict[str, bytes | None] = {}

    def read(self, path: str) -> bytes | None:
        with self._lock:
            if path in self.known:
                return self.known[path]
        blob = fetch_blobs(self._http, self._repo, [(self._rev, path)])[(self._rev, path)]
        data = _blob_bytes(blob, path)
        with self._lock:
            self.known[path] = data
        return data


def _blob_bytes(blob: Blob | None, path: str) -> bytes | None:
    if blob is None:
        return None
    if blob.is_binary:
        return b"\0"  # contents never analysed; marks the file as binary
    if blob.text is None or blob.is_truncated:
        # Judging part of a file (or an empty stand-in) as if it were the whole would pass
        # what was never read.
        raise SourceError(
            f"GitHub did not give the whole contents of {path}, so the change cannot be judged"
        )
    return blob.text.encode("utf-8")


_STATUS = {
    "added": FileStatus.ADDED,
    "copied": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "renamed": FileStatus.RENAMED,
}


def _file_change(
    f: PullFile, blob: Blob | None, *, pull: PullRequest, base_reader: _LazyReader
) -> FileChange:
    status = _STATUS.get(f.status, FileStatus.MODIFIED)
    old_path = f.previous_path if status is FileStatus.RENAMED else None
    if status is FileStatus.DELETED:
        return FileChange(
            path=f.path,
            status=status,
            removed_lines=f.deletions,
            base_loader=_base_loader(f, None, base_reader),
        )
    submodule = blob is None and f.patch is not None and bool(_SUBMODULE.search(f.patch))
    if submodule:
        return FileChange(path=f.path, status=status, old_path=old_path, is_submodule=True)
    if blob is None:
        raise SourceError(
            f"prgate could not read {f.path} at {pull.head_sha[:12]}; "
            "the change cannot be judged without it"
        )
    head = _blob_bytes(blob, f.path)
    binary = blob.is_binary
    if binary:
        added: tuple[LineRange, ...] = ()
        removed = 0
    elif f.patch is not None:
        added, removed = patch_ranges(f.patch)
    else:
        # GitHub leaves out the diff of very large changes: compare the two sides instead.
        base = (
            base_reader.read(f.previous_path or f.path) if status is not FileStatus.ADDED else None
        )
        added, removed = added_ranges(base, head)
    return FileChange(
        path=f.path,
        status=status,
        old_path=old_path,
        added=added,
        removed_lines=removed,
        is_binary=binary,
        size=blob.byte_size,
        head_loader=constant(None if binary else head),
        base_loader=_base_loader(f, head if not binary else None, base_reader),
    )


def _base_loader(f: PullFile, head: bytes | None, base_reader: _LazyReader) -> Loader:
    """The file as it was: rebuilt from the head and the diff, or read when there is no diff."""
    lock = threading.Lock()
    memo: list[bytes | None] = []

    def load() -> bytes | None:
        with lock:
            if memo:
                return memo[0]
            value: bytes | None
            if f.patch is not None and (head is not None or f.status == "removed"):
                value = reverse_patch(head or b"", f.patch)
            else:
                value = base_reader.read(f.previous_path or f.path)
            memo.append(value)
            return value

    return load


def patch_ranges(patch: str) -> tuple[tuple[LineRange, ...], int]:
    """Line ranges added at head, and the number of lines removed, from GitHub's diff hunks."""
    ranges: list[LineRange] = []
    removed = 0
    line = 0
    start: int | None = None
    for raw in patch.split("\n"):
        m = _HUNK.match(raw)
        if m:
            if start is not None:
                ranges.append(LineRange(start, line - 1))
                start = None
            line = int(m.group(3))
            continue
        if raw.startswith("+"):
            if start is None:
                start = line
            line += 1
            continue
        if start is not None:
            ranges.append(LineRange(start, line - 1))
            start = None
        if raw.startswith("-"):
            removed += 1
        elif raw.startswith(" "):
            line += 1
    if start is not None:
        ranges.append(LineRange(start, line - 1))
    return tuple(_merge(ranges)), removed


def _merge(ranges: Sequence[LineRange]) -> list[LineRange]:
    out: list[LineRange] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if out and r.start <= out[-1].end + 1:
            out[-1] = LineRange(out[-1].start, max(out[-1].end, r.end))
        else:
            out.append(r)
    return out


def reverse_patch(head: bytes, patch: str) -> bytes:
    """The base side of a file from its head side and the unified diff between them."""
    head_lines = head.splitlines(keepends=True)
    out: list[bytes] = []
    pos = 0  # index into head_lines
    rows = patch.split("\n")
    i = 0
    while i < len(rows):
        m = _HUNK.match(rows[i])
        i += 1
        if not m:
            continue
        new_start = int(m.group(3))
        target = max(new_start - 1, 0) if (m.group(4) or "1") != "0" else new_start
        out.extend(head_lines[pos:target])
        pos = max(pos, target)
        while i < len(rows) and not _HUNK.match(rows[i]):
            row = rows[i]
            no_newline = i + 1 < len(rows) and rows[i + 1].startswith("\\")
            if row.startswith(" "):
                if pos < len(head_lines):
                    out.append(head_lines[pos])
                pos += 1
            elif row.startswith("+"):
                pos += 1
            elif row.startswith("-"):
                out.append(row[1:].encode("utf-8") + (b"" if no_newline else b"\n"))
            i += 1
    out.extend(head_lines[pos:])
    return b"".join(out)
