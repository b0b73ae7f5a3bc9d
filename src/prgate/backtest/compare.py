"""Adding up replayed changes: per rule, how many each configuration blocked or warned, and
which changes a proposal newly blocks or newly lets through.

Only small records are kept per change (ids, a title, rule ids), never a change's files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prgate.backtest.replay import Replayed, Verdict
from prgate.model import Conclusion

#: How many example changes a summary names for each group.
EXAMPLES = 3


@dataclass
class Counts:
    blocked: int = 0
    warned: int = 0


@dataclass
class RuleTally:
    current: Counts = field(default_factory=Counts)
    proposed: Counts = field(default_factory=Counts)


@dataclass
class Comparison:
    """What a backtest found, built up one replayed change at a time."""

    #: The commit the history was read from.
    tip: str
    changes: list[Replayed] = field(default_factory=list)
    rules: dict[str, RuleTally] = field(default_factory=dict)

    def add(self, replayed: Replayed) -> None:
        self.changes.append(replayed)
        self._tally(replayed.current, "current")
        self._tally(replayed.proposed, "proposed")

    def _tally(self, verdict: Verdict, side: str) -> None:
        for rule in verdict.blocking:
            counts = getattr(self.rules.setdefault(rule, RuleTally()), side)
            counts.blocked += 1
        for rule in verdict.warning:
            counts = getattr(self.rules.setdefault(rule, RuleTally()), side)
            counts.warned += 1

    def mention(self, rule_ids: list[str]) -> None:
        """List ``rule_ids`` among the rules even when nothing triggered them."""
        for rule in rule_ids:
            self.rules.setdefault(rule, RuleTally())

    @property
    def blocked_now(self) -> list[Replayed]:
        return [r for r in self.changes if r.current.conclusion is Conclusion.FAILURE]

    @property
    def blocked_proposed(self) -> list[Replayed]:
        return [r for r in self.changes if r.proposed.conclusion is Conclusion.FAILURE]

    @property
    def newly_blocked(self) -> list[Replayed]:
        """Changes that passed with the base's rules and would fail with the proposed ones."""
        return [
            r
            for r in self.changes
            if r.current.conclusion is Conclusion.SUCCESS
            and r.proposed.conclusion is Conclusion.FAILURE
        ]

    @property
    def newly_passing(self) -> list[Replayed]:
        """Changes that failed with the base's rules and would pass with the proposed ones."""
        return [
            r
            for r in self.changes
            if r.current.conclusion is Conclusion.FAILURE
            and r.proposed.conclusion is Conclusion.SUCCESS
        ]
