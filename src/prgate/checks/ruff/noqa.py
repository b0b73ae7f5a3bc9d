"""Suppression comments (``# noqa``, ``# ruff: noqa``, ``# ruff: disable[...]``) and who wrote
them: prgate runs ruff with ``--ignore-noqa`` and decides here which comments count."""

from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

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


#: Rules whose violation ruff also lets the noqa of its parent statement silence (an unused
#: name of a multi-line import, silenced on the import's first line).
_PARENT_CODES = frozenset({"F401"})


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
        rows = [noqa_row]
        if code in _PARENT_CODES and line in self._statement_starts:
            # Ruff also takes the noqa of the import statement the name belongs to.
            rows.append(self._statement_starts[line])
        for row in dict.fromkeys(rows):
            text = self.lines[row - 1] if 0 < row <= len(self.lines) else ""
            if _FILE_NOQA.match(text):
                continue  # a file-level comment, counted above
            if any(
                (codes := _split_codes(m.group("codes"))) is None or code in codes
                for pattern in (_LINE_NOQA, _LINE_IGNORE)
                for m in pattern.finditer(text)
            ):
                found.append(row)
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
        if all(self._new_comment(n, code) for n in found):
            return Suppression.ADDED
        if self._code_added(line, end_line):
            return Suppression.OUTDATED
        return Suppression.EXISTING

    def _new_comment(self, number: int, code: str) -> bool:
        """Whether the comment on line ``number`` that silences ``code`` is the change's: on a
        line it added, unless that line's code is the base's and the base's line already held
        a comment silencing ``code`` (an edit of another comment on the line)."""
        if not self.change.touches(number):
            return False
        was = self._aligned.get(number)
        return was is None or not _silences(was, code)

    def _code_added(self, line: int, end_line: int) -> bool:
        """Whether the change added code on ``line``..``end_line``: lines it added whose code,
        comments aside, is not the same as the base's (an edit of a comment alone, such as a
        trailing ``# type: ignore`` removed, leaves the code the old comment was written for)."""
        same = self._aligned
        return any(
            self.change.touches(n) and n not in same for n in range(line, max(end_line, line) + 1)
        )

    @cached_property
    def _statement_starts(self) -> dict[int, int]:
        """Line -> first line of the multi-line import statement it lies in."""
        try:
            tree = ast.parse("\n".join(self.lines) + "\n")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return {}
        out: dict[int, int] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and node.end_lineno is not None:
                for number in range(node.lineno + 1, node.end_lineno + 1):
                    out[number] = node.lineno
        return out

    @property
    def aligned(self) -> dict[int, str]:
        """Head line -> the base's line, for head lines whose code is the base's."""
        return self._aligned

    @cached_property
    def _aligned(self) -> dict[int, str]:
        """Head line -> the base's line (whole text) for head lines whose code, comments aside,
        lines up with the same code at base."""
        base = self.change.base_bytes()
        if base is None:
            return {}
        try:
            base_text = base.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        before = _code_lines(base_text)
        after = _code_lines("\n".join(self.lines) + "\n")
        if before is None or after is None:
            return {}  # not read as Python: every added line counts as new code
        base_lines = base_text.split("\n")
        matcher = difflib.SequenceMatcher(None, before, after)
        return {
            j1 + k + 1: base_lines[i1 + k]
            for tag, i1, _i2, j1, j2 in matcher.get_opcodes()
            if tag == "equal"
            for k in range(j2 - j1)
        }


def _silences(text: str, code: str) -> bool:
    """Whether line ``text`` holds a comment of any kind that silences ``code``."""
    m = _FILE_NOQA.match(text)
    if m:
        codes = _split_codes(m.group("codes"))
        return codes is None or code in codes
    for pattern in (_LINE_NOQA, _LINE_IGNORE):
        for found in pattern.finditer(text):
            codes = _split_codes(found.group("codes"))
            if codes is None or code in codes:
                return True
    for found in _RANGE.finditer(text):
        codes = _split_codes(found.group("codes"))
        if found.group("verb") == "disable" and (codes is None or code in codes):
            return True
    return False


def _code_lines(text: str) -> list[str] | None:
    """Each line of ``text`` without its comment or trailing blanks; ``None`` when Python's
    tokenizer cannot read it (a comment is then told from a ``#`` in a string by the tokenizer
    alone)."""
    lines = text.split("\n")
    cut: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                cut[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError, RecursionError, MemoryError):
        return None
    return [
        (line[: cut[number]] if number in cut else line).rstrip()
        for number, line in enumerate(lines, start=1)
    ]
