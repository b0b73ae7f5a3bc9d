"""The lines a change added to a text file, numbered as at head."""

from __future__ import annotations

from collections.abc import Iterator

from prgate.checks.text import head_text, judged_lines
from prgate.model import FileChange


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only (as git counts lines), dropping a trailing ``\\r`` from each line.

    ``str.splitlines`` is not used: it also splits on form feeds, ``\\x1c`` and U+2028, which
    would shift line numbers away from the ones git and GitHub show.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def added_lines(change: FileChange) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each added line of ``change`` at head.

    Bytes that are not UTF-8 read as latin-1, so files in other encodings are still scanned; a
    file its source marked binary but whose bytes are mostly text is read too, all of it (it
    has no diff). Nothing is yielded for files without text at head (deleted, binary, links,
    submodules).
    """
    text = head_text(change)
    if text is None:
        return
    lines = split_lines(text)
    for number in judged_lines(change, text):
        if number > len(lines):
            return
        yield number, lines[number - 1]
