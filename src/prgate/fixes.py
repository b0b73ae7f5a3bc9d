"""Automatic fixes as new file contents, and writing them to a working tree.

:func:`compute_fixes` turns a report's fixable findings into new contents for each file: it
hands the findings of each external tool's rules to that tool's fix hook (see
:mod:`prgate.checks.tools`), which computes them from the files at head with the base branch's
settings. :func:`apply_fixes` writes them to a working tree (``prgate fix``); the App reads
:func:`fixed_contents` to build its fix commit.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from prgate.checks import CheckKind, FetchBase, read_settings, registry
from prgate.checks.tools import FixRequest, Runner, safe_relpath, tools_in_use
from prgate.config import Config
from prgate.errors import PrgateError
from prgate.model import ChangeSet, Report


class FixError(PrgateError):
    """A fix that cannot be written safely; nothing was written."""


@dataclass(frozen=True)
class FileFix:
    """New contents for one file and the rules whose findings they resolve."""

    path: str
    content: bytes
    rules: tuple[str, ...]
    description: str
    #: The contents the fix was computed from; a file that no longer has them is not touched.
    original: bytes | None = None


def fixed_contents(fixes: Iterable[FileFix]) -> dict[str, bytes]:
    """``path -> new contents``, for a commit that applies every fix."""
    return {fix.path: fix.content for fix in fixes}


def compute_fixes(
    changeset: ChangeSet,
    config: Config,
    report: Report,
    *,
    runner: Runner | None = None,
    kinds: Mapping[str, CheckKind] | None = None,
) -> tuple[FileFix, ...]:
    """New contents for every file with a fixable finding in ``report``.

    Each tool whose rules found something fixable computes the new contents of those files
    (:meth:`prgate.checks.tools.Tool.fix`), limited to what the change introduced. Files
    without a fixable finding are never touched; a file two tools would fix gets the first
    one's fix (the next run of the check finds what is left). ``kinds`` replaces the registry
    of check kinds, as for :func:`prgate.engine.evaluate`.
    """
    kinds = kinds if kinds is not None else registry()
    enabled = [r for r in config.rules if r.enabled]
    fixes: dict[str, FileFix] = {}
    for tool, rules in tools_in_use(enabled, kinds):
        by_id = {r.id: r for r in rules}
        found = tuple(
            (by_id[f.rule], f)
            for f in report.findings
            if f.fixable and f.path is not None and f.rule in by_id
        )
        heads: dict[str, bytes] = {}
        for path in sorted({f.path for _, f in found if f.path and f.path not in fixes}):
            data = _head_text_bytes(changeset, path)
            if data is not None and safe_relpath(path) is not None:
                heads[path] = data
        if not heads:
            continue
        request = FixRequest(
            changeset=changeset,
            rules=tuple(rules),
            findings=found,
            heads=heads,
            settings=read_settings(tool.reads, changeset, _read_base(changeset)),
            runner=runner,
        )
        for path, fixed in sorted(tool.fix(request).items()):
            if path not in heads or fixed.content == heads[path]:
                continue  # a tool may only rewrite the files it was given
            fixes[path] = FileFix(
                path=path,
                content=fixed.content,
                rules=fixed.rules,
                description=fixed.description,
                original=heads[path],
            )
    return tuple(fixes[p] for p in sorted(fixes))


def _read_base(changeset: ChangeSet) -> FetchBase:
    return lambda paths: {p: changeset.read_base(p) for p in paths}


def _head_text_bytes(changeset: ChangeSet, path: str) -> bytes | None:
    change = changeset.file(path)
    if change is None or not change.is_regular or not change.is_utf8():
        return None
    return change.head_bytes()


# --- writing to a working tree --------------------------------------------------------------

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def apply_fixes(root: Path, fixes: Sequence[FileFix]) -> list[str]:
    """Write ``fixes`` into the working tree at ``root``; return a line per file changed.

    Every target is checked before anything is written: it must be a plain relative path
    inside ``root``, reached without following a symbolic link, be a regular file, and still
    hold the contents the fix was computed from. Otherwise :class:`FixError` is raised and no
    file is written. Each file is replaced atomically (a new file, then a rename over the old).
    """
    problems = []
    for fix in fixes:
        problem = _why_unsafe(root, fix)
        if problem:
            problems.append(f"{fix.path}: {problem}")
    if problems:
        raise FixError("prgate did not write any fix: " + "; ".join(problems))
    changed = []
    for fix in fixes:
        if _write(root, fix):
            changed.append(f"{fix.path}: {fix.description}")
    return changed


def _why_unsafe(root: Path, fix: FileFix) -> str | None:
    parts = safe_relpath(fix.path)
    if parts is None:
        return "not a plain path inside the repository"
    try:
        fd = _open_parent(root, parts)
    except FixError as exc:
        return str(exc)
    try:
        try:
            st = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return "the file no longer exists"
        if stat.S_ISLNK(st.st_mode):
            return "it is a symbolic link, which prgate does not write through"
        if not stat.S_ISREG(st.st_mode):
            return "it is not a regular file"
        if fix.original is not None and _read(fd, parts[-1]) not in (fix.original, fix.content):
            return "it changed since it was checked; run prgate fix again"
    finally:
        os.close(fd)
    resolved = os.path.realpath(root.joinpath(*parts))
    if not _inside(Path(resolved), root):
        return "it is outside the repository"
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True


def _open_parent(root: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of the folder holding ``parts``, opened one level at a time, no links."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                new = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                raise FixError(
                    f"its folder {part!r} is missing, not a folder, or a symbolic link"
                ) from None
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read(dir_fd: int, name: str) -> bytes:
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0), dir_fd=dir_fd)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _write(root: Path, fix: FileFix) -> bool:
    parts = safe_relpath(fix.path)
    assert parts is not None
    name = parts[-1]
    dir_fd = _open_parent(root, parts)
    try:
        if _read(dir_fd, name) == fix.content:
            return False
        mode = stat.S_IMODE(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
        temp = f".{name[:200]}.prgate-fix-{os.getpid()}"
        fd = os.open(temp, _NEW_FILE_FLAGS, mode, dir_fd=dir_fd)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)  # the umask must not change the file's permissions
            with os.fdopen(fd, "wb") as fh:
                fh.write(fix.content)
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)
    return True
