"""Hiding credentials before anything is sent to the AI service.

The lines to be sent are scanned with the same detectors as the ``content/secrets`` check; a line
that holds a credential is replaced whole by a placeholder, and so are the lines of a private key
block after its header, so that no part of the value leaves prgate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prgate.checks.secrets import scan
from prgate.model import FileChange

PLACEHOLDER = "[prgate hid this line: it looks like it holds a password, key or token]"
_KEY_HEADER = "PRIVATE KEY"
_KEY_END = "-----END"


def hidden_lines(change: FileChange, lines: Sequence[tuple[int, str]]) -> frozenset[int]:
    """The numbers of ``lines`` (added lines of ``change``) that must not be sent."""
    hits = {hit.line for hit in scan(change)}
    hidden = set(hits)
    in_key = False
    for number, text in lines:
        if number in hits and _KEY_HEADER in text:
            in_key = _KEY_END not in text.split(_KEY_HEADER, 1)[-1]
            continue
        if in_key:
            hidden.add(number)
            if _KEY_END in text:
                in_key = False
    return frozenset(hidden)


def redacted(change: FileChange, lines: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """``lines`` with every line that holds (or continues) a credential replaced."""
    items = list(lines)
    hidden = hidden_lines(change, items)
    return [(n, PLACEHOLDER if n in hidden else text) for n, text in items]
