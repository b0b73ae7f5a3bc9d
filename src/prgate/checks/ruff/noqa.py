"""Suppression comments (``# noqa``, ``# ruff: noqa``, ``# ruff: disable[...]``) and who wrote
them: prgate runs ruff with ``--ignore-noqa`` and decides here which comments count."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from prgate.model import FileChange


class Suppression(StrEnum):
    """Whether a ``# noqa``-style comment covers a violation, and who wrote it."""

    NONE = "none"
    #: Only comments this change added cover it: reported once, as the suppression it is.
    ADDED = "added"
    #: A comment that was already there covers it, on lines the change did not touch:
    #: honoured, not reported.
    EXISTING = "existing"
    #: A comment that was already there covers it, but the violation is on lines the change
    #: added: an old suppression covers only old lines, so it is reported, with a note.
    OUTDATED = "outdated"


_CODE_LIST = r"[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*"
_LINE_NOQA = re.compile(rf"#\s*noqa(?::\s*(?P<codes>{_CODE_LIST}))?", re.IGNORECASE)
_LINE_IGNORE = re.compile(r"#\s*ruff\s*:\s*ignore\[(?P<codes>[^\]]*)\]")
_FILE_NOQA = re.compile(
    rf"^\s*#\s*(?:ruff|flake8)\s*:\s*noqa(?:\s*:\s*(?P<codes>{_CODE_LIST}))?\s*$",
    re.IGNORECASE,
)
_RANGE = re.compile(r"#\s*ruff\s*:\s*(?P<verb>disable|enable)\[(?P<codes>[^\]]*)\]")


def _split_codes(text: str | None) -> frozenset[str] | None:
    """``None`` means every code (a blanket comment)."""
    if text is None:
        return None
    return frozenset(c.upper() for c in re.split(r"[\s,]+", text.strip()) if c)


@dataclass(frozen=True)
class Directives:
    """The suppression comments of one file at head, and which lines the change added."""

    change: FileChange
    lines: tuple[str, ...]
    file_level: tuple[tuple[int, frozenset[str] | None], ...]
    ranges: tuple[tuple[int, str, frozenset[str] | None], ...]

    @classmethod
    def scan(cls, change: FileChange, data: bytes) -> Directives:
        lines = tuple(data.decode("utf-8").splitlines())
        file_level: list[tuple[int, frozenset[str] | None]] = []
        ranges: list[tuple[int, str, frozenset[str] | None]] = []
        for number, text in enumerate(lines, start=1):
            if "#" not in text:
                continue
            m = _FILE_NOQA.match(text)
            if m:
                file_level.append((number, _split_codes(m.group("codes"))))
            for r in _RANGE.finditer(text):
                ranges.append((number, r.group("verb"), _split_codes(r.group("codes"))))
        return cls(change, lines, tuple(file_level), tuple(ranges))

    def covers(self, code: str, line: int, *, end_line: int, noqa_row: int) -> Suppression:
        """Whether a comment silences ``code`` reported on ``line``..``end_line``.

        Ruff takes a line's ``# noqa`` from the end of its logical line (``noqa_row``: the last
        line of a backslash continuation or of a multi-line statement), from a file-level
        comment or from a ``disable`` range. A comment the change did not add still covers only
        what the change did not add: new code placed under an old comment is reported.
        """
        found = [n for n, codes in self.file_level if codes is None or code in codes]
        text = self.lines[noqa_row - 1] if 0 < noqa_row <= len(self.lines) else ""
        if _FILE_NOQA.match(text):
            text = ""  # a file-level comment, counted above
        for pattern in (_LINE_NOQA, _LINE_IGNORE):
            for m in pattern.finditer(text):
                codes = _split_codes(m.group("codes"))
                if codes is None or code in codes:
                    found.append(noqa_row)
        disabled_at = None
        for number, verb, codes in self.ranges:
            if number >= line:
                break
            if codes is None or code in codes:
                disabled_at = number if verb == "disable" else None
        if disabled_at is not None:
            found.append(disabled_at)
        if not found:
            return Suppression.NONE
        if all(self.change.touches(n) for n in found):
            return Suppression.ADDED
        if self.change.touches(line, end_line):
            return Suppression.OUTDATED
        return Suppression.EXISTING
