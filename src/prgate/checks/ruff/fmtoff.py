"""Formatting suppressions (``# fmt: off`` / ``# fmt: on``, ``# fmt: skip``, ``# yapf: disable``
/ ``# yapf: enable``) a change adds: ruff leaves the lines they cover as they are, so a change
could silence the formatting rule unseen. Each one the change adds is named once.

Only real comments count: Python's tokenizer tells a comment from a ``#`` inside a string.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from enum import StrEnum

from prgate.model import FileChange

#: One part of a comment: ruff reads each part a ``#`` begins (a skip after a noqa counts).
_PART = re.compile(
    r"^\s*(?:fmt\s*:\s*(?P<fmt>off|on|skip)|yapf\s*:\s*(?P<yapf>disable|enable))\s*$"
)


class Verb(StrEnum):
    OFF = "off"
    ON = "on"
    SKIP = "skip"


_VERBS = {"off": Verb.OFF, "on": Verb.ON, "skip": Verb.SKIP, "disable": Verb.OFF, "enable": Verb.ON}


@dataclass(frozen=True)
class Directive:
    """One formatting comment: its line, what it says, as written, and whether it stands on a
    line of its own (a trailing ``off`` leaves only its own statement alone, as ``skip`` does)."""

    line: int
    verb: Verb
    #: The directive in ruff's own spelling (``# fmt: off``): the comment itself is the
    #: change's text and is never repeated.
    text: str
    #: The whole comment as written.
    raw: str
    own_line: bool
    #: The first line of the statement a trailing comment ends.
    statement_start: int


@dataclass(frozen=True)
class FormatSuppression:
    """Lines ``start``..``end`` the change's comment ``text`` (on line ``line``) leaves out of
    formatting."""

    line: int
    start: int
    end: int
    text: str


def directives(text: str) -> tuple[Directive, ...] | None:
    """The formatting comments of ``text``; ``None`` when the tokenizer cannot read it."""
    found: list[Directive] = []
    statement_start: int | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind in (tokenize.NEWLINE, tokenize.ENDMARKER):
                statement_start = None
                continue
            if kind == tokenize.COMMENT:
                spelled = _directive_of(token.string)
                if spelled is not None:
                    verb, canonical = spelled
                    own = token.line[: token.start[1]].strip() == ""
                    start = token.start[0] if own or statement_start is None else statement_start
                    found.append(
                        Directive(token.start[0], verb, canonical, token.string, own, start)
                    )
                continue
            if kind in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
                continue
            if statement_start is None:
                statement_start = token.start[0]
    except (tokenize.TokenError, SyntaxError, RecursionError, MemoryError):
        return None
    return tuple(found)


def _directive_of(comment: str) -> tuple[Verb, str] | None:
    for part in comment.split("#"):
        m = _PART.match(part)
        if m:
            word = m.group("fmt") or m.group("yapf")
            tool = "fmt" if m.group("fmt") else "yapf"
            return _VERBS[word], f"# {tool}: {word}"
    return None


def added_suppressions(
    change: FileChange, text: str, *, base_line: dict[int, str] | None = None
) -> tuple[FormatSuppression, ...]:
    """The formatting suppressions this change adds to ``text`` (the file at head).

    A comment counts as added when it is on a line the change added, unless that line lines up
    with a base line that already held the same comment (``base_line``: head line -> base
    line, for lines whose code is the base's). A region ``off``..``on`` is named once, when the
    change added either end; a trailing ``off``/``skip`` names its own statement.
    """
    found = directives(text)
    if not found:
        return ()
    last = max(1, len(text.splitlines()))
    aligned = base_line or {}

    def added(d: Directive) -> bool:
        if not change.touches(d.line):
            return False
        was = aligned.get(d.line)
        return was is None or d.raw not in was

    out: list[FormatSuppression] = []
    opened: Directive | None = None
    for d in found:
        if d.own_line and d.verb is Verb.OFF:
            if opened is None:
                opened = d
            elif added(d):  # a second off inside a region: its own comment, named alone
                out.append(FormatSuppression(d.line, d.line, d.line, d.text))
            continue
        if d.own_line and d.verb is Verb.ON:
            if opened is not None and (added(opened) or added(d)):
                shown = opened if added(opened) else d
                out.append(FormatSuppression(shown.line, opened.line, d.line, shown.text))
            elif opened is None and added(d):
                out.append(FormatSuppression(d.line, d.line, d.line, d.text))
            opened = None
            continue
        if d.verb is not Verb.ON and added(d):
            out.append(FormatSuppression(d.line, d.statement_start, d.line, d.text))
    if opened is not None and added(opened):
        out.append(FormatSuppression(opened.line, opened.line, last, opened.text))
    return tuple(sorted(out, key=lambda s: (s.start, s.line)))
