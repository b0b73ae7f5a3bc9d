"""Insights for engineering leads, computed from the run records the App keeps (pure: no I/O).

Per repository and per rule: how often the rule fired, blocked, was cleared by a fix commit, and
held a pull request for an approval. Per pull request: how many heads were judged until its
check first passed, and how long it took from its first failing check to that passing one.

The figures, as defined here (the README and the JSON say the same):

- ``fired``: judged runs with at least one finding of the rule; ``findings``: their findings.
- ``blocked``: judged runs with at least one finding of the rule at level ``error``.
- ``pull_requests``: pull requests with at least one run where the rule fired.
- ``fixed_by_fix_commit``: fix commits after which the rule no longer fired: it fired on the
  last run of the commit's parent and not on the first run of the fix commit (same PR).
- ``needed_approval``: pull requests where findings of the rule waited for an approving review.
- ``rounds_to_green``: distinct heads judged up to and including the first passing run.
- ``seconds_to_green``: from the first failing run's end to the first passing run after it.

Runs recorded before prgate kept blocking findings and those awaiting approvals count as
fired, never as blocked or awaiting approval.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from prgate.app.store import FixCommit, RunRecord
from prgate.config import Config
from prgate.model import Report

#: The JSON shape's version (``prgate insights --format json``).
SHAPE_VERSION = 1
PASSING = "success"
#: The most run records one computation reads (the newest of the window).
MAX_RUNS = 100_000
#: The window's default length, in days.
DEFAULT_DAYS = 30


class RunHistory(Protocol):
    """What the insights read from the store."""

    def runs_since(
        self, since: float, *, repo: str | None = None, limit: int = ...
    ) -> list[RunRecord]: ...

    def fix_commits(self, *, repo: str | None = None) -> list[FixCommit]: ...


def gather(
    store: RunHistory,
    *,
    now: float,
    days: int | None = DEFAULT_DAYS,
    repo: str | None = None,
    limit: int = MAX_RUNS,
) -> Insights:
    """The insights of the last ``days`` days (all the runs kept when ``None`` or 0)."""
    since = now - days * 86400.0 if days else None
    runs = store.runs_since(since or 0.0, repo=repo, limit=limit + 1)
    truncated = len(runs) > limit
    if truncated:
        runs = runs[1:]
    fixes = store.fix_commits(repo=repo)
    return compute(runs, fixes, since=since, now=now, truncated=truncated)


# --- what a run record keeps ------------------------------------------------------------------


def blocking_by_rule(report: Report) -> dict[str, int]:
    """The report's findings at level ``error``, counted by rule."""
    counts: dict[str, int] = {}
    for f in report.blocking:
        counts[f.rule] = counts.get(f.rule, 0) + 1
    return dict(sorted(counts.items()))


def awaiting_approval(report: Report, config: Config | None) -> dict[str, int]:
    """The report's findings that an approving review would lift (rules naming ``approvers``),
    counted by rule."""
    if config is None:
        return {}
    approvable = {r.id for r in config.rules if getattr(r.params, "approvers", None) is not None}
    counts: dict[str, int] = {}
    for f in report.findings:
        if f.rule in approvable:
            counts[f.rule] = counts.get(f.rule, 0) + 1
    return dict(sorted(counts.items()))


# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFigures:
    rule: str
    fired: int
    findings: int
    blocked: int
    pull_requests: int
    fixed_by_fix_commit: int
    needed_approval: int


@dataclass(frozen=True)
class PullFigures:
    pr: int
    runs: int
    #: Distinct heads judged.
    heads: int
    #: Whether a run of the pull request has passed.
    green: bool
    #: Heads judged up to and including the first passing run; ``None`` while none passed.
    rounds_to_green: int | None
    #: When (epoch seconds) the first failing run ended; ``None`` when no run failed.
    first_failure_at: float | None
    #: When the first passing run ended; ``None`` while none passed.
    green_at: float | None
    #: From the first failing run to the first passing one after it; ``None`` when the pull
    #: request passed at once or has not passed yet.
    seconds_to_green: float | None


@dataclass(frozen=True)
class RepoFigures:
    repo: str
    runs: int
    rules: tuple[RuleFigures, ...]
    pulls: tuple[PullFigures, ...]

    @property
    def pull_requests(self) -> int:
        return len(self.pulls)

    @property
    def green(self) -> int:
        return sum(1 for p in self.pulls if p.green)

    @property
    def median_rounds_to_green(self) -> float | None:
        return _median(p.rounds_to_green for p in self.pulls)

    @property
    def median_seconds_to_green(self) -> float | None:
        return _median(p.seconds_to_green for p in self.pulls)

    def rounds_histogram(self, top: int = 5) -> tuple[int, ...]:
        """How many pull requests turned green after 1, 2, ... heads; the last bucket holds
        ``top`` heads or more."""
        buckets = [0] * top
        for p in self.pulls:
            if p.rounds_to_green is not None:
                buckets[min(p.rounds_to_green, top) - 1] += 1
        return tuple(buckets)


@dataclass(frozen=True)
class Insights:
    repos: tuple[RepoFigures, ...]
    #: The window's start (epoch seconds), ``None`` for all the runs kept.
    since: float | None
    generated_at: float
    #: Whether runs of the window were left out (more than the store was asked for).
    truncated: bool = False

    @property
    def runs(self) -> int:
        return sum(r.runs for r in self.repos)


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(statistics.median(known)) if known else None


