"""Which files the flag rules must parse: a cheap, conservative look at the text first.

Parsing a file with libcst, in a child process, costs far more than everything else a check does,
and most changes touch no function at all: an edited comment, a constant, an import. The flag
rules judge only what the change added lines to: ``flags/guarded`` the functions, methods and
classes (from their first decorator to their last line), ``flags/registered`` the flag calls on
added lines. This module answers "could an added line be part of one of those?" from the text
alone, with a small tokenizer (strings, comments, brackets, line continuations, indentation) that
runs in linear time and never runs the code.

It errs one way only. A file is skipped only when the tokenizer followed every line the way
Python does and no added line lies in a ``def``, ``async def``, ``class`` or decorator, in the
body under one of them, or in a statement that holds a ``lambda``. Text it cannot follow
(an unterminated string, unbalanced brackets, tabs or form feeds in indentation, indentation
Python would refuse, an f-string with quotes inside its replacement fields, a stray backslash) is
always parsed, so the parser (and its plain-language failure) has the last word.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Identifier characters right before a quote that Python reads as a string prefix.
_PREFIXES = frozenset(
    {"", "r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt"},
)
_TOKEN = re.compile(
    r"(?P<nl>\r\n|\r|\n)"
    r"|(?P<comment>#[^\r\n]*)"
    r"|(?P<quote>'''|\"\"\"|'|\")"
    r"|(?P<open>[(\[{])"
    r"|(?P<close>[)\]}])"
    r"|(?P<cont>\\(?:\r\n|\r|\n))"
    r"|(?P<space>[ \t\f]+)"
    r"|(?P<other>[^'\"#()\[\]{}\\\r\n \t\f]+|\\)"
)
_STRING_END = {
    "'": re.compile(r"(?:[^\\'\r\n]|\\(?:\r\n|[\s\S]))*'"),
    '"': re.compile(r'(?:[^\\"\r\n]|\\(?:\r\n|[\s\S]))*"'),
    "'''": re.compile(r"(?:[^\\']|\\[\s\S]|'(?!''))*'''"),
    '"""': re.compile(r'(?:[^\\"]|\\[\s\S]|"(?!""))*"""'),
}
_UNIT_START = re.compile(r"(?:async|def|class)\b|@")
_LAMBDA = re.compile(r"\blambda\b")
_NEWLINES = re.compile(r"\r\n|\r|\n")
#: Nesting CPython refuses (``flagsandbox`` screens it before parsing): always parsed.
_MAX_BRACKETS = 200
_MAX_INDENTS = 100


class _Unsure(Exception):
    """The text is not followed the way Python reads it: parse the file."""


@dataclass(frozen=True)
class _Logical:
    """One logical line: its physical lines, its code's span in the text, what starts it."""

    first: int
    last: int
    start: int
    end: int
    indent: int
    opens_unit: bool
    decorator: bool
    has_lambda: bool
    ends_with_colon: bool


@dataclass(frozen=True)
class Outline:
    """The lines of a file that can change a function, method or class, and its logical lines."""

    #: Physical line ranges (1-based, inclusive) where an added line can change a unit.
    unit_ranges: tuple[tuple[int, int], ...]
    #: Physical line ranges of the logical lines, with their spans in the text.
    logical: tuple[tuple[int, int, int, int], ...]


def outline(text: str) -> Outline | None:
    """The outline of ``text``, or ``None`` when the tokenizer is not sure of it."""
    try:
        lines = _logical_lines(text)
        return _outline(lines)
    except _Unsure:
        return None


def touches_units(found: Outline | None, added: Iterable[tuple[int, int]]) -> bool:
    """Whether an added line may lie in a function, method or class (``True`` when unsure)."""
    if found is None:
        return True
    return _overlap(found.unit_ranges, added)


def touched_code(found: Outline | None, text: str, added: Iterable[tuple[int, int]]) -> str:
    """The text of the logical lines that added lines touch (all of it when unsure)."""
    if found is None:
        return text
    ranges = list(added)
    if not ranges:
        return ""
    pieces = [
        text[start:end]
        for first, last, start, end in found.logical
        if _overlap(((first, last),), ranges)
    ]
    return "\n".join(pieces)


def _overlap(ranges: Sequence[tuple[int, int]], added: Iterable[tuple[int, int]]) -> bool:
    """Whether sorted, disjoint ``ranges`` overlap any of ``added``."""
    starts = [r[0] for r in ranges]
    for start, end in added:
        i = bisect.bisect_right(starts, end) - 1
        if i >= 0 and ranges[i][1] >= start:
            return True
    return False


# --------------------------------------------------------------------------------------------
# Tokenizing


def _logical_lines(text: str) -> list[_Logical]:
    out: list[_Logical] = []
    line = 1
    line_start = 0
    depth = 0
    # the logical line being read
    open_first = 0
    open_start = -1
    open_end = 0
    open_indent = 0
    head = ""
    has_lambda = False
    last_char = ""

    def close(end_line: int) -> None:
        opens = bool(_UNIT_START.match(head))
        out.append(
            _Logical(
                first=open_first,
                last=end_line,
                start=open_start,
                end=open_end,
                indent=open_indent,
                opens_unit=opens,
                decorator=head.startswith("@"),
                has_lambda=has_lambda,
                ends_with_colon=last_char == ":",
            )
        )

    pos = 0
    size = len(text)
    while pos < size:
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - every character is some token
            raise _Unsure
        kind = m.lastgroup
        end = m.end()
        if kind == "nl":
            if depth == 0 and open_start >= 0:
                close(line)
                open_start = -1
            line += 1
            line_start = end
        elif kind == "cont":
            if open_start < 0:
                raise _Unsure  # a backslash before any code on its line
            line += 1
            line_start = end
        elif kind in ("comment", "space"):
            pass
        else:
            if open_start < 0:
                indent = text[line_start : m.start()]
                if indent.strip(" "):
                    raise _Unsure  # tabs and form feeds: widths Python computes differently
                open_first, open_start, open_indent = line, m.start(), len(indent)
                head = text[m.start() : m.start() + 6]
                has_lambda = False
            if kind == "quote":
                end = _string_end(text, m)
                newlines = len(_NEWLINES.findall(text, m.start(), end))
                if newlines:
                    line += newlines
                    tail = max(text.rfind("\n", m.start(), end), text.rfind("\r", m.start(), end))
                    line_start = tail + 1
                last_char = '"'
            elif kind == "open":
                depth += 1
                if depth > _MAX_BRACKETS:
                    raise _Unsure  # Python refuses it; the parser's screen says so
                last_char = m.group()
            elif kind == "close":
                if depth == 0:
                    raise _Unsure
                depth -= 1
                last_char = m.group()
            else:
                word = m.group()
                if word == "\\":
                    raise _Unsure  # a backslash that does not end its line
                if _LAMBDA.search(word):
                    has_lambda = True
                last_char = word[-1]
            open_end = end
        pos = end
    if depth != 0:
        raise _Unsure
    if open_start >= 0:
        close(line)
    return out


def _string_end(text: str, m: re.Match[str]) -> int:
    """Where the string starting at ``m`` ends; unsure of anything Python may read otherwise."""
    quote = m.group()
    start = m.start()
    first = start
    while first > 0 and first > start - 3 and _is_word(text[first - 1]):
        first -= 1
    word = text[first:start].lower()
    if word not in _PREFIXES or (first > 0 and _is_word(text[first - 1])):
        raise _Unsure
    body = _STRING_END[quote].match(text, m.end())
    if body is None:
        raise _Unsure  # unterminated
    if "f" in word or "t" in word:
        _check_fields(body.group()[: -len(quote)])
    return body.end()


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _check_fields(body: str) -> None:
    """An f-string whose replacement fields are still open where its quote ends it: from Python
    3.12 on, that quote may sit inside a field and the string go on."""
    plain = body.replace("{{", "").replace("}}", "")
    depth = 0
    for char in plain:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise _Unsure
    if depth:
        raise _Unsure


# --------------------------------------------------------------------------------------------
# Units


def _outline(lines: Sequence[_Logical]) -> Outline:
    units: list[int] = []  # indentation of the open defs, classes and decorators
    levels = [0]
    ranges: list[tuple[int, int]] = []
    previous: _Logical | None = None
    for logical in lines:
        width = logical.indent
        colon = previous is not None and previous.ends_with_colon
        if width > levels[-1]:
            if not colon:
                raise _Unsure  # Python: unexpected indent
            levels.append(width)
            if len(levels) > _MAX_INDENTS:
                raise _Unsure
        else:
            if colon:
                raise _Unsure  # Python: expected an indented block
            while width < levels[-1]:
                levels.pop()
            if width != levels[-1]:
                raise _Unsure  # Python: unindent does not match any outer level
        while units and units[-1] >= width:
            units.pop()
        first = logical.first
        after_decorator = previous is not None and previous.decorator
        if after_decorator:
            assert previous is not None
            first = previous.last + 1  # comments between a decorator and what it decorates
        if units or after_decorator or logical.opens_unit or logical.has_lambda:
            ranges.append((first, logical.last))
        if logical.opens_unit:
            units.append(width)
        previous = logical
    if previous is not None and previous.ends_with_colon:
        raise _Unsure  # Python: expected an indented block at the end of the file
    return Outline(
        unit_ranges=tuple(ranges),
        logical=tuple((lg.first, lg.last, lg.start, lg.end) for lg in lines),
    )
