"""The ChangeSet of a pull request, built from GitHub's API in few calls, before judging.

One paginated listing of the PR's files (with their diff hunks), then one batched GraphQL query
(per 100 files) that brings, together: the sizes of the head side of every changed file, the
listing of each changed file's folder at head (git modes: links and submodules), of the base side
of the changed files GitHub gives no diff for, of the base branch's config files, and of the paths
common rules read (the flag registry at its default place). Then the contents of those within the
limits, in one more query per 16 MiB (``sources.fetchplan``): a file over the per-file limit is
never read, and a PR past the per-PR budget is not judged. Base contents of the other files are
rebuilt from the head and the diff, without a call. Files GitHub gives no text for (it marks them
binary, or cuts them short) are read whole through the git data API, one call each, up to the
size limit.

Evaluation never reaches the network: after the config is known, :meth:`PullSource.ready` fetches
what its rules declare they read (one more query, only for paths the first did not bring), and the
ChangeSet's readers refuse anything else. A failed read raises a GitHub error, so the job is tried
again; anything that cannot be read raises :class:`~prgate.errors.SourceError`: the gate fails
closed.
"""

from __future__ import annotations

import posixpath
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from prgate.checks import DEFAULT_MAX_FILE_BYTES, Reads, read_settings
from prgate.checks.flags import DEFAULT_REGISTRY
from prgate.checks.tools import settings_names
from prgate.errors import SourceError
from prgate.github.http import Http
from prgate.github.pulls import (
    SUBMODULE_MODE,
    SYMLINK_MODE,
    Blob,
    PullFile,
    PullRequest,
    TreeEntry,
    fetch_blobs,
    fetch_objects,
    list_files,
)
from prgate.model import (
    ChangeSet,
    FileChange,
    FileStatus,
    LineRange,
    Loader,
    TreeListing,
    UndeclaredRead,
    looks_binary,
)
from prgate.sources.basecache import BaseCache
from prgate.sources.fetchplan import DEFAULT_MAX_FETCH_BYTES, Contents, fetch_within
from prgate.sources.headtree import HeadTree, fetch_with_tree, read_head_tree
from prgate.sources.memory import added_ranges, constant, constant_tree
from prgate.sources.otherrepos import OtherRepo, read_other

#: Files of the base branch read with the first query, so that config loading needs no call.
CONFIG_FILES = (".github/prgate.yml", ".github/prgate.yaml")


def _first_base_reads(paths: Sequence[str]) -> tuple[str, ...]:
    """prgate's config, and the root settings files of every external tool a rule may run on
    the changed ``paths`` (declared by the tools, see :mod:`prgate.checks.tools`): a change
    without web files does not read the web tools' settings."""
    names = settings_names(paths=paths)
    return CONFIG_FILES + tuple(n for n in names if n not in CONFIG_FILES)


#: Paths at head read with the first query because a common rule reads them there.
LIKELY_HEAD_READS = (DEFAULT_REGISTRY,)

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_SUBMODULE = re.compile(r"^[-+]Subproject commit [0-9a-f]{40}", re.MULTILINE)


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
    #: Files of base commits read by earlier jobs (the judged repository's only).
    base_cache: BaseCache | None = None

    def read(self, repo: str | None, path: str) -> bytes | None:
        key = (None if repo is None or repo.lower() == self.repo.lower() else repo, path)
        if key in self.cache:
            return self.cache[key]
        if key[0] is None:
            known, data = _cached(self.base_cache, self.repo, self.base_sha, path)
            if not known:
                found = fetch_blobs(self.http, self.repo, [(self.base_sha, path)])
                data = Contents(self.http, self.repo).of(found[(self.base_sha, path)], path)
                self.calls += 1
                if self.base_cache is not None:
                    self.base_cache.put(self.repo, self.base_sha, path, data)
            self.cache[key] = data
            return data
        if self.other_repo is None:
            raise SourceError(f"prgate cannot read {key[0]} from here")
        data = read_other(self.http, self.other_repo, key[0], path)
        self.calls += 1
        self.cache[key] = data
        return data