def compute(
    runs: Sequence[RunRecord],
    fixes: Sequence[FixCommit] = (),
    *,
    since: float | None = None,
    now: float,
    truncated: bool = False,
) -> Insights:
    """The insights of ``runs`` (in the order they were recorded) and ``fixes``, by
    repository (by name)."""
    ordered = sorted(enumerate(runs), key=lambda item: (item[1].finished_at, item[0]))
    by_repo: dict[str, list[RunRecord]] = {}
    for _i, run in ordered:
        by_repo.setdefault(run.repo, []).append(run)
    repos = tuple(
        _repo(name, by_repo[name], [f for f in fixes if f.repo == name]) for name in sorted(by_repo)
    )
    return Insights(repos=repos, since=since, generated_at=now, truncated=truncated)


def _repo(name: str, runs: list[RunRecord], fixes: list[FixCommit]) -> RepoFigures:
    by_pr: dict[int, list[RunRecord]] = {}
    for run in runs:
        by_pr.setdefault(run.pr, []).append(run)
    fired: dict[str, int] = {}
    findings: dict[str, int] = {}
    blocked: dict[str, int] = {}
    prs_fired: dict[str, set[int]] = {}
    prs_approval: dict[str, set[int]] = {}
    for run in runs:
        for rule, n in run.counts.items():
            if n > 0:
                fired[rule] = fired.get(rule, 0) + 1
                findings[rule] = findings.get(rule, 0) + n
                prs_fired.setdefault(rule, set()).add(run.pr)
        for rule, n in run.blocking.items():
            if n > 0:
                blocked[rule] = blocked.get(rule, 0) + 1
        for rule, n in run.awaiting_approval.items():
            if n > 0:
                prs_approval.setdefault(rule, set()).add(run.pr)
    fixed = _fixed_by_fix_commits(by_pr, fixes)
    names = sorted(set(fired) | set(blocked) | set(prs_approval) | set(fixed))
    rules = tuple(
        RuleFigures(
            rule=rule,
            fired=fired.get(rule, 0),
            findings=findings.get(rule, 0),
            blocked=blocked.get(rule, 0),
            pull_requests=len(prs_fired.get(rule, ())),
            fixed_by_fix_commit=fixed.get(rule, 0),
            needed_approval=len(prs_approval.get(rule, ())),
        )
        for rule in names
    )
    pulls = tuple(_pull(pr, by_pr[pr]) for pr in sorted(by_pr))
    return RepoFigures(repo=name, runs=len(runs), rules=rules, pulls=pulls)


def _fixed_by_fix_commits(
    by_pr: Mapping[int, list[RunRecord]], fixes: Sequence[FixCommit]
) -> dict[str, int]:
    fixed: dict[str, int] = {}
    for fix in fixes:
        runs = by_pr.get(fix.pr, [])
        before = [r for r in runs if r.sha == fix.parent]
        after = [r for r in runs if r.sha == fix.sha]
        if not before or not after:
            continue  # one of the two was not judged (or is outside the window)
        was, now = before[-1].counts, after[0].counts
        for rule, n in was.items():
            if n > 0 and now.get(rule, 0) == 0:
                fixed[rule] = fixed.get(rule, 0) + 1
    return fixed


def _pull(pr: int, runs: list[RunRecord]) -> PullFigures:
    heads: list[str] = []
    first_failure: RunRecord | None = None
    green: RunRecord | None = None
    rounds: int | None = None
    for run in runs:
        if run.sha not in heads:
            heads.append(run.sha)
        if green is not None:
            continue
        if run.conclusion == PASSING:
            green, rounds = run, len(heads)
        elif first_failure is None:
            first_failure = run
    seconds = (
        green.finished_at - first_failure.finished_at
        if green is not None and first_failure is not None
        else None
    )
    return PullFigures(
        pr=pr,
        runs=len(runs),
        heads=len(heads),
        green=green is not None,
        rounds_to_green=rounds,
        first_failure_at=first_failure.finished_at if first_failure is not None else None,
        green_at=green.finished_at if green is not None else None,
        seconds_to_green=seconds,
    )


# --- the JSON shape ---------------------------------------------------------------------------


def timestamp(epoch: float | None) -> str | None:
    """``epoch`` as an ISO 8601 time in UTC (``2026-12-03T06:00:00Z``)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float | None) -> str:
    """``seconds`` in words a person reads at a glance (``45 s``, ``12 min``, ``3.5 h``)."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def to_json(insights: Insights) -> dict[str, Any]:
    """The insights as ``prgate insights --format json`` prints them."""
    return {
        "version": SHAPE_VERSION,
        "generated_at": timestamp(insights.generated_at),
        "since": timestamp(insights.since),
        "runs": insights.runs,
        "truncated": insights.truncated,
        "repositories": [
            {
                "repo": r.repo,
                "runs": r.runs,
                "pull_requests": r.pull_requests,
                "green": r.green,
                "median_rounds_to_green": r.median_rounds_to_green,
                "median_seconds_to_green": r.median_seconds_to_green,
                "rules": [
                    {
                        "rule": f.rule,
                        "fired": f.fired,
                        "findings": f.findings,
                        "blocked": f.blocked,
                        "pull_requests": f.pull_requests,
                        "fixed_by_fix_commit": f.fixed_by_fix_commit,
                        "needed_approval": f.needed_approval,
                    }
                    for f in r.rules
                ],
                "pulls": [
                    {
                        "pr": p.pr,
                        "runs": p.runs,
                        "heads": p.heads,
                        "green": p.green,
                        "rounds_to_green": p.rounds_to_green,
                        "first_failure_at": timestamp(p.first_failure_at),
                        "green_at": timestamp(p.green_at),
                        "seconds_to_green": p.seconds_to_green,
                    }
                    for p in r.pulls
                ],
            }
            for r in insights.repos
        ],
    }
