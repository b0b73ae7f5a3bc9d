"""Automatic fixes as new file contents, and writing them to a working tree.

:func:`compute_fixes` turns a report's fixable findings into new contents for each file (ruff's
safe lint fixes, then ``ruff format``), computed from the files at head with the base branch's
ruff settings. :func:`apply_fixes` writes them to a working tree (``prgate fix``); the App reads
:func:`fixed_contents` to build its fix commit.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from prgate.checks import Rule
from prgate.checks.debug import KIND_NAME as DEBUG_KIND
from prgate.checks.ruff import KIND_NAME as RUFF_KIND
from prgate.checks.ruff import Runner, is_format_rule, ruff_code_of, safe_relpath
from prgate.checks.ruff.fix import FilePlan, ruff_fixed
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
) -> tuple[FileFix, ...]:
    """New contents for every file with a fixable finding in ``report``.

    Ruff's tool kind computes them (see :mod:`prgate.checks.ruff.fix`): the lines a formatting
    finding names are reformatted (never a whole file), then ruff applies its *safe* fixes for
    the codes of the fixable lint findings of that file, with the team's settings on the base
    branch, their excludes and their ``# noqa`` comments. Files without a fixable finding are
    never touched.
    """
    by_id = {r.id: r for r in config.rules if r.enabled}
    plans = _plans(report, by_id)
    heads = {}
    for path in sorted(plans):
        data = _head_text_bytes(changeset, path)
        if data is not None and safe_relpath(path) is not None:
            heads[path] = data
    if not heads:
        return ()
    format_after = any(is_format_rule(r) for r in by_id.values())
    results = ruff_fixed(changeset, plans, heads, runner=runner, format_after=format_after)
    fixes = []
    for path in sorted(results):
        content, reformatted = results[path]
        if content == heads[path]:
            continue
        plan = plans[path]
        fixes.append(
            FileFix(
                path=path,
                content=content,
                rules=tuple(sorted(plan.rules)),
                description=_describe(plan, reformatted=reformatted),
                original=heads[path],
            )
        )
    return tuple(fixes)


def _plans(report: Report, rules: Mapping[str, Rule]) -> dict[str, FilePlan]:
    plans: dict[str, FilePlan] = defaultdict(FilePlan)
    for finding in report.findings:
        rule = rules.get(finding.rule)
        if not finding.fixable or finding.path is None or rule is None:
            continue
        if is_format_rule(rule):
            if finding.line is not None:
                end = finding.end_line if finding.end_line is not None else finding.line
                plans[finding.path].ranges.append((finding.line, end))
                plans[finding.path].rules.add(rule.id)
        elif rule.check in (RUFF_KIND, DEBUG_KIND):
            code = ruff_code_of(finding)
            if code is not None:
                plans[finding.path].codes.add(code)
                plans[finding.path].rules.add(rule.id)
    return dict(plans)


def _head_text_bytes(changeset: ChangeSet, path: str) -> bytes | None:
    change = changeset.file(path)
    if change is None or not change.is_regular or not change.is_utf8():
        return None
    return change.head_bytes()


def _describe(plan: FilePlan, *, reformatted: bool) -> str:
    parts = []
    if plan.codes:
        parts.append("applied ruff's safe fixes for " + ", ".join(sorted(plan.codes)))
    if reformatted:
        parts.append("reformatted the lines the change added")
    return " and ".join(parts) or "applied ruff's fixes"


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
