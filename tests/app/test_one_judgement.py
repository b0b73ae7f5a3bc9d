"""One judgement per head, and no flapping: a head whose inputs did not change since its run was
concluded is not judged again unless a person asks, and a concluded run never goes back to
``in_progress`` (a required check going from green to pending with nothing changed)."""

from __future__ import annotations

from typing import Any

from appharness import RunningApp, World, comment_delivery
from fakegithub.fake import FakeGitHub
from fakegithub.state import PullRequest
from waiting import wait_until

from prgate.app.store import JobState

CLEAN = {"app/m.py": "def f():\n    return 1\n", "tests/test_m.py": "def test_f():\n    assert 1\n"}


def _run_writes(gh: FakeGitHub, since: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(method, body) of every accepted write to a check run, in order."""
    return [
        (r.method, r.body)
        for r in gh.requests[since:]
        if r.status < 300
        and r.method in ("POST", "PATCH")
        and "/check-runs" in r.path
        and isinstance(r.body, dict)
    ]


def _back_in_progress(writes: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Writes that put an existing run (a PATCH) in progress or queued."""
    return [b for m, b in writes if m == "PATCH" and b.get("status") in ("in_progress", "queued")]


def _deliver(running: RunningApp, world: World, pr: PullRequest, event: str, action: str) -> None:
    d = world.gh.webhook(event, action, repo=world.repo, pr=pr, installation=world.inst)
    assert running.deliver(d).status_code == 202


def test_a_second_request_for_a_head_being_judged_does_not_judge_it_again(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files=CLEAN)
    gh.latency = 0.15  # the first job takes a while: the second request comes while it runs
    _deliver(running, world, pr, "pull_request", "opened")
    wait_until(
        lambda: any(j.state is JobState.RUNNING for j in running.store.jobs()),
        "the first job runs",
    )
    _deliver(running, world, pr, "check_suite", "requested")  # the same head, queued again
    _deliver(running, world, pr, "pull_request", "synchronize")
    running.wait_idle()
    gh.latency = 0.0
    jobs = running.store.jobs()
    assert len(jobs) == 2 and all(j.state is JobState.DONE for j in jobs), jobs
    (run,) = gh.check_runs(world.repo)
    assert run.status == "completed" and run.conclusion == "success", run.summary
    writes = _run_writes(gh)
    assert not _back_in_progress(writes), writes
    assert [b.get("conclusion") for _m, b in writes if b.get("conclusion")] == ["success"]
    assert len(running.store.runs()) == 1  # judged once
    assert gh.count("PATCH", r"/issues/comments/\d+$") == 0  # the comment written once


def test_a_recheck_judges_again_without_a_pending_phase(world: World, running: RunningApp) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/m.py": "import os\n"})
    _deliver(running, world, pr, "pull_request", "opened")
    running.wait_idle()
    (first,) = gh.check_runs(world.repo)
    assert first.conclusion == "failure"
    mark = len(gh.requests)
    for ask in ("/prgate recheck", "rerun", "suite"):
        if ask == "rerun":
            d = gh.webhook(
                "check_run", "rerequested", repo=world.repo, pr=pr, check_run=first,
                installation=world.inst,
            )  # fmt: skip
        elif ask == "suite":
            d = gh.webhook("check_suite", "rerequested", repo=world.repo, pr=pr)
        else:
            d = comment_delivery(world, pr, ask)
        assert running.deliver(d).status_code == 202
        running.wait_idle()
    assert len(running.store.runs()) == 4  # each request of a person judged it again
    writes = _run_writes(gh, mark)
    assert not _back_in_progress(writes), writes
    assert not [b for m, b in writes if m == "POST"]  # the same run, updated in place
    assert [b.get("conclusion") for _m, b in writes] == ["failure"] * 3
    (run,) = gh.check_runs(world.repo)
    assert run.id == first.id and run.conclusion == "failure"
    assert len(run.annotations) == len(first.annotations)  # none sent twice


def test_a_change_of_inputs_judges_again_and_a_replaced_run_is_created_completed(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/m.py": "import os\nprint(1)\n"})
    _deliver(running, world, pr, "pull_request", "opened")
    running.wait_idle()
    (first,) = gh.check_runs(world.repo)
    assert first.conclusion == "failure"
    _deliver(running, world, pr, "check_suite", "requested")  # nothing changed
    running.wait_idle()
    assert len(running.store.runs()) == 1
    # A label decides nothing (approvals lift protected paths): not judged again.
    gh.add_label(pr, "ready")
    _deliver(running, world, pr, "pull_request", "labeled")
    running.wait_idle()
    assert len(running.store.runs()) == 1
    # The base's config is an input: a request after it changed judges again, and the run,
    # holding an annotation the new verdict does not make, is replaced by one created
    # completed (never a pending phase).
    mark = len(gh.requests)
    gh.push(
        world.repo, "main", {".github/prgate.yml": "rules:\n  content/debug:\n    level: 'off'\n"}
    )
    _deliver(running, world, pr, "check_suite", "requested")
    running.wait_idle()
    assert len(running.store.runs()) == 2
    writes = _run_writes(gh, mark)
    assert not _back_in_progress(writes), writes
    (created,) = [b for m, b in writes if m == "POST"]
    assert created["status"] == "completed" and created["conclusion"] == "failure"
    old, new = sorted(gh.check_runs(world.repo), key=lambda r: r.id)
    assert old.id == first.id and old.conclusion == "cancelled"
    assert new.status == "completed" and "Debugging code was left in" not in {
        a["title"] for a in new.annotations
    }
