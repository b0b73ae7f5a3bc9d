"""GitHub's rate limit as a budget: what each installation has left, from GitHub's answers.

Every answer GitHub sends carries ``x-ratelimit-remaining`` and ``x-ratelimit-reset`` for the
installation that made the call (its REST calls and its GraphQL points are separate budgets:
``x-ratelimit-resource``). The App notes them here, per installation, and a job starts only
while every budget of its installation is above the low-water mark: below it, the job waits in
the queue until the reset, instead of spending the last calls and failing on a refusal.
Each replica sees the figures of its own calls, which GitHub counts across all of them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

#: Calls an installation keeps in reserve (``PRGATE_RATE_LIMIT_LOW_WATER``): below this many
#: left, jobs wait for the reset. Enough for the jobs already running to finish and for the
#: one "waiting" note per head.
DEFAULT_LOW_WATER = 100


@dataclass(frozen=True)
class Remaining:
    """What one budget of an installation had left at its latest answer."""

    remaining: int
    reset_at: float


class RateBudget:
    """The latest figures per (installation, resource); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, str], Remaining] = {}

    def note(self, installation: int, resource: str, remaining: int, reset_at: float) -> None:
        with self._lock:
            self._seen[(installation, resource or "core")] = Remaining(remaining, reset_at)

    def waits_until(self, installation: int, *, low_water: int, now: float) -> float | None:
        """When the installation's budgets are back above ``low_water`` (their latest reset),
        or ``None`` when it may spend now. A figure whose reset has passed no longer counts."""
        until: float | None = None
        with self._lock:
            for (inst, _resource), seen in list(self._seen.items()):
                if inst != installation:
                    continue
                if seen.reset_at <= now:
                    continue
                if seen.remaining < low_water:
                    until = max(until or 0.0, seen.reset_at)
        return until

    def left(self, installation: int, *, now: float) -> int | None:
        """The fewest calls left in any of the installation's current budgets, when known."""
        with self._lock:
            figures = [
                s.remaining
                for (inst, _r), s in self._seen.items()
                if inst == installation and s.reset_at > now
            ]
        return min(figures) if figures else None
