"""The ``/prgate`` command in a comment's markdown, if it gives one. Pure.

A command counts only where it reads as one when GitHub shows the comment: a line of its own
text that starts with ``/prgate recheck``, ``/prgate fix``, ``/prgate review`` or
``/prgate explain RULE``. A
command that is shown as quoted or as code is someone talking *about* the command (quoting a
report, pasting a transcript), never asking for it. So a line is not a command when it is

- inside a fenced code block (```` ``` ```` or ``~~~``; also one opened in a list item or a
  quote, which is treated as open until its closing fence or the end of the comment);
- indented by four spaces or more (an indented code block, or a line continued past it);
- in a block quote: a ``>`` line and the lines after it up to the next blank line (markdown
  continues a quoted paragraph on the lines that follow it);
- inside an HTML block (a line starting with ``<``, up to its end: ``-->``, the closing tag of
  ``<pre>``, ``<script>``, ``<style>`` or ``<textarea>``, else a blank line), which hides a
  comment or shows raw text;
- one that starts inside an inline code span or an HTML comment or tag opened on an earlier
  line of the same paragraph.

This follows CommonMark's block structure in a line-based reading, and where the two could
differ it leans to "not a command": a command missed is asked again, one run by mistake writes
to the pull request. Only the first command of a comment counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAMES = ("recheck", "fix", "explain", "review")
_COMMAND = re.compile(r"/prgate[ \t]+(recheck|fix|explain|review)(?![\w-])(?:[ \t]+(\S+))?")
_FENCE = re.compile(r"(`{3,}|~{3,})(.*)$")
#: Container markers in front of a line's text: quote markers and list item markers.
_CONTAINER = re.compile(r"[ \t]*(?:>[ \t]?|(?:[-+*]|\d{1,9}[.)])(?:[ \t]+|$))")
_RAW_TEXT_TAGS = ("pre", "script", "style", "textarea")
_HTML_START = re.compile(r"<[A-Za-z/!?]")
#: An inline HTML tag, which may run over several lines of a paragraph.
_INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
#: Rule names are short; anything longer is cut (the reply quotes it back).
MAX_ARG = 200


@dataclass(frozen=True)
class Command:
    name: str
    #: The word after the command (``explain``'s rule), without backticks; may be empty.
    arg: str = ""


def find_command(body: str) -> Command | None:
    """The first command in ``body`` that is not quoted or code (see the module's rules)."""
    found = _Reader().read(body)
    return found[0] if found else None


class _Reader:
    def __init__(self) -> None:
        self.fence: tuple[str, int] | None = None
        #: What ends the HTML block we are in: a text to find, or ``""`` for a blank line.
        self.html_end: str | None = None
        self.quoted = False
        self.paragraph: list[str] = []
        #: (line of the paragraph, command) for each line that starts with a command.
        self.candidates: list[tuple[int, Command]] = []
        self.found: list[Command] = []

    def read(self, body: str) -> list[Command]:
        text = body.replace("\r\n", "\n").replace("\r", "\n")
        for raw in text.split("\n"):
            self._line(raw.expandtabs(4))
        self._end_paragraph()
        return self.found

    def _line(self, line: str) -> None:
        if self.fence is not None:
            if _closes(_content(line), self.fence):
                self.fence = None
            return
        if self.html_end is not None:
            if (self.html_end == "" and not line.strip()) or (
                self.html_end and self.html_end in line.lower()
            ):
                self.html_end = None
            return
        if not line.strip():
            self._end_paragraph()
            self.quoted = False
            return
        content = _content(line)
        fence = _FENCE.match(content)
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            self._end_paragraph()
            self.fence = (fence.group(1)[0], len(fence.group(1)))
            return
        if _HTML_START.match(content):
            self._end_paragraph()
            end = _html_end(content)
            # A block whose end is on its first line is over at once.
            if end and end in content.lower()[2:]:
                return
            self.html_end = end
            return
        indent = len(line) - len(line.lstrip(" "))
        if self.quoted or (indent < 4 and _is_quote(line)):
            self._end_paragraph()
            self.quoted = True
            return
        if indent >= 4:
            if self.paragraph:  # a continued line: part of the text, never a command
                self.paragraph.append(line)
            return
        m = _COMMAND.match(line, indent)
        if m:
            arg = (m.group(2) or "").strip("`")[:MAX_ARG]
            self.candidates.append((len(self.paragraph), Command(m.group(1), arg)))
        self.paragraph.append(line)

    def _end_paragraph(self) -> None:
        if self.candidates:
            text = "\n".join(self.paragraph)
            hidden = _hidden_spans(text)
            starts = _line_starts(self.paragraph)
            for index, command in self.candidates:
                line = self.paragraph[index]
                at = starts[index] + len(line) - len(line.lstrip(" "))
                if not any(a <= at < b for a, b in hidden):
                    self.found.append(command)
        self.paragraph = []
        self.candidates = []


def _content(line: str) -> str:
    """A line's text without the quote and list markers in front of it."""
    pos = 0
    while True:
        m = _CONTAINER.match(line, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    return line[pos:].lstrip(" ")


def _is_quote(line: str) -> bool:
    pos = 0
    while True:
        stripped = line[pos:].lstrip(" ")
        if stripped.startswith(">"):
            return True
        m = _CONTAINER.match(line, pos)
        if not m or m.end() == pos:
            return False
        pos = m.end()


def _closes(content: str, fence: tuple[str, int]) -> bool:
    char, length = fence
    stripped = content.strip()
    return len(stripped) >= length and set(stripped) == {char}


def _html_end(content: str) -> str:
    lower = content.lower()
    if lower.startswith("<!--"):
        return "-->"
    if lower.startswith("<?"):
        return "?>"
    if lower.startswith("<![cdata["):
        return "]]>"
    if lower.startswith("<!"):
        return ">"
    for tag in _RAW_TEXT_TAGS:
        if re.match(rf"<{tag}(?:[\s>]|$)", lower):
            return f"</{tag}>"
    return ""


def _line_starts(lines: list[str]) -> list[int]:
    starts: list[int] = []
    at = 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    return starts


def _hidden_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` (one paragraph) holds code spans, HTML comments and HTML tags: their
    insides are not shown as text."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _PUNCTUATION:
            i += 2
            continue
        if c == "`":
            run = _run(text, i)
            close = _closing_run(text, i + run, run)
            if close is None:
                i += run  # no matching run: the backticks are plain text
                continue
            spans.append((i, close + run))
            i = close + run
            continue
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end != -1:
                spans.append((i, end + 3))
                i = end + 3
                continue
        if c == "<":
            tag = _INLINE_TAG.match(text, i)
            if tag:
                spans.append((i, tag.end()))
                i = tag.end()
                continue
        i += 1
    return spans


def _run(text: str, i: int) -> int:
    j = i
    while j < len(text) and text[j] == "`":
        j += 1
    return j - i


def _closing_run(text: str, start: int, length: int) -> int | None:
    j = start
    while True:
        j = text.find("`", j)
        if j == -1:
            return None
        run = _run(text, j)
        if run == length:
            return j
        j += run
