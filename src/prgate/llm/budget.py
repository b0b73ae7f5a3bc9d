"""What the AI reviewer may still spend, checked before each request and recorded after it.

A :class:`ReviewSession` asks its :class:`Budget` twice per request: :meth:`Budget.take` reserves
the request's estimate (refused, with prgate's own reason, when it would go over a limit), and
:meth:`Budget.settle` replaces the estimate by what the answer says was used. The estimate counts
the whole allowance of output tokens, so a request that fits its estimate fits the budget.

Two budgets:

- :class:`LocalBudget`: one evaluation's spending, for ``prgate check --llm`` and the rule cases
  (the config's per-PR limits applied to one run, as the command line has no record of a PR).
- :class:`LedgerBudget`: the App's. Spending is recorded in the store (a :class:`SpendLedger`)
  per pull request and per installation per UTC day, so the limits hold across pushes: the
  config's ``max_usd_per_pr`` and ``max_input_tokens_per_pr`` cap a PR's total over all its
  evaluations, and the App's ``PRGATE_LLM_MAX_USD_PER_DAY`` caps what one installation spends
  in a day. The ledger reserves atomically, so concurrent jobs cannot overshoot together.

Running out of budget never blocks a change: the review stops, and says so.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Protocol

from prgate.llm.settings import LlmSettings

#: Rounding slack for sums of dollars kept as floating point numbers.
_EPSILON = 1e-9


class BudgetSpent(Exception):
    """The budget refused a request. ``reason`` is prgate's own wording, safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Spend:
    """What requests used (or are estimated to use)."""

    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    requests: int = 0

    def plus(self, other: Spend) -> Spend:
        return Spend(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.usd + other.usd,
            self.requests + other.requests,
        )

    def minus(self, other: Spend) -> Spend:
        return Spend(
            self.input_tokens - other.input_tokens,
            self.output_tokens - other.output_tokens,
            self.usd - other.usd,
            self.requests - other.requests,
        )


@dataclass(frozen=True)
class SpendLimits:
    """The most a pull request (all its pushes) and an installation (one day) may spend."""

    pr_input_tokens: int
    pr_usd: float
    day_usd: float

    def allows(self, pr: Spend, day: Spend) -> bool:
        return (
            pr.input_tokens <= self.pr_input_tokens
            and pr.usd <= self.pr_usd + _EPSILON
            and day.usd <= self.day_usd + _EPSILON
        )


@dataclass(frozen=True)
class SpendTotals:
    """A pull request's spending over all its pushes, and its installation's on one day."""

    pr: Spend
    day: Spend


class SpendLedger(Protocol):
    """Where the App records spending (its store)."""

    def llm_spending(self, *, installation_id: int, repo: str, pr: int, day: str) -> SpendTotals:
        """What ``repo``'s pull request ``pr`` spent so far, and installation
        ``installation_id`` on ``day`` (``YYYY-MM-DD``, UTC)."""
        ...

    def llm_add_spend(
        self,
        *,
        installation_id: int,
        repo: str,
        pr: int,
        day: str,
        spend: Spend,
        limits: SpendLimits | None,
    ) -> bool:
        """Add ``spend`` to both totals in one step, unless the totals it makes would break
        ``limits`` (then nothing is added and the answer is ``False``). ``limits=None`` always
        adds (a correction, or spending that already happened)."""
        ...


class Budget(Protocol):
    def check(self, spend: Spend) -> str | None:
        """``None`` when ``spend`` fits what is left, else why not (prgate's own words)."""
        ...

    def take(self, spend: Spend) -> str | None:
        """Reserve ``spend`` when it fits (``None``), else why not; nothing is reserved then."""
        ...

    def settle(self, reserved: Spend, used: Spend) -> None:
        """Replace a reservation by what was used."""
        ...


def utc_day(epoch_seconds: float) -> str:
    """The UTC date of ``epoch_seconds`` as ``YYYY-MM-DD``: the installation's budget day."""
    return datetime.datetime.fromtimestamp(epoch_seconds, tz=datetime.UTC).date().isoformat()


def _usd(amount: float) -> str:
    return f"${amount:,.2f}"


