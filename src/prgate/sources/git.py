"""Build a ChangeSet from a local git repository: from merge-base(BASE, HEAD) to HEAD.

HEAD is a commit, or the working tree (committed, staged and unstaged changes, and untracked files
that git does not ignore). Git runs without a shell, with ``--`` before paths, with NUL-separated
output, and with an environment that carries nothing of the caller's secrets.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from prgate.childenv import child_env
from prgate.errors import SourceError
from prgate.model import (
    ChangeSet,
    FileChange,
    FileStatus,
    LineRange,
    Loader,
    PathReader,
    TreeListing,
    looks_binary,
)

#: git's well-known empty tree: the base of a repository that has no commits.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_ZERO = re.compile(r"^0+$")
_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_SYMLINK_MODE = "120000"
_SUBMODULE_MODE = "160000"
#: Larger files are not read to decide whether they are binary (they are not analysed anyway).
_SNIFF_MAX_BYTES = 8 * 1024 * 1024
_T = TypeVar("_T")
#: At most this much of a change's head files is read ahead in one batch (the rest one by one).
_PRELOAD_BYTES = 64 * 1024 * 1024


def git_env() -> dict[str, str]:
    """The environment git runs in: the child environment (:mod:`prgate.childenv`), where the
    user's global git settings are found, output in a stable form, never a prompt."""
    return child_env(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_OPTIONAL_LOCKS": "0",
            "LC_ALL": "C",
        },
        # Where the global settings (``safe.directory`` among them) are, besides ``~/.gitconfig``.
        # Not ``GIT_CONFIG_COUNT``/``_KEY_n``/``_VALUE_n``: those can carry an access token
        # (``http.extraHeader``), and prgate's git calls never reach a remote.
        keep=("GIT_CONFIG_GLOBAL", "XDG_CONFIG_HOME"),
    )


def run_git(root: Path, args: Sequence[str], *, check: bool = True) -> bytes:
    """Run git in ``root`` and return its standard output."""
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=root,
            env=git_env(),
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise SourceError("git is not installed, or not on the PATH.") from exc
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit code {proc.returncode}"
        raise SourceError(f"git {args[0]} failed: {detail}")
    return proc.stdout


@dataclass(frozen=True)
class LocalChange:
    """A change in a local repository, with what is needed to read its base config."""

    changeset: ChangeSet
    root: Path
    #: The BASE commit the config is read from (``None`` when the repository has no commits).
    base_commit: str | None
    #: The commit the diff starts from (merge-base of BASE and HEAD), or the empty tree.
    diff_base: str
    #: The head commit, or ``None`` for the working tree.
    head_commit: str | None


def repo_root(path: Path) -> Path:
    if not path.exists():
        raise SourceError(f"{path} does not exist.")
    if not path.is_dir():
        raise SourceError(f"{path} is not a folder.")
    try:
        out = run_git(path, ["rev-parse", "--show-toplevel"])
    except SourceError as exc:
        raise SourceError(
            f"{path} is not inside a git repository, so prgate cannot tell what changed. "
            "Run it inside a repository (or pass its path)."
        ) from exc
    return Path(out.decode("utf-8", errors="surrogateescape").strip())


