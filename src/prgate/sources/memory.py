"""A ChangeSet built from texts in memory: for rule test cases and for tests."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prgate.model import (
    ChangeSet,
    FileChange,
    FileStatus,
    LineRange,
    Loader,
    TreeListing,
    looks_binary,
)


@dataclass(frozen=True)
class FileSides:
    """One file before and after. ``None`` means absent on that side."""

    base: str | bytes | None
    head: str | bytes | None
    old_path: str | None = None
    #: A link's ``head`` is where it points.
    is_symlink: bool = False
    is_submodule: bool = False


def _as_bytes(value: str | bytes | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return value.encode("utf-8")


def added_ranges(base: bytes | None, head: bytes | None) -> tuple[tuple[LineRange, ...], int]:
    """Line ranges of ``head`` that are new compared with ``base``, and the lines removed."""
    head_lines = _lines(head)
    base_lines = _lines(base)
    ranges: list[LineRange] = []
    removed = 0
    matcher = difflib.SequenceMatcher(a=base_lines, b=head_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert") and j2 > j1:
            ranges.append(LineRange(j1 + 1, j2))
        if tag in ("replace", "delete"):
            removed += i2 - i1
    return tuple(ranges), removed


def _lines(data: bytes | None) -> list[bytes]:
    """Lines as git counts them: split on ``\\n`` only."""
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def changeset_from_files(
    files: Mapping[str, FileSides],
    *,
    labels: Iterable[str] = (),
    author: str | None = None,
    base_files: Mapping[str, str | bytes] | None = None,
    head_files: Mapping[str, str | bytes] | None = None,
) -> ChangeSet:
    """Build a ChangeSet from ``path -> FileSides``.

    ``base_files``/``head_files`` hold unchanged files that checks may read by path (for
    example a flag registry); changed files are readable by path too.
    """
    changes: list[FileChange] = []
    base_all = _bytes_map(base_files)
    head_all = _bytes_map(head_files)
    for path in sorted(files):
        sides = files[path]
        base = _as_bytes(sides.base)
        head = _as_bytes(sides.head)
        if base is not None:
            base_all[sides.old_path or path] = base
        if head is not None:
            head_all[path] = head
        if head is None:
            status = FileStatus.DELETED
        elif sides.old_path is not None:
            status = FileStatus.RENAMED
        elif base is None:
            status = FileStatus.ADDED
        else:
            status = FileStatus.MODIFIED
        binary = looks_binary(base) or looks_binary(head)
        special = sides.is_symlink or sides.is_submodule
        target = head.decode("utf-8", "replace") if sides.is_symlink and head else None
        if binary or special or head is None:
            ranges: tuple[LineRange, ...] = ()
            removed = 0 if binary or special else len(_lines(base))
        else:
            ranges, removed = added_ranges(base, head)
        changes.append(
            FileChange(
                path=path,
                status=status,
                old_path=sides.old_path,
                added=ranges,
                removed_lines=removed,
                is_binary=binary,
                is_symlink=sides.is_symlink,
                is_submodule=sides.is_submodule,
                size=len(head) if head is not None else None,
                link_target=target,
                head_loader=constant(head),
                base_loader=constant(base),
            )
        )
    return ChangeSet(
        files=tuple(changes),
        labels=frozenset(labels),
        author=author,
        read_head=head_all.get,
        read_base=base_all.get,
        head_tree=constant_tree(TreeListing(paths=tuple(sorted(head_all)))),
    )


def constant_tree(listing: TreeListing | None) -> Callable[[], TreeListing | None]:
    def tree() -> TreeListing | None:
        return listing

    return tree


def _bytes_map(files: Mapping[str, str | bytes] | None) -> dict[str, bytes]:
    return {k: v if isinstance(v, bytes) else v.encode("utf-8") for k, v in (files or {}).items()}


def constant(value: bytes | None) -> Loader:
    """A loader of contents already in memory."""

    def load() -> bytes | None:
        return value

    return load
