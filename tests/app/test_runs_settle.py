"""No run left pending: every ``prgate`` run the App starts ends completed. A run started on a
head that a push superseded before its verdict (the job began, failed on a GitHub fault, was
queued again, then found a newer head) is concluded ``cancelled`` and names the newer commit;
so is the give-up path. Deterministic scenarios with ``fail_next``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from appharness import RunningApp, World
from fakegithub.state import CheckRun, PullRequest
from waiting import wait_until

from prgate.app.store import JobState

CLEAN = {"app/m.py": "def f():\n    return 1\n", "tests/test_m.py": "def test_f():\n    assert 1\n"}
NEWER = {"app/m.py": "def f():\n    return 2\n", "tests/test_m.py": "def test_f():\n    assert 2\n"}
FILES = r"/pulls/\d+/files$"


def _prgate_runs(world: World) -> list[CheckRun]:
    return [r for r in world.gh.check_runs(world.repo) if r.name == "prgate"]


def _started(world: World, running: RunningApp, pr: PullRequest) -> CheckRun:
    """Open ``pr``, and wait until its job has started its run and been put back in the queue
    by a GitHub fault (a rate limit on the PR's files, for a moment, twice: a head's run is
    shown in progress once its verdict is late, from the job's second try)."""
    gh = world.gh
    gh.fail_next("GET", FILES, status=429, headers={"retry-after": "1"})
    gh.fail_next("GET", FILES, status=429, headers={"retry-after": "2"})
    d = gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    assert running.deliver(d).status_code == 202
    wait_until(
        lambda: any(j.deferrals == 2 and j.state is JobState.QUEUED for j in running.store.jobs()),
        "the job is queued again after the fault",
        detail=lambda: str(running.store.jobs()),
    )
    (run,) = _prgate_runs(world)
    assert run.status == "in_progress" and run.head_sha == gh.head_sha(pr)
    return run


def _assert_settled(world: World, old: CheckRun, newer: str) -> None:
    runs = {r.id: r for r in _prgate_runs(world)}
    assert all(r.status == "completed" for r in runs.values()), [
        (r.head_sha[:7], r.status) for r in runs.values()
    ]
    left = runs[old.id]
    assert left.conclusion == "cancelled", left.conclusion
    assert newer in (left.summary or "") and "moved on" in (left.title or "")
    (current,) = [r for r in runs.values() if r.head_sha == newer]
    assert current.conclusion in ("success", "failure"), current.summary


@pytest.mark.parametrize("announced", [True, False], ids=["push-delivered", "push-unseen"])
def test_a_run_started_on_a_superseded_head_is_concluded_naming_the_newer_commit(
    world: World, running: RunningApp, announced: bool
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files=CLEAN)
    old = _started(world, running, pr)
    before = gh.head_sha(pr)
    newer = gh.push(world.repo, pr.head_ref, NEWER)
    if announced:  # the queued job of the old head is superseded in the queue
        d = gh.webhook(
            "pull_request", "synchronize", repo=world.repo, pr=pr, before=before,
            installation=world.inst,
        )  # fmt: skip
        assert running.deliver(d).status_code == 202
    # else: the retried job of the old head finds the newer one
    wait_until(
        lambda: (
            all(r.status == "completed" for r in _prgate_runs(world))
            and len(_prgate_runs(world)) == 2
        ),
        "both runs are completed",
        timeout=20,
        detail=lambda: str([(r.head_sha[:7], r.status) for r in _prgate_runs(world)]),
    )
    running.wait_idle()
    _assert_settled(world, old, newer)
    assert running.store.check_runs_in_progress(world.repo.full_name, pr.number) == []


def test_a_job_given_up_concludes_the_run_it_left_behind_and_fails_the_head(
    world: World,
) -> None:
    gh = world.gh
    settings = replace(world.settings, api_retry_pause=0.01)
    with RunningApp(settings) as running:
        pr = gh.open_pull_request(world.repo, files=CLEAN)
        old = _started(world, running, pr)
        newer = gh.push(world.repo, pr.head_ref, NEWER)
        gh.fail_next("GET", FILES, status=502, times=1000)  # GitHub keeps failing on the files
        wait_until(
            lambda: any(j.state is JobState.FAILED for j in running.store.jobs()),
            "the job is given up",
            timeout=30,
            detail=lambda: str(running.store.jobs()),
        )
        running.wait_idle()
        gh.clear_faults()
    _assert_settled(world, old, newer)
    (current,) = [r for r in _prgate_runs(world) if r.head_sha == newer]
    assert current.conclusion == "failure" and "could not judge" in (current.summary or "")


def test_a_run_of_a_pr_closed_before_its_verdict_is_concluded(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files=CLEAN)
    old = _started(world, running, pr)
    gh.close_pull_request(pr)
    d = gh.webhook("pull_request", "closed", repo=world.repo, pr=pr, installation=world.inst)
    assert running.deliver(d).status_code == 202
    wait_until(
        lambda: all(r.status == "completed" for r in _prgate_runs(world)),
        "the run is concluded",
        timeout=20,
    )
    running.wait_idle()
    (run,) = _prgate_runs(world)
    assert run.id == old.id and run.conclusion == "cancelled"
    assert "closed" in (run.title or "")
