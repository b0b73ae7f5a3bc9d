"""Hold-the-line: the blocks of a file that a tool would rewrite, and rewriting only some.

A tool's output for a whole file is compared with the file line by line; each block of
difference is a :class:`Hunk` (head lines ``start``..``end``). Only blocks that overlap lines
the change added are reported and fixed, so layout that was already there stays as it was.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Hunk:
    """Head lines ``start``..``end`` (1-based) become ``replacement`` lines."""

    start: int
    end: int
    #: Index range in the head's lines (``lo`` == ``hi`` for a pure insertion).
    lo: int
    hi: int
    replacement: tuple[str, ...]


def hunks(head: str, new: str) -> list[Hunk]:
    """Where ``new`` differs from ``head`` (an insertion counts as a change of the line before)."""
    if head == new:
        return []
    a = head.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    out: list[Hunk] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            # Line for line: each line its own block, so that an old line beside an added one
            # is not rewritten with it.
            out.extend(Hunk(i + 1, i + 1, i, i + 1, (b[j1 + i - i1],)) for i in range(i1, i2))
            continue
        start = i1 + 1 if i2 > i1 else max(i1, 1)
        end = i2 if i2 > i1 else start
        out.append(Hunk(start, end, i1, i2, tuple(b[j1:j2])))
    return out


def apply(head: str, chosen: Sequence[Hunk]) -> str:
    """``head`` with only the ``chosen`` hunks (of :func:`hunks`) applied."""
    lines = head.splitlines(keepends=True)
    for h in sorted(chosen, key=lambda h: h.lo, reverse=True):
        lines[h.lo : h.hi] = list(h.replacement)
    return "".join(lines)


def introduced(head: str, new: str, touches: Callable[[int, int], bool]) -> list[Hunk]:
    """The hunks between ``head`` and ``new`` that overlap added lines."""
    return [h for h in hunks(head, new) if touches(h.start, h.end)]
