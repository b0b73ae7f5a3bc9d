"""Reading ``ruff format --diff``: which lines of each file at head ruff would change."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FILE = re.compile(r"^--- (?P<name>.+?)(?:\t.*)?$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class FormatHunk:
    """Lines ``start``..``end`` of the file at head that ruff would rewrite."""

    start: int
    end: int


def parse_diff(text: str) -> dict[str, list[FormatHunk]]:
    """File name (as ruff names it) -> the blocks of head lines its diff changes (context
    lines left out; an insertion counts as a change of the line before it)."""
    out: dict[str, list[FormatHunk]] = {}
    rows = text.splitlines()
    current: list[FormatHunk] | None = None
    old_left = new_left = 0
    line = 0  # the next head line in the hunk
    block: list[int] = []

    def close() -> None:
        if block and current is not None:
            current.append(FormatHunk(min(block), max(block)))
        block.clear()

    i = 0
    while i < len(rows):
        row = rows[i]
        i += 1
        if old_left > 0 or new_left > 0:  # inside a hunk: count its lines
            if row.startswith("-"):
                block.append(line)
                line += 1
                old_left -= 1
            elif row.startswith("+"):
                block.append(max(line - 1, 1) if not block else block[-1])
                new_left -= 1
            elif not row.startswith("\\"):
                close()
                line += 1
                old_left -= 1
                new_left -= 1
            if old_left <= 0 and new_left <= 0:
                close()
            continue
        m = _FILE.match(row)
        if m and i < len(rows) and rows[i].startswith("+++ "):
            current = out.setdefault(m.group("name"), [])
            i += 1
            continue
        h = _HUNK.match(row)
        if h and current is not None:
            line = int(h.group(1))
            old_left = int(h.group(2)) if h.group(2) is not None else 1
            new_left = int(h.group(4)) if h.group(4) is not None else 1
            if old_left == 0:
                line += 1  # "-N,0": the insertion follows line N
    return out
