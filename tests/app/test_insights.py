"""The insights' figures, from hand-built run records whose figures are worked out by hand here."""

from __future__ import annotations

from pathlib import Path

from insightsdata import run_record

from prgate.app.insights import (
    Insights,
    awaiting_approval,
    blocking_by_rule,
    compute,
    duration,
    gather,
    to_json,
)
from prgate.app.store import FixCommit, RunRecord
from prgate.config.loader import load_config_file
from prgate.model import Conclusion, Finding, Level, Report

T = 1_800_000_000.0


def run(
    repo: str,
    pr: int,
    sha: str,
    at: float,
    conclusion: str,
    counts: dict[str, int] | None = None,
    blocking: dict[str, int] | None = None,
    approval: dict[str, int] | None = None,
) -> RunRecord:
    return run_record(repo, pr, sha, T + at, conclusion, counts, blocking, approval)


FORBIDDEN, PROTECTED, LINT = "paths/forbidden", "paths/protected", "style/ruff-lint"

RUNS = [
    # o/r #1: fails on a (a forbidden path, lint), then on b (the fix commit of a: lint gone),
    # passes on c, then c is judged again.
    run("o/r", 1, "a", 1000, "failure", {FORBIDDEN: 2, LINT: 3}, {FORBIDDEN: 2}),
    run("o/r", 1, "b", 1600, "failure", {FORBIDDEN: 2}, {FORBIDDEN: 2}),
    run("o/r", 1, "c", 4600, "success"),
    run("o/r", 1, "c", 5000, "success"),
    # o/r #2: passes at once, with a lint warning (it does not block).
    run("o/r", 2, "d", 2000, "success", {LINT: 1}),
    # o/r #3: waits for an approval, judged twice on one head, not green yet.
    run("o/r", 3, "e", 3000, "failure", {PROTECTED: 1}, {PROTECTED: 1}, {PROTECTED: 1}),
    run("o/r", 3, "e", 3500, "failure", {PROTECTED: 1}, {PROTECTED: 1}, {PROTECTED: 1}),
    # x/y #9: five failing heads, green on the sixth.
    *(
        run("x/y", 9, s, 100 * (i + 1), "failure", {LINT: 1}, {LINT: 1})
        for i, s in enumerate("pqrst")
    ),
    run("x/y", 9, "u", 7700, "success"),
]
FIXES = [
    FixCommit("o/r", 1, "b", "a", T + 1500),
    FixCommit("o/r", 2, "z", "d", T + 2100),  # never judged: counts for nothing
    FixCommit("x/y", 9, "q", "p", T + 150),  # lint fired on p and on q: not fixed
]


def insights() -> Insights:
    # Handed over out of order: the figures follow the runs' times.
    return compute(list(reversed(RUNS)), FIXES, since=T, now=T + 8000)


def test_each_rule_of_each_repository_counts_fired_blocked_fixed_and_approvals() -> None:
    repos = {r.repo: r for r in insights().repos}
    assert list(repos) == ["o/r", "x/y"]
    rules = {f.rule: f for f in repos["o/r"].rules}
    assert list(rules) == [FORBIDDEN, PROTECTED, LINT]
    f = rules[FORBIDDEN]  # runs a and b; 2 + 2 findings; blocked both; one PR; still there on b
    assert (f.fired, f.findings, f.blocked, f.pull_requests) == (2, 4, 2, 1)
    assert (f.fixed_by_fix_commit, f.needed_approval) == (0, 0)
    p = rules[PROTECTED]  # two runs of #3, blocked, waiting for an approval on one PR
    assert (p.fired, p.findings, p.blocked, p.pull_requests) == (2, 2, 2, 1)
    assert (p.fixed_by_fix_commit, p.needed_approval) == (0, 1)
    lint = rules[LINT]  # a (3) and d (1): two runs, 4 findings, never blocking, PRs 1 and 2;
    assert (lint.fired, lint.findings, lint.blocked, lint.pull_requests) == (2, 4, 0, 2)
    assert (lint.fixed_by_fix_commit, lint.needed_approval) == (1, 0)  # gone on fix commit b
    (xlint,) = repos["x/y"].rules
    assert (xlint.fired, xlint.blocked, xlint.pull_requests, xlint.fixed_by_fix_commit) == (
        5,
        5,
        1,
        0,
    )


def test_each_pull_request_counts_heads_until_green_and_the_time_from_its_first_failure() -> None:
    repos = {r.repo: r for r in insights().repos}
    pulls = {p.pr: p for p in repos["o/r"].pulls}
    one, two, three = pulls[1], pulls[2], pulls[3]
    # #1: heads a, b, c (c twice): green on the third head, 4600 - 1000 seconds after a failed.
    assert (one.runs, one.heads, one.green, one.rounds_to_green) == (4, 3, True, 3)
    assert (one.first_failure_at, one.green_at, one.seconds_to_green) == (
        T + 1000,
        T + 4600,
        3600.0,
    )
    # #2: green at once: one head, no failure, so no time to green.
    assert (two.runs, two.heads, two.rounds_to_green, two.first_failure_at) == (1, 1, 1, None)
    assert two.seconds_to_green is None and two.green_at == T + 2000
    # #3: one head judged twice, never green.
    assert (three.runs, three.heads, three.green, three.rounds_to_green) == (2, 1, False, None)
    assert three.first_failure_at == T + 3000 and three.seconds_to_green is None
    (nine,) = repos["x/y"].pulls
    assert (nine.heads, nine.rounds_to_green, nine.seconds_to_green) == (6, 6, 7600.0)