@dataclass(frozen=True)
class PullSource:
    """What one job needs from GitHub to judge a PR."""

    changeset: ChangeSet
    fetcher: GitHubConfigFetcher
    files: tuple[PullFile, ...]
    http: Http = field(repr=False, compare=False)
    repo: str = ""
    head_sha: str = ""
    base_sha: str = ""
    #: Paths read so far at head and at base (``None``: not there).
    head_known: Mapping[str, bytes | None] = field(default_factory=dict, repr=False)
    base_known: Mapping[str, bytes | None] = field(default_factory=dict, repr=False)
    base_cache: BaseCache | None = field(default=None, repr=False, compare=False)
    #: The head's tree, when it was read first (it gave the sizes).
    head_tree: HeadTree | None = field(default=None, repr=False, compare=False)
    #: The answers to the ``extra`` fields of the first query, by alias.
    answers: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def ready(self, reads: Reads) -> ChangeSet:
        """The ChangeSet with everything ``reads`` names fetched: one more GraphQL query when
        the first did not bring all of it, none otherwise; the tool settings files above the
        changed files (one query, and one per round of ``extend``); the head tree's listing
        (one recursive tree call)."""
        head = {p: self.head_known[p] for p in reads.head if p in self.head_known}
        base = {p: self.base_known[p] for p in reads.base if p in self.base_known}
        for p in reads.base - base.keys():
            known, data = _cached(self.base_cache, self.repo, self.base_sha, p)
            if known:
                base[p] = data
        settings = read_settings(reads, self.changeset, self._fetch_base)
        base.update(settings)
        wanted = [(self.head_sha, p) for p in sorted(reads.head - head.keys())]
        wanted += [(self.base_sha, p) for p in sorted(reads.base - base.keys())]
        if wanted:
            blobs, _ = fetch_objects(self.http, self.repo, wanted, ())
            contents = Contents(self.http, self.repo)
            for rev, path in wanted:
                data = contents.whole(blobs[(rev, path)], path)
                (head if rev == self.head_sha else base)[path] = data
                if rev == self.base_sha and self.base_cache is not None:
                    self.base_cache.put(self.repo, self.base_sha, path, data)
        tree = None
        if reads.tree:
            first = self.head_tree
            tree = first.listing if first else list_tree(self.http, self.repo, self.head_sha)
        return replace(
            self.changeset,
            read_head=_reader(head, "head"),
            read_base=_reader(base, "base"),
            head_tree=constant_tree(tree),
        )

    def _fetch_base(self, paths: Sequence[str]) -> dict[str, bytes | None]:
        """Paths at base in one query (those the first query brought come from memory)."""
        out = {p: self.base_known[p] for p in paths if p in self.base_known}
        for p in paths:
            known, data = _cached(self.base_cache, self.repo, self.base_sha, p)
            if known and p not in out:
                out[p] = data
        wanted = [(self.base_sha, p) for p in paths if p not in out]
        if wanted:
            blobs, _ = fetch_objects(self.http, self.repo, wanted, ())
            contents = Contents(self.http, self.repo)
            for rev, path in wanted:
                out[path] = contents.whole(blobs[(rev, path)], path)
                if self.base_cache is not None:
                    self.base_cache.put(self.repo, self.base_sha, path, out[path])
        return out


def _cached(cache: BaseCache | None, repo: str, sha: str, path: str) -> tuple[bool, bytes | None]:
    return cache.get(repo, sha, path) if cache is not None else (False, None)


def list_tree(http: Http, repo: str, sha: str) -> TreeListing:
    """Every file path of the commit ``sha``: one recursive tree call. GitHub cuts very large
    listings short (``truncated``); the listing then says it is not complete."""
    return read_head_tree(http, repo, sha).listing


def _reader(known: Mapping[str, bytes | None], side: str) -> Callable[[str], bytes | None]:
    def read(path: str) -> bytes | None:
        if path not in known:
            raise UndeclaredRead(f"{path!r} at {side} was not fetched before judging")
        return known[path]

    return read


