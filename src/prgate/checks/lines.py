"""The lines a change added to a text file, numbered as at head."""

from __future__ import annotations

from collections.abc import Iterator

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

    Undecodable bytes read as U+FFFD, so non-UTF-8 files are still scanned. Nothing is yielded
    for files without text at head (deleted, binary, links, submodules).
    """
    if not change.added:
        return
    text = change.head_text()
    if text is None:
        return
    lines = split_lines(text)
    for number in change.added_line_numbers():
        if number > len(lines):
            return
        yield number, lines[number - 1]
