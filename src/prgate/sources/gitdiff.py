"""What a local change holds, file by file: ``git diff --raw`` for the files, ``-U0`` for their
added lines and the lines removed, untracked files for the working tree, and each file's kind
(binary from its contents, link, submodule) with loaders for its two sides."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from prgate.model import FileChange, FileStatus, LineRange, Loader, looks_binary
from prgate.sources.gitobjects import (
    SNIFF_MAX_BYTES,
    BlobReader,
    none,
    worktree_loader,
    worktree_size,
)
from prgate.sources.gitrun import decode_path, run_git

_ZERO = re.compile(r"^0+$")


_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


_SYMLINK_MODE = "120000"


_SUBMODULE_MODE = "160000"


@dataclass(frozen=True)
class _RawEntry:
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: str
    path: str
    old_path: str | None


def _parse_raw(out: bytes) -> list[_RawEntry]:
    parts = out.split(b"\0")
    entries: list[_RawEntry] = []
    i = 0
    while i < len(parts) and parts[i]:
        meta = parts[i].decode("ascii").lstrip(":").split(" ")
        old_mode, new_mode, old_sha, new_sha, status = meta[:5]
        kind = status[0]
        if kind in ("R", "C"):
            old_path, path = decode_path(parts[i + 1]), decode_path(parts[i + 2])
            i += 3
        else:
            old_path, path = None, decode_path(parts[i + 1])
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
                current = decode_path(target[2:] if target[:2] in (b"a/", b"b/") else target)
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


def diff_files(
    root: Path, reader: BlobReader, *, diff_base: str, head_commit: str | None
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
        head_loader: Loader = none
        size: int | None = None
        if deleted or is_submodule:
            pass
        elif head_commit is not None:
            head_loader, size = reader.loader(e.new_sha), reader.known_size(e.new_sha)
        else:
            head_loader, size = worktree_loader(root, e.path), worktree_size(root, e.path)
        old_sha = None if _ZERO.match(e.old_sha) or is_submodule else e.old_sha
        base_loader = reader.loader(old_sha) if old_sha else none
        sniffed = base_loader if deleted else head_loader
        is_binary = not (is_symlink or is_submodule) and _looks_binary(sniffed, size)
        special = is_binary or is_symlink or is_submodule
        target = None
        if is_symlink and not deleted:
            target = link_target(head_loader() if head_commit else readlink(root, e.path))
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


def readlink(root: Path, path: str) -> bytes | None:
    try:
        return os.fsencode(os.readlink(root / path))
    except OSError:
        return None


def link_target(data: bytes | None) -> str | None:
    """Where a link points, as text (the blob of a link holds its target)."""
    return data.decode("utf-8", "replace") if data else None


def _looks_binary(load: Loader, size: int | None) -> bool:
    """A NUL byte near the start, as git itself judges when no attribute says otherwise.

    Files too large to analyse are not read here: the engine reports them as not analysed.
    """
    if size is not None and size > SNIFF_MAX_BYTES:
        return False
    data = load()
    return looks_binary(data)


_STATUS = {
    "A": FileStatus.ADDED,
    "C": FileStatus.ADDED,
    "D": FileStatus.DELETED,
    "R": FileStatus.RENAMED,
}


def untracked_files(root: Path) -> Iterator[FileChange]:
    out = run_git(root, ["ls-files", "--others", "--exclude-standard", "-z", "--"])
    for raw in out.split(b"\0"):
        if not raw:
            continue
        path = decode_path(raw)
        full = root / path
        try:
            info = os.lstat(full)
        except OSError:
            continue
        is_symlink = stat.S_ISLNK(info.st_mode)
        if stat.S_ISDIR(info.st_mode):  # an untracked nested repository
            yield FileChange(path=path, status=FileStatus.ADDED, is_submodule=True)
            continue
        loader = worktree_loader(root, path)
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
            link_target=link_target(readlink(root, path)) if is_symlink else None,
            head_loader=loader,
        )


def _line_count(data: bytes) -> int:
    """Lines as git counts them: newlines, plus a last line without one."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