def load_pull(
    http: Http,
    repo: str,
    pull: PullRequest,
    *,
    other_repo: OtherRepo | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES,
    changed: Sequence[PullFile] | None = None,
    base_cache: BaseCache | None = None,
    head_tree: HeadTree | None = None,
    extra: Sequence[str] = (),
) -> PullSource:
    """Build the ChangeSet of ``pull`` at its current head and a config fetcher for its base.

    ``changed``: the files from the base commit to the head, when the caller has them already
    (a merge queue's group, from a comparison); else the PR's files are listed.
    Sizes come first: files over ``max_file_bytes`` are never read, and a PR whose other files
    add up to more than ``max_fetch_bytes`` raises
    :class:`~prgate.sources.fetchplan.TooBigToJudge` before any of them is read."""
    if changed is not None:
        files = list(changed)
    else:
        files = list_files(http, repo, pull.number, expected=pull.changed_files)
    head, base = pull.head_sha, pull.base_sha
    present = [f for f in files if f.status != "removed"]
    first_base = _first_base_reads([f.path for f in files])
    cached: dict[str, bytes | None] = {}
    for p in first_base:
        known, data = _cached(base_cache, repo, base, p)
        if known:
            cached[p] = data
    blobs_wanted: list[tuple[str, str]] = [(base, p) for p in first_base if p not in cached]
    blobs_wanted += [(head, f.path) for f in present]
    # Without a diff, the base side cannot be rebuilt: read it with the rest.
    blobs_wanted += [(base, _old(f)) for f in files if f.patch is None and f.status != "added"]
    blobs_wanted += [(head, p) for p in LIKELY_HEAD_READS]
    folders = sorted({(head, posixpath.dirname(f.path)) for f in present})
    answers: dict[str, Any] = {}
    limits: dict[str, Any] = {
        "max_file_bytes": max_file_bytes,
        "max_fetch_bytes": max_fetch_bytes,
        "extra": extra,
        "answers": answers,
    }
    got = None
    if head_tree is not None and head_tree.sha == head:  # it gives the sizes and modes
        got = fetch_with_tree(http, repo, head_tree, blobs_wanted, folders, **limits)
    blobs, trees = got or fetch_within(http, repo, blobs_wanted, folders, **limits)

    contents = Contents(http, repo, limit=max_file_bytes)
    fetcher = GitHubConfigFetcher(
        http=http, repo=repo, base_sha=base, other_repo=other_repo, base_cache=base_cache
    )
    for path in first_base:
        if path in cached:
            fetcher.cache[(None, path)] = cached[path]
            continue
        fetcher.cache[(None, path)] = contents.whole(blobs[(base, path)], path)
        if base_cache is not None:
            base_cache.put(repo, base, path, fetcher.cache[(None, path)])

    head_known: dict[str, bytes | None] = {
        p: contents.whole(blobs[(head, p)], p) for p in LIKELY_HEAD_READS
    }
    changes = []
    for f in files:
        change = _file_change(f, pull=pull, blobs=blobs, trees=trees, contents=contents)
        changes.append(change)
        if not (change.is_deleted or change.is_submodule or change.path in contents.too_large):
            head_known[change.path] = change.head_bytes() if not change.is_symlink else None
    base_known = {p: fetcher.cache[(None, p)] for p in first_base}

    changeset = ChangeSet(
        files=tuple(sorted(changes, key=lambda c: c.path)),
        labels=frozenset(pull.labels),
        author=pull.author,
        base_name=pull.base_ref or "base",
        head_name=pull.head_ref or "head",
        read_head=_reader(head_known, "head"),
        read_base=_reader(base_known, "base"),
    )
    return PullSource(
        changeset=changeset,
        fetcher=fetcher,
        files=tuple(files),
        http=http,
        repo=repo,
        head_sha=head,
        base_sha=base,
        head_known=head_known,
        base_known=base_known,
        base_cache=base_cache,
        head_tree=head_tree,
        answers=answers,
    )


def _old(f: PullFile) -> str:
    return f.previous_path or f.path


_STATUS = {
    "added": FileStatus.ADDED,
    "copied": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "renamed": FileStatus.RENAMED,
}


def _not_read(path: str) -> Loader:
    def load() -> bytes | None:
        raise UndeclaredRead(f"{path!r} is larger than the limit and was not read")

    return load