def pr_reason(settings: LlmSettings, *, spent: Spend, tokens: bool, across_pushes: bool) -> str:
    """Why a pull request's own budget stops the review: its input tokens (``tokens``) or its
    dollars; ``spent`` is what it spent before the request that did not fit."""
    where = " over all its pushes" if across_pushes else ""
    if tokens:
        limit = f"{settings.max_input_tokens_per_pr:,} input tokens"
        setting = "max_input_tokens_per_pr"
    else:
        limit = f"{_usd(settings.max_usd_per_pr)} (estimated)"
        setting = "max_usd_per_pr"
    spent_text = (
        f"about {_usd(spent.usd)} is spent"
        if spent.requests
        else "a single request would need more than that"
    )
    return (
        f"the pull request's AI review budget is used up: at most {limit}{where}, the setting "
        f"llm.{setting} of the base branch's config, and {spent_text}"
    )


def day_reason(day_usd: float) -> str:
    return (
        f"the AI review budget of this GitHub installation for today is used up: "
        f"{_usd(day_usd)} a day (estimated), set by the App's PRGATE_LLM_MAX_USD_PER_DAY; "
        "it starts again at midnight UTC"
    )


class LocalBudget:
    """One evaluation's budget: the config's per-PR limits, for this run only."""

    def __init__(self, settings: LlmSettings) -> None:
        self.settings = settings
        self.spent = Spend()

    def check(self, spend: Spend) -> str | None:
        total = self.spent.plus(spend)
        tokens = total.input_tokens > self.settings.max_input_tokens_per_pr
        if not tokens and total.usd <= self.settings.max_usd_per_pr + _EPSILON:
            return None
        return pr_reason(self.settings, spent=self.spent, tokens=tokens, across_pushes=False)

    def take(self, spend: Spend) -> str | None:
        reason = self.check(spend)
        if reason is None:
            self.spent = self.spent.plus(spend)
        return reason

    def settle(self, reserved: Spend, used: Spend) -> None:
        self.spent = self.spent.plus(used.minus(reserved))


class LedgerBudget:
    """The App's budget for one pull request: limits over all its pushes and its installation's
    day, kept in the store."""

    def __init__(
        self,
        ledger: SpendLedger,
        *,
        settings: LlmSettings,
        max_usd_per_day: float,
        installation_id: int,
        repo: str,
        pr: int,
        day: str,
    ) -> None:
        self.ledger = ledger
        self.settings = settings
        self.limits = SpendLimits(
            pr_input_tokens=settings.max_input_tokens_per_pr,
            pr_usd=settings.max_usd_per_pr,
            day_usd=max_usd_per_day,
        )
        self.installation_id = installation_id
        self.repo = repo
        self.pr = pr
        self.day = day
        self._totals: SpendTotals | None = None

    def _known(self) -> SpendTotals:
        if self._totals is None:
            self._totals = self.ledger.llm_spending(
                installation_id=self.installation_id, repo=self.repo, pr=self.pr, day=self.day
            )
        return self._totals

    def _why(self, totals: SpendTotals, spend: Spend) -> str | None:
        pr, day = totals.pr.plus(spend), totals.day.plus(spend)
        if self.limits.allows(pr, day):
            return None
        if day.usd > self.limits.day_usd + _EPSILON:
            return day_reason(self.limits.day_usd)
        tokens = pr.input_tokens > self.limits.pr_input_tokens
        return pr_reason(self.settings, spent=totals.pr, tokens=tokens, across_pushes=True)

    def _add(self, spend: Spend, limits: SpendLimits | None) -> bool:
        return self.ledger.llm_add_spend(
            installation_id=self.installation_id,
            repo=self.repo,
            pr=self.pr,
            day=self.day,
            spend=spend,
            limits=limits,
        )

    def check(self, spend: Spend) -> str | None:
        return self._why(self._known(), spend)

    def take(self, spend: Spend) -> str | None:
        reason = self.check(spend)
        if reason is not None:
            return reason
        if self._add(spend, self.limits):
            known = self._known()
            self._totals = SpendTotals(known.pr.plus(spend), known.day.plus(spend))
            return None
        # Another job of the installation spent meanwhile: read again, and say which limit.
        self._totals = None
        return self._why(self._known(), spend) or day_reason(self.limits.day_usd)

    def settle(self, reserved: Spend, used: Spend) -> None:
        change = used.minus(reserved)
        self._add(change, None)
        if self._totals is not None:
            self._totals = SpendTotals(self._totals.pr.plus(change), self._totals.day.plus(change))
