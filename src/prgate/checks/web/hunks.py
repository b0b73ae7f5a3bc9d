"""Hold-the-line: the blocks of a file that a tool would rewrite, and rewriting only some.

A tool's output for a whole file is compared with the file line by line; each block of
difference is a :class:`Hunk` (head lines ``start``..``end``). Only blocks that overlap lines
the change added are reported and fixed, so layout that was already there stays as it was.
"""

from __future__ import annotations

import difflib
import itertools
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
    for tag, i1, i2, j1, j2 in _opcodes(a, b):
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            # Line for line: each line its own block, so that an old line beside an added one
            # is not rewritten with it.
            out.extend(Hunk(i + 1, i + 1, i, i + 1, (b[j1 + i - i1],)) for i in range(i1, i2))
            continue
        if tag == "replace":
            groups = _aligned(a[i1:i2], b[j1:j2])
            if groups is not None:
                # Line groups that hold the same code: an old line beside an added one keeps
                # its layout even when the formatter splits or joins lines.
                for (x1, x2), (y1, y2) in groups:
                    if a[i1 + x1 : i1 + x2] != b[j1 + y1 : j1 + y2]:
                        lo, hi = i1 + x1, i1 + x2
                        out.append(
                            Hunk(lo + 1, max(hi, lo + 1), lo, hi, tuple(b[j1 + y1 : j1 + y2]))
                        )
                continue
        start = i1 + 1 if i2 > i1 else max(i1, 1)
        end = i2 if i2 > i1 else start
        out.append(Hunk(start, end, i1, i2, tuple(b[j1:j2])))
    return out


def _opcodes(a: Sequence[str], b: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from ``a`` to ``b``, matching the lines both share at the start and at
    the end first (a formatter usually leaves most of a file alone, and the matcher's cost grows
    with the lines it is given)."""
    limit = min(len(a), len(b))
    start = 0
    while start < limit and a[start] == b[start]:
        start += 1
    end = 0
    while end < limit - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1
    matcher = difflib.SequenceMatcher(
        a=a[start : len(a) - end], b=b[start : len(b) - end], autojunk=False
    )
    out: list[tuple[str, int, int, int, int]] = [
        (tag, i1 + start, i2 + start, j1 + start, j2 + start)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]
    return out


#: Characters a formatter adds, removes or swaps without changing the code: spaces, line
#: breaks, semicolons, commas, quotes and parentheses.
_LAYOUT = frozenset(" \t\r\n;,'\"`()")


def _key(line: str) -> str:
    return "".join(ch for ch in line if ch not in _LAYOUT)


def _aligned(
    old: Sequence[str], new: Sequence[str]
) -> list[tuple[tuple[int, int], tuple[int, int]]] | None:
    """Groups ``((old lo, hi), (new lo, hi))`` of lines that hold the same code once layout is
    set aside, in order; ``None`` when the two sides do not hold the same code (then the block
    stays whole)."""
    old_keys = [_key(line) for line in old]
    new_keys = [_key(line) for line in new]
    if "".join(old_keys) != "".join(new_keys):
        return None
    cuts_old = _cuts(old_keys)
    cuts_new = _cuts(new_keys)
    common = sorted(set(cuts_old) & set(cuts_new))
    groups: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for start, end in itertools.pairwise(common):
        groups.append((_lines_in(cuts_old, start, end), _lines_in(cuts_new, start, end)))
    if len(groups) <= 1:
        return None
    # Lines that hold no code (blank, a lone ";") at the very start go with the first group.
    (o1, o2), (n1, n2) = groups[0]
    groups[0] = ((0, o2), (0, n2))
    (o1, o2), (n1, n2) = groups[-1]
    groups[-1] = ((o1, len(old)), (n1, len(new)))
    return groups


def _cuts(keys: Sequence[str]) -> list[int]:
    """Offset in the joined code where each line starts, then the total."""
    out = [0]
    for k in keys:
        out.append(out[-1] + len(k))
    return out


def _lines_in(cuts: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """The lines (index range) whose code starts in ``[start, end)``; lines holding no code go
    with the group that starts where they stand."""
    lo = next(i for i in range(len(cuts) - 1) if cuts[i] >= start)
    hi = next((i for i in range(lo, len(cuts) - 1) if cuts[i] >= end), len(cuts) - 1)
    return lo, hi


def apply(head: str, chosen: Sequence[Hunk]) -> str:
    """``head`` with only the ``chosen`` hunks (of :func:`hunks`) applied."""
    lines = head.splitlines(keepends=True)
    for h in sorted(chosen, key=lambda h: h.lo, reverse=True):
        lines[h.lo : h.hi] = list(h.replacement)
    return "".join(lines)


def introduced(head: str, new: str, touches: Callable[[int, int], bool]) -> list[Hunk]:
    """The hunks between ``head`` and ``new`` that overlap added lines."""
    return [h for h in hunks(head, new) if touches(h.start, h.end)]