def _file_change(
    f: PullFile,
    *,
    pull: PullRequest,
    blobs: Mapping[tuple[str, str], Blob | None],
    trees: Mapping[tuple[str, str], Mapping[str, TreeEntry] | None],
    contents: Contents,
) -> FileChange:
    status = _STATUS.get(f.status, FileStatus.MODIFIED)
    old_path = f.previous_path if status is FileStatus.RENAMED else None
    old_side: bytes | None = None
    base_key = f"base:{_old(f)}"
    if f.patch is None and status is not FileStatus.ADDED:
        old_side = contents.of(blobs.get((pull.base_sha, _old(f))), base_key)
    base_loader = (
        _not_read(_old(f)) if base_key in contents.too_large else _base_loader(f, None, old_side)
    )
    # A submodule on either side, as the CLI judges from git's modes.
    submodule = f.patch is not None and bool(_SUBMODULE.search(f.patch))
    if status is FileStatus.DELETED:
        return FileChange(
            path=f.path,
            status=status,
            removed_lines=f.deletions,
            is_submodule=submodule,
            base_loader=base_loader,
        )
    entry = _entry(trees, pull.head_sha, f.path)
    if submodule or (entry is not None and entry.mode == SUBMODULE_MODE):
        return FileChange(path=f.path, status=status, old_path=old_path, is_submodule=True)
    blob = blobs.get((pull.head_sha, f.path))
    if blob is None:
        raise SourceError(
            f"prgate could not read {f.path} at {pull.head_sha[:12]}; "
            "the change cannot be judged without it"
        )
    if entry is not None and entry.mode == SYMLINK_MODE:
        target = contents.of(blob, f.path)
        return FileChange(
            path=f.path,
            status=status,
            old_path=old_path,
            is_symlink=True,
            size=blob.byte_size,
            link_target=target.decode("utf-8", "replace") if target else None,
        )
    head = contents.of(blob, f.path)
    if f.path in contents.too_large:
        # Not read: the engine reports it by its size; GitHub's word on binary is all there is.
        ranges, gone = patch_ranges(f.patch) if f.patch is not None else ((), 0)
        return FileChange(
            path=f.path,
            status=status,
            old_path=old_path,
            added=() if blob.is_binary else ranges,
            removed_lines=0 if blob.is_binary else gone,
            is_binary=blob.is_binary,
            size=blob.byte_size,
            head_loader=_not_read(f.path),
            base_loader=_not_read(f.path),
        )
    binary = looks_binary(head)
    if binary:
        added: tuple[LineRange, ...] = ()
        removed = 0
    elif f.patch is not None:
        added, removed = patch_ranges(f.patch)
    else:
        # GitHub leaves out the diff of very large changes (and of files it thinks binary):
        # compare the two sides instead.
        added, removed = added_ranges(old_side, head)
    return FileChange(
        path=f.path,
        status=status,
        old_path=old_path,
        added=added,
        removed_lines=removed,
        is_binary=binary,
        size=blob.byte_size,
        head_loader=constant(head),
        base_loader=base_loader
        if base_key in contents.too_large
        else _base_loader(f, head, old_side),
    )


def _entry(
    trees: Mapping[tuple[str, str], Mapping[str, TreeEntry] | None], rev: str, path: str
) -> TreeEntry | None:
    folder, _, name = path.rpartition("/")
    listing = trees.get((rev, folder))
    if listing is None:
        raise SourceError(
            f"prgate could not list the folder of {path} at {rev[:12]}; "
            "the change cannot be judged without it"
        )
    return listing.get(name)


def _base_loader(f: PullFile, head: bytes | None, old_side: bytes | None) -> Loader:
    """The file as it was: rebuilt from the head and the diff, or as read with the first query."""
    if f.patch is None or (head is None and f.status != "removed"):
        return constant(old_side)
    patch = f.patch
    lock = threading.Lock()
    memo: list[bytes | None] = []

    def load() -> bytes | None:
        with lock:
            if not memo:
                memo.append(reverse_patch(head or b"", patch))
            return memo[0]

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
