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
_SPLIT = re.compile(r"(\r\n|\r|\n)")
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
    head: str
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
    #: Every function, method and class, in order: first and last line (decorators included),
    #: the index of the one it sits in, whether it is a class, its indentation, a class's body
    #: indentation and the number of its body's lines that are not members.
    units: tuple[tuple[int, int, int | None, bool, int, int, int], ...] = ()


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


def excerpt(found: Outline | None, text: str, added: Iterable[tuple[int, int]]) -> str:
    """``text`` with the functions and classes that no added line touches blanked out (their
    lines kept, empty), so that a parser reads only what can matter, at the same line numbers.

    Blanked: untouched top-level functions and classes, and untouched methods written directly
    in a class that stays (one that an added line touches), as long as something else of that
    class's body stays and it is not the class's last member. Module and class statements stay (a flag read into a variable there
    guards the functions that test it), and so does everything nested in a function. All of
    ``text`` when unsure."""
    if found is None or not found.units:
        return text
    ranges = list(added)
    touched = [_overlap(((u[0], u[1]),), ranges) for u in found.units]
    kept_members: dict[int, int] = {}
    for index, unit in enumerate(found.units):
        parent = unit[2]
        if parent is not None and touched[index]:
            kept_members[parent] = kept_members.get(parent, 0) + 1
    blank: list[tuple[int, int]] = []
    for index, (first, last, parent, _, indent, _, _) in enumerate(found.units):
        if touched[index]:
            continue
        if parent is None:
            if indent == 0:
                blank.append((first, last))
            continue
        owner = found.units[parent]
        keeps_body = owner[6] > 0 or kept_members.get(parent, 0) > 0
        # a class's last member stays: it is where the class ends, which findings report
        direct = owner[3] and indent == owner[5] and last < owner[1]
        if direct and touched[parent] and keeps_body and _kept(found, parent, touched):
            blank.append((first, last))
    if not blank:
        return text
    parts = _SPLIT.split(text)  # line, end, line, end, ..., last line
    for first, last in blank:
        for line in range(first, last + 1):
            index = 2 * (line - 1)
            if index < len(parts):
                parts[index] = ""
    return "".join(parts)


def _kept(found: Outline, index: int, touched: Sequence[bool]) -> bool:
    """Whether a unit and every unit it sits in are touched (so none of them is blanked)."""
    current: int | None = index
    while current is not None:
        if not touched[current]:
            return False
        current = found.units[current][2]
    return True


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
                head=head,
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


@dataclass
class _Span:
    """A function, method or class while the outline is read."""

    first: int
    last: int
    indent: int
    parent: int | None
    is_class: bool = False
    #: For a class: the indentation of its body, and how many of its lines are not members.
    body_indent: int = -1
    own: int = 0


def _outline(lines: Sequence[_Logical]) -> Outline:
    levels = [0]
    ranges: list[tuple[int, int]] = []
    spans: list[_Span] = []
    stack: list[int] = []  # the open functions, classes and decorators, innermost last
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
        after_decorator = previous is not None and previous.decorator
        decorated = after_decorator and bool(stack) and spans[stack[-1]].indent == width
        while stack and spans[stack[-1]].indent >= width and not decorated:
            stack.pop()
        first = logical.first
        if after_decorator:
            assert previous is not None
            first = previous.last + 1  # comments between a decorator and what it decorates
        if stack or after_decorator or logical.opens_unit or logical.has_lambda:
            ranges.append((first, logical.last))
        for index in stack:
            spans[index].last = logical.last
        if stack and not decorated:
            owner = spans[stack[-1]]
            if owner.is_class and owner.body_indent < 0:
                owner.body_indent = width
            if not logical.opens_unit:
                owner.own += 1
        if logical.opens_unit:
            is_class = logical.head.startswith("class")
            if decorated:
                spans[stack[-1]].is_class = spans[stack[-1]].is_class or is_class
            else:
                parent = stack[-1] if stack else None
                spans.append(_Span(logical.first, logical.last, width, parent, is_class))
                stack.append(len(spans) - 1)
        previous = logical
    if previous is not None and previous.ends_with_colon:
        raise _Unsure  # Python: expected an indented block at the end of the file
    return Outline(
        unit_ranges=tuple(ranges),
        logical=tuple((lg.first, lg.last, lg.start, lg.end) for lg in lines),
        units=tuple(
            (sp.first, sp.last, sp.parent, sp.is_class, sp.indent, sp.body_indent, sp.own)
            for sp in spans
        ),
    )