def resolve_commit(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or ``None`` when it names nothing."""
    if ref.startswith("-"):
        return None
    out = run_git(
        root,
        ["rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"],
        check=False,
    )
    text = out.decode().strip()
    return text or None


def default_base(root: Path) -> tuple[str, str] | None:
    """The repository's default branch: ``origin/HEAD``, else ``main``, else ``master``."""
    for ref in ("origin/HEAD", "main", "master"):
        sha = resolve_commit(root, ref)
        if sha:
            return ref, sha
    return None


def has_commits(root: Path) -> bool:
    return resolve_commit(root, "HEAD") is not None


def open_change(
    path: Path,
    *,
    base: str | None = None,
    head: str | None = None,
    labels: Iterable[str] = (),
    author: str | None = None,
) -> LocalChange:
    """Read the change from merge-base(BASE, HEAD) to HEAD (the working tree when ``head`` is None)."""
    root = repo_root(path)
    head_commit: str | None = None
    if head is not None:
        head_commit = resolve_commit(root, head)
        if head_commit is None:
            raise SourceError(
                f"The head '{head}' is not a branch, tag or commit in this repository."
            )

    base_name: str
    base_commit: str | None
    if base is not None:
        base_commit = resolve_commit(root, base)
        if base_commit is None:
            raise SourceError(
                f"The base '{base}' is not a branch, tag or commit in this repository. "
                "Check the name with `git branch -a`."
            )
        base_name = base
    else:
        found = default_base(root)
        if found is not None:
            base_name, base_commit = found
        elif not has_commits(root):
            base_name, base_commit = "an empty repository", None
        else:
            raise SourceError(
                "prgate could not find the branch to compare with: there is no origin/HEAD, "
                "main or master. Name it with --base (for example --base develop)."
            )

    diff_base = EMPTY_TREE
    if base_commit is not None:
        tip = head_commit or resolve_commit(root, "HEAD")
        if tip is None:
            diff_base = base_commit
        else:
            mb = run_git(root, ["merge-base", base_commit, tip], check=False).decode().strip()
            if not mb:
                shallow = run_git(root, ["rev-parse", "--is-shallow-repository"], check=False)
                raise SourceError(
                    f"The base '{base_name}' and the head share no history, so there is no "
                    "change to compare. "
                    + (
                        "This clone is shallow (it holds only the latest commits): fetch more "
                        "history, for example `git fetch --unshallow`, or with actions/checkout "
                        "set fetch-depth: 0."
                        if shallow.strip() == b"true"
                        else "Pick a base branch this work started from."
                    )
                )
            diff_base = mb

    reader = _BlobReader(root)
    files = list(_diff_files(root, reader, diff_base=diff_base, head_commit=head_commit))
    if head_commit is None:
        files.extend(_untracked_files(root))
    files.sort(key=lambda f: f.path)
    for f in files:
        _require_utf8_name(f.path)
    head_name = head if head is not None else "the working tree"
    # A large change looks for settings in many folders and its tools want the head's tree:
    # both trees are listed in the background while the config is read.
    large = len(files) > _READS_BEFORE_LISTING
    changeset = ChangeSet(
        files=tuple(files),
        labels=frozenset(labels),
        author=author,
        base_name=base_name,
        head_name=head_name,
        read_head=_head_reader(root, reader, head_commit),
        read_base=_ref_reader(reader, None if diff_base == EMPTY_TREE else diff_base, eager=large),
        head_tree=_tree_lister(root, head_commit, eager=large),
    )
    return LocalChange(
        changeset=changeset,
        root=root,
        base_commit=base_commit,
        diff_base=diff_base,
        head_commit=head_commit,
    )


@dataclass(frozen=True)
class _RawEntry:
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: str
    path: str
    old_path: str | None


def _require_utf8_name(path: str) -> None:
    """Refuse (fail closed) a change with a file name that is not UTF-8: it cannot be shown,
    matched against the rules' patterns, or checked as the same file on GitHub."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise SourceError(
            f"The file name {shown!r} is not UTF-8 text, so prgate cannot judge this change. "
            "Rename the file using plain letters, digits, '-', '_' and '.'."
        ) from None


def _decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


def _parse_raw(out: bytes) -> list[_RawEntry]:
    parts = out.split(b"\0")
    entries: list[_RawEntry] = []
    i = 0
    while i < len(parts) and parts[i]:
        meta = parts[i].decode("ascii").lstrip(":").split(" ")
        old_mode, new_mode, old_sha, new_sha, status = meta[:5]
        kind = status[0]
        if kind in ("R", "C"):
            old_path, path = _decode_path(parts[i + 1]), _decode_path(parts[i + 2])
            i += 3
        else:
            old_path, path = None, _decode_path(parts[i + 1])
            i += 2
        entries.append(_RawEntry(old_mode, new_mode, old_sha, new_sha, kind, path, old_path))
    return entries


def _unquote(raw: bytes) -> bytes:
    """Undo git's C-style quoting of a path in a patch header."""
    if not raw.startswith(b'"'):
        return raw
    body = raw[1:-1]
    out = bytearray()
    i = 0
    simple = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13}
    while i < len(body):
        c = body[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt.isdigit():
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        else:
            out += nxt
            i += 2
    return bytes(out)


def _parse_hunks(out: bytes) -> tuple[dict[str, list[LineRange]], dict[str, int]]:
    """Added line ranges and the number of lines removed, per head path, from a ``-U0``
    patch."""
    added: dict[str, list[LineRange]] = {}
    removed: dict[str, int] = {}
    current: str | None = None
    in_hunk = False
    for line in out.split(b"\n"):
        if line.startswith(b"diff --git "):
            current, in_hunk = None, False
        elif not in_hunk and line.startswith((b"--- ", b"+++ ")):
            # git ends the name with a tab when it holds a space; a real tab would be quoted.
            # A deleted file's lines count against its old name (its new one is /dev/null).
            target = line[4:].removesuffix(b"\t")
            if target != b"/dev/null":
                target = _unquote(target)
                current = _decode_path(target[2:] if target[:2] in (b"a/", b"b/") else target)
                added.setdefault(current, [])
        elif line.startswith(b"@@ "):
            match = _HUNK.match(line)
            if match and current is not None:
                in_hunk = True
                gone = int(match.group(1)) if match.group(1) is not None else 1
                removed[current] = removed.get(current, 0) + gone
                start = int(match.group(2))
                count = int(match.group(3)) if match.group(3) is not None else 1
                if count > 0:
                    added[current].append(LineRange(start, start + count - 1))
    return added, removed


def _diff_files(
    root: Path, reader: _BlobReader, *, diff_base: str, head_commit: str | None
) -> Iterator[FileChange]:
    sides = [diff_base] + ([head_commit] if head_commit else [])
    common = ["-M", "--no-ext-diff", "--no-textconv", "--ignore-submodules=none"]
    raw = run_git(root, ["diff", "--raw", "-z", "--no-abbrev", *common, *sides, "--"])
    entries = _parse_raw(raw)
    if not entries:
        return
    # `--text`: whether a file is binary is decided below from its contents, never by git's
    # attributes, which the change itself could set (`*.py binary` must not hide code).
    patch = ["diff", "-U0", "--text", "--no-color", "--src-prefix=a/", "--dst-prefix=b/"]
    # The lines' diff runs while the head files are read ahead: two processes side by side.
    with ThreadPoolExecutor(max_workers=1) as pool:
        lines = pool.submit(run_git, root, [*patch, *common, *sides, "--"])
        if head_commit is not None:
            reader.preload(e.new_sha for e in entries if not _ZERO.match(e.new_sha))
        hunks, removed = _parse_hunks(lines.result())
    for e in entries:
        status = _STATUS.get(e.status, FileStatus.MODIFIED)
        deleted = status is FileStatus.DELETED
        head_mode = e.old_mode if deleted else e.new_mode
        is_symlink = head_mode == _SYMLINK_MODE
        is_submodule = _SUBMODULE_MODE in (head_mode, e.old_mode)
        head_loader: Loader = _none
        size: int | None = None
        if deleted or is_submodule:
            pass
        elif head_commit is not None:
            head_loader, size = reader.loader(e.new_sha), reader.known_size(e.new_sha)
        else:
            head_loader, size = _worktree_loader(root, e.path), _worktree_size(root, e.path)
        old_sha = None if _ZERO.match(e.old_sha) or is_submodule else e.old_sha
        base_loader = reader.loader(old_sha) if old_sha else _none
        sniffed = base_loader if deleted else head_loader
        is_binary = not (is_symlink or is_submodule) and _looks_binary(sniffed, size)
        special = is_binary or is_symlink or is_submodule
        target = None
        if is_symlink and not deleted:
            target = _link_target(head_loader() if head_commit else _readlink(root, e.path))
        yield FileChange(
            path=e.path,
            status=status,
            old_path=e.old_path if status is FileStatus.RENAMED else None,
            added=() if special else tuple(hunks.get(e.path, ())),
            removed_lines=0 if special else removed.get(e.path) or 0,
            is_binary=is_binary,
            is_symlink=is_symlink,
            is_submodule=is_submodule,
            size=size,
            link_target=target,
            head_loader=head_loader,
            base_loader=base_loader,
        )


def _readlink(root: Path, path: str) -> bytes | None:
    try:
        return os.fsencode(os.readlink(root / path))
    except OSError:
        return None


def _link_target(data: bytes | None) -> str | None:
    """Where a link points, as text (the blob of a link holds its target)."""
    return data.decode("utf-8", "replace") if data else None


def _looks_binary(load: Loader, size: int | None) -> bool:
    """A NUL byte near the start, as git itself judges when no attribute says otherwise.

    Files too large to analyse are not read here: the engine reports them as not analysed.
    """
    if size is not None and size > _SNIFF_MAX_BYTES:
        return False
    data = load()
    return looks_binary(data)


_STATUS = {
    "A": FileStatus.ADDED,
    "C": FileStatus.ADDED,
    "D": FileStatus.DELETED,
    "R": FileStatus.RENAMED,
}


def _untracked_files(root: Path) -> Iterator[FileChange]:
    out = run_git(root, ["ls-files", "--others", "--exclude-standard", "-z", "--"])
    for raw in out.split(b"\0"):
        if not raw:
            continue
        path = _decode_path(raw)
        full = root / path
        try:
            info = os.lstat(full)
        except OSError:
            continue
        is_symlink = stat.S_ISLNK(info.st_mode)
        if stat.S_ISDIR(info.st_mode):  # an untracked nested repository
            yield FileChange(path=path, status=FileStatus.ADDED, is_submodule=True)
            continue
        loader = _worktree_loader(root, path)
        data = None if is_symlink else loader()
        is_binary = looks_binary(data)
        lines = 0 if data is None or is_binary else _line_count(data)
        yield FileChange(
            path=path,
            status=FileStatus.ADDED,
            added=(LineRange(1, lines),) if lines else (),
            is_binary=is_binary,
            is_symlink=is_symlink,
            size=info.st_size,
            link_target=_link_target(_readlink(root, path)) if is_symlink else None,
            head_loader=loader,
        )


def _line_count(data: bytes) -> int:
    """Lines as git counts them: newlines, plus a last line without one."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def _none() -> bytes | None:
    return None


def _safe_worktree_path(root: Path, path: str) -> Path | None:
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


def _worktree_loader(root: Path, path: str) -> Loader:
    def load() -> bytes | None:
        full = _safe_worktree_path(root, path)
        if full is None:
            return None
        try:
            return full.read_bytes()
        except OSError:
            return None

    return _cached(load)


def _worktree_size(root: Path, path: str) -> int | None:
    try:
        return os.lstat(root / path).st_size
    except OSError:
        return None


def _cached(load: Loader) -> Loader:
    box: list[bytes | None] = []

    def cached() -> bytes | None:
        if not box:
            box.append(load())
        return box[0]

    return cached


def _tree_lister(
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
        out = run_git(root, args, check=False)
        return TreeListing(paths=tuple(sorted({_decode_path(p) for p in out.split(b"\0") if p})))

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


def _head_reader(root: Path, reader: _BlobReader, head_commit: str | None) -> PathReader:
    if head_commit is not None:
        return _ref_reader(reader, head_commit)

    def read(path: str) -> bytes | None:
        full = _safe_worktree_path(root, path)
        return full.read_bytes() if full is not None else None

    return read


#: Reads of one commit answered by git one at a time before its tree is listed once.
_READS_BEFORE_LISTING = 64


def _ref_reader(reader: _BlobReader, commit: str | None, *, eager: bool = False) -> PathReader:
    """Reads files of ``commit``. Past a few reads (at once when ``eager``), a path the commit
    does not hold is answered from one listing of its tree, without a round trip to git: the
    settings files tools read are looked for in every folder above each changed file, and most
    of them do not exist (a small change never pays for listing a large repository's tree)."""
    count = [0]

    def listing() -> frozenset[str]:
        args = ["ls-tree", "-r", "-z", "--name-only", str(commit)]
        out = run_git(reader.root, args, check=False)
        return frozenset(_decode_path(p) for p in out.split(b"\0") if p)

    held = _once(listing, eager=eager and commit is not None)

    def read(path: str) -> bytes | None:
        if commit is None or "\n" in path:
            return None
        count[0] += 1
        if (count[0] > _READS_BEFORE_LISTING or eager) and path not in held():
            return None
        return reader.read(f"{commit}:{path}")

    return read


class _BlobReader:
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
        :data:`_PRELOAD_BYTES` in all) with one ``git cat-file --batch``: a change of hundreds
        of files is read in one go instead of one round trip each."""
        wanted = sorted(set(shas))
        self.preload_sizes(wanted)
        batch: list[str] = []
        budget = _PRELOAD_BYTES
        for sha in wanted:
            size = self._sizes.get(sha)
            if size is not None and size <= min(_SNIFF_MAX_BYTES, budget):
                batch.append(sha)
                budget -= size
        if not batch:
            return
        proc = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.root,
            env=git_env(),
            input="\n".join(batch).encode() + b"\n",
            capture_output=True,
            check=False,
        )
        out, pos = proc.stdout, 0
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
        proc = subprocess.run(
            ["git", "cat-file", "--batch-check"],
            cwd=self.root,
            env=git_env(),
            input="\n".join(wanted).encode() + b"\n",
            capture_output=True,
            check=False,
        )
        for line in proc.stdout.decode("ascii", errors="replace").splitlines():
            fields = line.split(" ")
            if len(fields) == 3 and fields[1] == "blob":
                self._sizes[fields[0]] = int(fields[2])

    def known_size(self, sha: str) -> int | None:
        return self._sizes.get(sha)

    def loader(self, sha: str) -> Loader:
        return _cached(lambda: self.read(sha))


def _close(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin:
        proc.stdin.close()
    proc.wait(timeout=5)
