"""Waiting, in tests, until something holds: a bounded poll that fails with what it waited for."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    predicate: Callable[[], bool],
    what: str,
    timeout: float = 30.0,
    *,
    detail: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``predicate`` until it is true; after ``timeout`` seconds fail, saying ``what`` and
    ``detail()`` (what the test can tell about the state it found)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g} s waiting until {what}\n{detail()}")
