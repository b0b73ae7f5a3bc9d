"""Reading a local repository's files: blobs through one long-lived ``git cat-file --batch``
(many read ahead in one batch), a commit's files by path, its tree's listing (at once in the
background for large changes), and the working tree's files without following links."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from prgate.model import Loader, PathReader, TreeListing
from prgate.sources.gitrun import decode_path, git_env, run_git

#: Larger files are not read to decide whether they are binary (they are not analysed anyway).
SNIFF_MAX_BYTES = 8 * 1024 * 1024
#: At most this much of a change's head files is read ahead in one batch (the rest one by one).
PRELOAD_BYTES = 64 * 1024 * 1024
#: Reads of one commit answered by git one at a time before its tree is listed once.
READS_BEFORE_LISTING = 64

_T = TypeVar("_T")


def none() -> bytes | None:
    return None


def safe_worktree_path(root: Path, path: str) -> Path | None:
    """``root/path`` if it is a regular file inside the repository reached without links."""
    full = root / path
    try:
        info = os.lstat(full)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    resolved = full.resolve()
    if not resolved.is_relative_to(root.resolve()):
        return None
    return full


def worktree_loader(root: Path, path: str) -> Loader:
    def load() -> bytes | None:
        full = safe_worktree_path(root, path)
        if full is None:
            return None
        try:
            return full.read_bytes()
        except OSError:
            return None

    return cached_loader(load)


def worktree_size(root: Path, path: str) -> int | None:
    try:
        return os.lstat(root / path).st_size
    except OSError:
        return None


def cached_loader(load: Loader) -> Loader:
    box: list[bytes | None] = []

    def cached() -> bytes | None:
        if not box:
            box.append(load())
        return box[0]

    return cached


def tree_lister(
    root: Path, head_commit: str | None, *, eager: bool = False
) -> Callable[[], TreeListing | None]:
    """The head tree's paths: ``git ls-tree -r`` of the head commit, or for the working tree
    the files git tracks and the untracked ones it does not ignore. Listed once: when asked,
    or started at once in the background when ``eager``."""
    if head_commit is not None:
        args = ["ls-tree", "-r", "-z", "--name-only", "--full-tree", head_commit]
    else:
        args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]

    def listing() -> TreeListing | None:
        out = run_git(root, args)
        return TreeListing(paths=tuple(sorted({decode_path(p) for p in out.split(b"\0") if p})))

    return _once(listing, eager=eager)


def _once(compute: Callable[[], _T], *, eager: bool) -> Callable[[], _T]:
    """``compute``'s result, computed once: on the first call, or in a background thread
    started now when ``eager`` (the first call then waits for it)."""
    lock = threading.Lock()
    memo: list[_T] = []

    def get() -> _T:
        with lock:
            if not memo:
                memo.append(compute())
            return memo[0]

    def ahead() -> None:
        # A failure here is left for the first call, which computes again and raises it.
        with contextlib.suppress(Exception):
            get()

    if eager:
        threading.Thread(target=ahead, daemon=True).start()
    return get


def head_reader(root: Path, reader: BlobReader, head_commit: str | None) -> PathReader:
    if head_commit is not None:
        return ref_reader(reader, head_commit)

    def read(path: str) -> bytes | None:
        full = safe_worktree_path(root, path)
        return full.read_bytes() if full is not None else None

    return read


def ref_reader(reader: BlobReader, commit: str | None, *, eager: bool = False) -> PathReader:
    """Reads files of ``commit``. Past a few reads (at once when ``eager``), a path the commit
    does not hold is answered from one listing of its tree, without a round trip to git: the
    settings files tools read are looked for in every folder above each changed file, and most
    of them do not exist (a small change never pays for listing a large repository's tree)."""
    count = [0]

    def listing() -> frozenset[str]:
        args = ["ls-tree", "-r", "-z", "--name-only", str(commit)]
        out = run_git(reader.root, args)
        return frozenset(decode_path(p) for p in out.split(b"\0") if p)

    held = _once(listing, eager=eager and commit is not None)

    def read(path: str) -> bytes | None:
        if commit is None or "\n" in path:
            return None
        count[0] += 1
        if (count[0] > READS_BEFORE_LISTING or eager) and path not in held():
            return None
        return reader.read(f"{commit}:{path}")

    return read


class BlobReader:
    """One long-lived ``git cat-file --batch`` process: thousands of reads without a fork each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}
        #: Blobs read ahead in one batch (sha -> contents).
        self._blobs: dict[str, bytes] = {}

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                env=git_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            weakref.finalize(self, _close, self._proc)
        return self._proc

    def read(self, name: str) -> bytes | None:
        with self._lock:
            if name in self._blobs:
                return self._blobs[name]
            proc = self._process()
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(name.encode("utf-8", errors="surrogateescape") + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline()
            if not header or header.endswith(b"missing\n") or b" " not in header:
                return None
            _sha, kind, size_text = header.rstrip(b"\n").split(b" ")
            size = int(size_text)
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after the object
            if kind != b"blob":
                return None
            return data

    def preload(self, shas: Iterable[str]) -> None:
        """Learn the sizes of many blobs, and read the ones small enough to be judged (up to
        :data:`PRELOAD_BYTES` in all) with one ``git cat-file --batch``: a change of hundreds
        of files is read in one go instead of one round trip each."""
        wanted = sorted(set(shas))
        self.preload_sizes(wanted)
        batch: list[str] = []
        budget = PRELOAD_BYTES
        for sha in wanted:
            size = self._sizes.get(sha)
            if size is not None and size <= min(SNIFF_MAX_BYTES, budget):
                batch.append(sha)
                budget -= size
        if not batch:
            return
        out, pos = self._batch("--batch", batch), 0
        while pos < len(out):
            end = out.find(b"\n", pos)
            if end < 0:
                break
            fields = out[pos:end].split(b" ")
            pos = end + 1
            if len(fields) != 3:  # "<name> missing": nothing follows
                continue
            size = int(fields[2])
            if fields[1] == b"blob" and pos + size <= len(out):
                self._blobs[fields[0].decode("ascii")] = out[pos : pos + size]
            pos += size + 1

    def preload_sizes(self, shas: Iterable[str]) -> None:
        """Learn the sizes of many blobs with one ``git cat-file --batch-check``."""
        wanted = sorted(set(shas) - self._sizes.keys())
        if not wanted:
            return
        for line in self._batch("--batch-check", wanted).decode("ascii", "replace").splitlines():
            fields = line.split(" ")
            if len(fields) == 3 and fields[1] == "blob":
                self._sizes[fields[0]] = int(fields[2])

    def _batch(self, mode: str, names: list[str]) -> bytes:
        """One ``git cat-file MODE`` over ``names``: what it prints."""
        return subprocess.run(
            ["git", "cat-file", mode],
            cwd=self.root,
            env=git_env(),
            input="\n".join(names).encode() + b"\n",
            capture_output=True,
            check=False,
        ).stdout

    def known_size(self, sha: str) -> int | None:
        return self._sizes.get(sha)

    def loader(self, sha: str) -> Loader:
        return cached_loader(lambda: self.read(sha))


def _close(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin:
        proc.stdin.close()
    proc.wait(timeout=5)
