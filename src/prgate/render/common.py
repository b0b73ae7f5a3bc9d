"""What every renderer says the same way: order, grouping, counts, the verdict, safe plain text."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import assert_never

from prgate.model import Finding, Level, Report

#: Heading used for findings about the whole change rather than one file.
WHOLE_CHANGE = "The whole change"

_LEVEL_ORDER = {Level.ERROR: 0, Level.WARNING: 1, Level.NOTICE: 2}

# Characters that can move the cursor, recolour a terminal, reorder text (bidi "Trojan source"
# controls), hide text (tag characters, fillers, soft hyphens, zero-width characters) or end a
# line where the reader does not expect it: every character of the categories Cc, Cf, Cs, Co
# and Cn, the line and paragraph separators, and the letters that show as nothing (fillers).
_FILLERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_FILLER_RE = re.compile("[" + "".join(sorted(_FILLERS)) + "]")


def hidden(ch: str) -> bool:
    """Whether the character ``ch`` is invisible, a control, or a filler that shows as nothing."""
    return ch in _FILLERS or unicodedata.category(ch) in _HIDDEN_CATEGORIES


def _has_hidden(text: str) -> bool:
    # ``isprintable`` is false for every hidden category (and for spaces other than " ").
    return not text.isprintable() or _FILLER_RE.search(text) is not None


def level_rank(level: Level) -> int:
    return _LEVEL_ORDER[level]


def level_word(level: Level) -> str:
    """How a level is named to a person."""
    if level is Level.ERROR:
        return "error"
    if level is Level.WARNING:
        return "warning"
    if level is Level.NOTICE:
        return "notice"
    assert_never(level)


def by_priority(findings: Iterable[Finding]) -> list[Finding]:
    """Blocking findings first, then warnings, then notices; each by file and line."""
    return sorted(findings, key=lambda f: (level_rank(f.level), *f.sort_key()))


@dataclass(frozen=True)
class FileGroup:
    """The findings about one file (``path`` None: about the whole change)."""

    path: str | None
    findings: tuple[Finding, ...]


def group_by_file(findings: Iterable[Finding]) -> list[FileGroup]:
    """Findings about the whole change first, then one group per file in path order.

    Within a group, whole-file findings come first, then by line, most serious first.
    """
    groups: dict[str | None, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.path, []).append(f)
    paths = sorted((p for p in groups if p is not None), key=lambda p: p)
    ordered: list[str | None] = [None] if None in groups else []
    ordered.extend(paths)
    return [
        FileGroup(
            path=p,
            findings=tuple(
                sorted(
                    groups[p],
                    key=lambda f: (f.line or 0, level_rank(f.level), f.rule, f.message),
                )
            ),
        )
        for p in ordered
    ]


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def fixable_count(report: Report) -> int:
    return sum(1 for f in report.findings if f.fixable)


def verdict(report: Report) -> str:
    """The one-line verdict, the same in the terminal, the comment and the check run."""
    blocking = sum(1 for f in report.findings if f.level is Level.ERROR)
    warnings = sum(1 for f in report.findings if f.level is Level.WARNING)
    notices = sum(1 for f in report.findings if f.level is Level.NOTICE)
    if blocking:
        head = (
            "1 problem blocks this change"
            if blocking == 1
            else f"{blocking} problems block this change"
        )
    else:
        head = "nothing blocks this change"
    rest = []
    if warnings:
        rest.append(plural(warnings, "warning", "warnings"))
    if notices:
        rest.append(plural(notices, "notice", "notices"))
    return f"prgate: {head}" + (f"; {', '.join(rest)}." if rest else ".")


def fix_hint(report: Report) -> str | None:
    """The sentence about ``prgate fix``, when automatic fixes exist."""
    n = fixable_count(report)
    if not n:
        return None
    return f"Run `prgate fix` to fix {n} of them automatically."


def line_label(f: Finding) -> str:
    """``line 3``, ``lines 3-5``, ``whole file`` or ``whole change``."""
    if f.path is None:
        return "whole change"
    if f.line is None:
        return "whole file"
    if f.end_line is not None and f.end_line != f.line:
        return f"lines {f.line}-{f.end_line}"
    return f"line {f.line}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control or invisible formatting character shown as an escape.

    Nothing from a change can then move a terminal's cursor, change its colours, reorder what is
    shown (bidirectional overrides) or start a line that seems to come from prgate. Tabs become a
    space; with ``keep_newlines``, ``\\n`` (and ``\\r\\n``) stay line breaks.
    """
    if keep_newlines:
        text = text.replace("\r\n", "\n")
    if not _has_hidden(text):
        return text
    out: list[str] = []
    for ch in text:
        if ch == "\t":
            out.append(" ")
        elif ch == "\n" and keep_newlines:
            out.append(ch)
        elif hidden(ch):
            out.append(escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def escape_char(ch: str) -> str:
    """``\\x1b``, ``\\u202e`` or ``\\U000e0041``: a character written as a visible escape."""
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def json_text(data: object) -> str:
    """``data`` as JSON indented by 2, ending with a newline: non-ASCII text as is, but every
    hidden character written as a JSON escape, so the text shows it and the data reads back
    the same."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if not _has_hidden(text.replace("\n", "")):
        return text
    return "".join(_json_escape(ch) if ch != "\n" and hidden(ch) else ch for ch in text)


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def one_line(text: str) -> str:
    """``text`` on one line: line breaks become spaces, other controls are shown escaped."""
    flat = re.sub(r"[ \t]*(?:\r\n|[\r\n\u2028\u2029\x0b\x0c\x85])+[ \t]*", " ", text)
    return visible(flat).strip()


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def quote_code(text: str) -> str:
    """``text`` between backticks, with a longer run of backticks when it contains some."""
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def config_line(report: Report) -> str | None:
    """Which configuration judged the change, in one sentence (``None`` when not known)."""
    source = one_line(report.config_source)
    if not source:
        return None
    if source.startswith("defaults"):
        return f"Rules: prgate's {source}, as this repository has no configuration of its own."
    return f"Rules: {source}, as it is on the base branch (a change cannot edit its own rules)."


@dataclass(frozen=True)
class RuleWhy:
    rule: str
    title: str
    why: str


def rules_why(findings: Iterable[Finding], report: Report) -> list[RuleWhy]:
    """Why each rule with findings matters, once per rule, most serious first (the AI
    reviewer's notes included: the "why" is the team's, from the base's configuration)."""
    seen: dict[str, RuleWhy] = {}
    for f in by_priority(findings):
        why = report.why(f.rule)
        if why and f.rule not in seen:
            title = "AI review" if f.from_ai else f.title
            seen[f.rule] = RuleWhy(rule=f.rule, title=title, why=why)
    return list(seen.values())
