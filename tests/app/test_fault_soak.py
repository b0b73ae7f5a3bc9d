"""Fault soak: many pull requests opened and updated while GitHub misbehaves.

A share of the App's calls to the fake GitHub answer 502, or 429 with ``retry-after: 1``, or
hang past the client's timeout (with or without taking effect). Whatever happens, every pull
request must end with exactly one completed ``prgate`` check run on its head and exactly one
prgate comment, no commit may carry two ``prgate`` check runs, and no run prgate started may stay
in progress (a run on a head that a push superseded before its verdict is concluded
``cancelled``, naming the newer commit, never ``success``). Bounded by count and time.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from appharness import RunningApp, make_world
from fakegithub.fake import FakeGitHub
from fakegithub.state import PullRequest

from prgate.app.store import JobState

MARKER = "<!-- prgate:report -->"
DEADLINE = 60.0


def _content(i: int, round_: int) -> dict[str, str | None]:
    """Clean changes for even PRs; an unused import (an error on a line) for odd ones."""
    body = f"def f{i}():\n    return {round_}\n"
    if i % 2:
        body = "import os\n\n\n" + body
    return {f"app/m{i}.py": body, f"tests/test_m{i}.py": f"def test_{i}():\n    assert {round_}\n"}


def _settled(gh: FakeGitHub, running: RunningApp, prs: list[PullRequest]) -> bool:
    for pr in prs:
        runs = [r for r in gh.check_runs(pr.repo, head_sha=gh.head_sha(pr)) if r.name == "prgate"]
        if not runs or any(r.status != "completed" for r in runs):
            return False
    return all(j.state not in (JobState.QUEUED, JobState.RUNNING) for j in running.store.jobs())


def _state(gh: FakeGitHub, running: RunningApp, prs: list[PullRequest]) -> str:
    """What has not settled, for the failure message."""
    lines = []
    for pr in prs:
        runs = gh.check_runs(pr.repo, head_sha=gh.head_sha(pr))
        lines.append(f"#{pr.number} head runs: {[(r.id, r.status) for r in runs]}")
    now = time.time()
    for j in running.store.jobs():
        if j.state in (JobState.QUEUED, JobState.RUNNING):
            lines.append(f"job {j.id} #{j.pr} {j.state.value} attempts={j.attempts} {j.last_error}")
    lines.append(f"now={now:.0f} next due={running.store.next_due()}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("seed", "rate", "prs", "pushes"),
    # (PRs, pushes): the opening commit and the pushes after it
    [(11, 0.15, 10, 3), (29, 0.15, 10, 3), (5, 0.2, 8, 2)],
    ids=["15%-seed11", "15%-seed29", "20%-16heads"],
)
def test_every_head_ends_with_one_check_run_and_every_pr_with_one_comment(
    seed: int, rate: float, prs: int, pushes: int, tmp_path: Path
) -> None:
    with FakeGitHub(validate_responses=False) as gh:
        world = make_world(gh, tmp_path)
        settings = replace(
            world.settings,
            workers=3,
            api_timeout=0.4,
            api_retry_pause=0.02,
            retry_base_pause=0.05,
            retry_max_pause=0.4,
        )
        pulls = [
            gh.open_pull_request(world.repo, head=f"topic-{i}", files=_content(i, 0))
            for i in range(prs)
        ]
        #: Every head each PR had, so that a superseded run can be checked to name a newer one.
        commits = {gh.head_sha(pr) for pr in pulls}
        started = time.monotonic()
        with RunningApp(settings) as running:
            gh.inject_faults(
                rate, kinds=("502", "429", "hang", "lost"), seed=seed, hang_seconds=0.8
            )
            for pr in pulls:
                d = gh.webhook("pull_request", "opened", repo=world.repo, pr=pr)
                assert running.deliver(d).status_code == 202
            for round_ in range(1, pushes):
                time.sleep(0.5)  # let some evaluations get under way
                for i, pr in enumerate(pulls):
                    before = gh.head_sha(pr)
                    commits.add(gh.push(world.repo, f"topic-{i}", _content(i, round_)))
                    d = gh.webhook(
                        "pull_request", "synchronize", repo=world.repo, pr=pr, before=before
                    )
                    assert running.deliver(d).status_code == 202
            while not _settled(gh, running, pulls):
                assert time.monotonic() - started < DEADLINE, _state(gh, running, pulls)
                time.sleep(0.1)
            injected = gh.faults_injected()
            gh.clear_faults()
            jobs = running.store.jobs()

        assert set(injected) == {"502", "429", "hang", "lost"}, injected
        assert not gh.schema_errors
        for i, pr in enumerate(pulls):
            head = gh.head_sha(pr)
            (run,) = [r for r in gh.check_runs(world.repo, head_sha=head) if r.name == "prgate"]
            assert run.status == "completed"
            judged = "could not judge" not in (run.summary or "")
            if judged:  # a verdict, not a give-up: it is the right one
                assert run.conclusion == ("failure" if i % 2 else "success"), run.summary
            ours = [c for c in gh.comments(world.repo, pr.number) if c.body.startswith(MARKER)]
            assert len(ours) == 1, f"PR #{pr.number} has {len(ours)} prgate comments"
            assert len(gh.comments(world.repo, pr.number)) == 1
        per_sha: dict[str, int] = {}
        for r in gh.check_runs(world.repo):
            if r.name == "prgate":
                per_sha[r.head_sha] = per_sha.get(r.head_sha, 0) + 1
        assert max(per_sha.values()) == 1, per_sha
        # Every run prgate started is concluded; one left behind by a push says so.
        ours = [r for r in gh.check_runs(world.repo) if r.name == "prgate"]
        pending = [(r.head_sha[:7], r.status) for r in ours if r.status != "completed"]
        assert not pending, f"{len(pending)} of {len(per_sha)} heads kept a pending run: {pending}"
        heads = {gh.head_sha(pr) for pr in pulls}
        for r in ours:
            if "moved on" in (r.title or ""):
                assert r.head_sha not in heads and r.conclusion == "cancelled", r
                # The newer commit it names may itself have been pushed over before any
                # verdict, so it need not have a run of its own.
                assert any(sha in (r.summary or "") for sha in commits if sha != r.head_sha)
        failed = [j for j in jobs if j.state is JobState.FAILED]
        assert len(failed) <= 1, failed  # riding out 15% faults: a give-up is rare
        print(  # the figures, with -s
            f"soak seed={seed}: {time.monotonic() - started:.1f}s, calls={len(gh.requests)}, "
            f"faults={injected}, jobs={len(jobs)}, failed={len(failed)}, "
            f"attempts>1={sum(j.attempts > 1 for j in jobs)}, "
            f"deferrals={sum(j.deferrals for j in jobs)}, heads judged={len(per_sha)}, "
            f"superseded runs={sum('moved on' in (r.title or '') for r in ours)}"
        )