def test_a_repositorys_summary_and_the_rounds_histogram() -> None:
    repos = {r.repo: r for r in insights().repos}
    o = repos["o/r"]
    assert (o.runs, o.pull_requests, o.green) == (7, 3, 2)
    assert o.median_rounds_to_green == 2.0  # #1: 3 heads, #2: 1 head
    assert o.median_seconds_to_green == 3600.0  # only #1 failed before passing
    assert o.rounds_histogram() == (1, 0, 1, 0, 0)
    assert repos["x/y"].rounds_histogram() == (0, 0, 0, 0, 1)  # six heads: "5 or more"
    assert insights().runs == 13


def test_the_json_shape() -> None:
    data = to_json(insights())
    assert data["version"] == 1 and data["runs"] == 13 and data["truncated"] is False
    assert data["since"] == "2027-01-15T08:00:00Z"
    o = data["repositories"][0]
    assert {k: o[k] for k in ("repo", "runs", "pull_requests", "green")} == {
        "repo": "o/r",
        "runs": 7,
        "pull_requests": 3,
        "green": 2,
    }
    assert o["median_rounds_to_green"] == 2.0 and o["median_seconds_to_green"] == 3600.0
    assert o["rules"][2] == {
        "rule": LINT,
        "fired": 2,
        "findings": 4,
        "blocked": 0,
        "pull_requests": 2,
        "fixed_by_fix_commit": 1,
        "needed_approval": 0,
    }
    assert o["pulls"][0] == {
        "pr": 1,
        "runs": 4,
        "heads": 3,
        "green": True,
        "rounds_to_green": 3,
        "first_failure_at": "2027-01-15T08:16:40Z",
        "green_at": "2027-01-15T09:16:40Z",
        "seconds_to_green": 3600.0,
    }


def test_nothing_recorded_gives_no_repositories() -> None:
    empty = compute([], [], since=None, now=T)
    assert empty.repos == () and empty.runs == 0
    assert to_json(empty)["repositories"] == [] and to_json(empty)["since"] is None


class History:
    """Runs and fix commits as a store hands them over (newest ``limit`` of the window)."""

    def __init__(self, runs: list[RunRecord]) -> None:
        self.runs = runs
        self.asked: list[tuple[float, str | None, int]] = []

    def runs_since(
        self, since: float, *, repo: str | None = None, limit: int = 0
    ) -> list[RunRecord]:
        self.asked.append((since, repo, limit))
        kept = [r for r in self.runs if r.finished_at >= since and repo in (None, r.repo)]
        return kept[-limit:]

    def fix_commits(self, *, repo: str | None = None) -> list[FixCommit]:
        return [f for f in FIXES if repo in (None, f.repo)]


def test_gather_reads_the_window_and_says_when_runs_were_left_out() -> None:
    history = History(RUNS)
    now = T + 86400.0
    whole = gather(history, now=now, days=1)
    assert history.asked[-1] == (T, None, 100_001) and whole.runs == 13 and not whole.truncated
    some = gather(history, now=now, days=1, limit=3)
    assert some.truncated and some.runs == 3  # the 3 newest: x/y's last three
    assert {r.repo for r in some.repos} == {"x/y"}
    one = gather(history, now=now, days=None, repo="o/r")
    assert history.asked[-1][:2] == (0.0, "o/r") and one.since is None
    assert [r.repo for r in one.repos] == ["o/r"]


def finding(rule: str, level: Level, path: str = "db/schema.sql") -> Finding:
    return Finding(rule, level, path, None, None, "t", "m", "f")


def test_a_run_keeps_its_blocking_findings_and_those_an_approval_would_lift(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    config_file = tmp_path / "prgate.yml"
    config_file.write_text(
        "packs: [safe-zones, hygiene]\nrules:\n  paths/protected:\n    paths: ['db/**']\n"
        "    approvers:\n      users: [lead]\n"
    )
    config = load_config_file(config_file)
    report = Report(
        Conclusion.FAILURE,
        (
            finding("paths/protected", Level.ERROR),
            finding("paths/protected", Level.ERROR, "db/b.sql"),
            finding("paths/forbidden", Level.ERROR, "infra/main.tf"),
            finding("content/debug", Level.WARNING, "app.py"),
        ),
    )
    assert blocking_by_rule(report) == {"paths/forbidden": 1, "paths/protected": 2}
    assert awaiting_approval(report, config) == {"paths/protected": 2}
    assert awaiting_approval(report, None) == {}  # no config read: nothing known to lift


def test_durations_read_at_a_glance() -> None:
    assert [duration(s) for s in (None, 45, 720, 12600, 3 * 86400)] == [
        "—",
        "45 s",
        "12 min",
        "3.5 h",
        "3.0 days",
    ]
