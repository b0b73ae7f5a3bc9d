"""Merge queues: a ``merge_group`` asks for the ``prgate`` check of a group's head commit, judged
by the target branch's rules at the group's base commit, with findings naming the pull request
they come from, and no comment; ``destroyed`` drops the group's judging or concludes its run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from appharness import RunningApp, World, make_world
from fakegithub.fake import FakeGitHub
from fakegithub.state import CheckRun, MergeGroup
from waiting import wait_until

from prgate.app.events import queue_pr, route
from prgate.app.mergegroup import DROPPED_TITLE
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import JobKind, JobState
from prgate.app.worker import MAX_ATTEMPTS
from prgate.github.compare import pull_numbers

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tests" / "fixtures" / "webhooks"
SHA_A, SHA_B = "a" * 40, "b" * 40

CONFIG = """\
packs: [python-style, safe-zones, hygiene]
rules:
  paths/forbidden:
    level: error
    paths: ["infra/**"]
  paths/protected:
    paths: ["db/**"]
    approvers:
      users: [lead]
"""
#: What a pull request could bring to loosen the rules: never read for its own judging.
LOOSE = "packs: [python-style]\nrules:\n  paths/forbidden:\n    level: off\n"
BASE_FILES = {
    ".github/prgate.yml": CONFIG,
    "app/__init__.py": "",
    "app/core.py": "def add(a, b):\n    return a + b\n",
    "tests/test_core.py": "from app.core import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
}
CLEAN = {"app/m.py": "def f():\n    return 1\n", "tests/test_m.py": "def test_f():\n    assert 1\n"}


def _example(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


# --- routing (pure) --------------------------------------------------------------------------


def test_a_recorded_checks_requested_asks_for_a_merge_group_job_on_the_head_commit() -> None:
    payload = _example("merge_group.checks_requested")
    (job,) = route("merge_group", payload, app_id="1").jobs
    group = payload["merge_group"]
    assert isinstance(group, dict)
    assert job.kind is JobKind.MERGE_GROUP and job.sha == group["head_sha"]
    assert job.pr == 104 and job.installation_id == 1 and job.repo == "octo-org/octo-repo"
    assert dict(job.payload) == {
        "base_sha": group["base_sha"],
        "base_ref": "main",
        "head_ref": group["head_ref"],
    }


def test_a_recorded_destroyed_asks_to_drop_the_same_job() -> None:
    asked = route("merge_group", _example("merge_group.checks_requested"), app_id="1").jobs[0]
    (job,) = route("merge_group", _example("merge_group.destroyed"), app_id="1").jobs
    assert (job.kind, job.repo, job.pr, job.sha) == (asked.kind, asked.repo, asked.pr, asked.sha)
    assert dict(job.payload) == {"destroyed": "dequeued"}


def _group(action: str = "checks_requested", **group: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "head_sha": SHA_B,
        "base_sha": SHA_A,
        "head_ref": f"refs/heads/gh-readonly-queue/main/pr-7-{SHA_A}",
        "base_ref": "refs/heads/main",
    }
    fields.update(group)
    return {
        "action": action,
        "merge_group": fields,
        "installation": {"id": 3},
        "repository": {"full_name": "o/r"},
    }


def test_merge_group_payloads_of_odd_shapes_are_ignored_or_judged_without_a_number() -> None:
    assert route("merge_group", _group("created"), app_id="1").jobs == ()
    assert route("merge_group", _group(head_sha="HEAD"), app_id="1").jobs == ()
    assert route("merge_group", _group(base_sha=None), app_id="1").jobs == ()
    assert route("merge_group", dict(_group(), merge_group="x"), app_id="1").jobs == ()
    # A branch that does not name its pull request: judged all the same (fails closed).
    (job,) = route("merge_group", _group(head_ref="refs/heads/elsewhere"), app_id="1").jobs
    assert job.pr == 0 and job.sha == SHA_B
    # A base_ref of another shape is kept as the branch name it is.
    (job,) = route("merge_group", _group(base_ref="release/1.x"), app_id="1").jobs
    assert job.payload["base_ref"] == "release/1.x"
    # An unknown reason is recorded as a removal.
    odd = dict(_group("destroyed"), reason="<script>")
    (job,) = route("merge_group", odd, app_id="1").jobs
    assert dict(job.payload) == {"destroyed": "removed"}


def test_the_queue_branch_names_its_pull_request() -> None:
    assert queue_pr(f"refs/heads/gh-readonly-queue/main/pr-12-{SHA_A}") == 12
    assert queue_pr(f"gh-readonly-queue/release/2.x/pr-3-{SHA_A}") == 3
    assert queue_pr(f"refs/heads/gh-readonly-queue/main/pr-0-{SHA_A}") is None
    assert queue_pr(f"refs/heads/feature/pr-12-{SHA_A}") is None
    assert queue_pr("refs/heads/gh-readonly-queue/main/pr-12-abc") is None
    assert queue_pr(f"refs/heads/gh-readonly-queue/main/pr-99999999999-{SHA_A}") is None


def test_commits_name_the_pull_requests_the_queue_merged() -> None:
    subjects = [
        "Merge pull request #4 from octo/fix",
        "Tidy the parser (#9)",
        "A title that says (#9) twice (#11)",
        "fix typo",
        "Merge pull request #4 from octo/fix",
        "Mentions #5 in passing",
    ]
    assert pull_numbers(subjects) == [4, 9, 11]


def test_a_destroyed_group_folds_into_its_queued_judging(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    for name in ("merge_group.checks_requested", "merge_group.destroyed"):
        for job in route("merge_group", _example(name), app_id="1").jobs:
            store.enqueue(job)
    (queued,) = store.jobs()
    assert queued.state is JobState.QUEUED and queued.kind is JobKind.MERGE_GROUP
    assert queued.payload["destroyed"] == "dequeued" and queued.payload["base_sha"]
    store.close()


# --- end to end ------------------------------------------------------------------------------


@pytest.fixture
def qworld(fake_github: FakeGitHub, tmp_path: Path) -> World:
    return make_world(fake_github, tmp_path, files=dict(BASE_FILES))


@pytest.fixture
def qrunning(qworld: World) -> Iterator[RunningApp]:
    with RunningApp(qworld.settings) as app:
        yield app


def _deliver(world: World, app: RunningApp, group: MergeGroup, action: str, **kw: str) -> None:
    d = world.gh.webhook(
        "merge_group", action, repo=world.repo, installation=world.inst, group=group, **kw
    )
    assert app.deliver(d).status_code == 202


def _runs(world: World, sha: str) -> list[CheckRun]:
    return [r for r in world.gh.check_runs(world.repo, head_sha=sha) if r.name == "prgate"]


def test_a_passing_group_gets_a_success_check_on_its_head_and_no_comment(
    qworld: World, qrunning: RunningApp
) -> None:
    gh = qworld.gh
    pr = gh.open_pull_request(qworld.repo, files=CLEAN)
    group = gh.queue_merge_group([pr])
    _deliver(qworld, qrunning, group, "checks_requested")
    qrunning.wait_idle()
    (run,) = _runs(qworld, group.head_sha)
    assert run.status == "completed" and run.conclusion == "success", run.summary
    summary = run.summary or ""
    assert "merge queue group for `main`" in summary and "pull request #1 " in summary
    assert "Every rule passed." in summary and run.actions == []
    assert gh.comments(qworld.repo, pr.number) == []
    assert _runs(qworld, gh.head_sha(pr)) == []  # the pull request's own head is not touched
    assert gh.count("GET", r"/compare/") == 1
    # The queue merges the group: its verdict stands.
    _deliver(qworld, qrunning, group, "destroyed", reason="merged")
    qrunning.wait_idle()
    (after,) = _runs(qworld, group.head_sha)
    assert (after.id, after.conclusion, after.summary) == (run.id, "success", run.summary)
    assert gh.schema_errors == []


def test_a_failing_group_names_the_pull_request_by_base_rules_not_its_own(
    qworld: World, qrunning: RunningApp
) -> None:
    gh = qworld.gh
    first = gh.open_pull_request(qworld.repo, head="one", files=CLEAN, title="Add m")
    second = gh.open_pull_request(
        qworld.repo,
        head="two",
        title="Touch infra",
        files={
            "infra/main.tf": 'resource "x" "y" {}\n',
            # Loosening the rules in the change itself: the base's rules judge it.
            ".github/prgate.yml": LOOSE,
            "app/core.py": "import os\n\n\ndef add(a, b):\n    return a + b\n",
            "tests/test_core.py": "def test_add():\n    assert True\n",
        },
    )
    group = gh.queue_merge_group([first, second])
    assert group.head_ref.endswith(f"/pr-{second.number}-{group.base_sha}")
    _deliver(qworld, qrunning, group, "checks_requested")
    qrunning.wait_idle()
    (run,) = _runs(qworld, group.head_sha)
    assert run.conclusion == "failure", run.summary
    summary = run.summary or ""
    assert "It holds pull requests #1 and #2" in summary
    assert "fix it in that pull request" in summary
    by_path = {a["path"]: a for a in run.annotations}
    assert (
        "From pull request #2: This change adds infra/main.tf"
        in by_path["infra/main.tf"]["message"]
    )
    assert "paths/forbidden" in by_path["infra/main.tf"]["raw_details"]
    # ruff's finding on a line the second pull request added names it too.
    assert by_path["app/core.py"]["message"].startswith("From pull request #2: ")
    assert all(a["path"] != "app/m.py" for a in run.annotations)
    assert gh.comments(qworld.repo, first.number) == []
    assert gh.comments(qworld.repo, second.number) == []
    assert gh.schema_errors == []


def test_a_rebased_group_names_only_the_pull_requests_it_can_confirm(
    qworld: World, qrunning: RunningApp
) -> None:
    gh = qworld.gh
    first = gh.open_pull_request(qworld.repo, head="one", files={"infra/a.tf": "a\n"})
    second = gh.open_pull_request(qworld.repo, head="two", files=CLEAN, title="Add m")
    group = gh.queue_merge_group([first, second], rebase=True)
    _deliver(qworld, qrunning, group, "checks_requested")
    qrunning.wait_idle()
    (run,) = _runs(qworld, group.head_sha)
    assert run.conclusion == "failure"
    # The first pull request's commits do not name it: its finding is not given to the second.
    (forbidden,) = [a for a in run.annotations if a["path"] == "infra/a.tf"]
    assert "infra/a.tf" in forbidden["message"] and "From pull request" not in forbidden["message"]
    assert "It holds pull request #2 " in (run.summary or "")


def test_a_group_dropped_while_queued_is_never_judged(qworld: World) -> None:
    gh = qworld.gh
    pr = gh.open_pull_request(qworld.repo, files=CLEAN)
    group = gh.queue_merge_group([pr])
    with RunningApp(qworld.settings, start_workers=False) as app:
        _deliver(qworld, app, group, "checks_requested")
        _deliver(qworld, app, group, "destroyed", reason="dequeued")
        (job,) = app.store.jobs()
        assert job.payload["destroyed"] == "dequeued"
    with RunningApp(qworld.settings) as app:
        app.wait_idle()
        (job,) = app.store.jobs()
        assert job.state is JobState.DONE
    assert _runs(qworld, group.head_sha) == []
    assert gh.count("GET", r"/compare/") == 0


def test_a_group_dropped_while_its_run_is_in_progress_gets_it_concluded_cancelled(
    qworld: World, qrunning: RunningApp
) -> None:
    gh = qworld.gh
    pr = gh.open_pull_request(qworld.repo, files=CLEAN)
    group = gh.queue_merge_group([pr])
    gh.fail_next("GET", r"/compare/", status=429, headers={"retry-after": "2"})
    _deliver(qworld, qrunning, group, "checks_requested")
    wait_until(
        lambda: any(j.deferrals == 1 and j.state is JobState.QUEUED for j in qrunning.store.jobs()),
        "the job is queued again after the fault",
        detail=lambda: str(qrunning.store.jobs()),
    )
    (run,) = _runs(qworld, group.head_sha)
    assert run.status == "in_progress"
    _deliver(qworld, qrunning, group, "destroyed", reason="invalidated")
    qrunning.wait_idle()
    (done,) = _runs(qworld, group.head_sha)
    assert done.id == run.id and done.status == "completed"
    assert done.conclusion == "cancelled" and done.title == DROPPED_TITLE
    assert "removed this group" in (done.summary or "")
    assert gh.count("GET", r"/compare/") == 1  # the fault only: never judged after
    assert gh.schema_errors == []


def test_github_failing_on_every_try_fails_the_group_with_the_reason(
    qworld: World, qrunning: RunningApp
) -> None:
    gh = qworld.gh
    pr = gh.open_pull_request(qworld.repo, files=CLEAN)
    group = gh.queue_merge_group([pr])
    gh.fail_next("GET", r"/compare/", status=502, times=100)
    _deliver(qworld, qrunning, group, "checks_requested")
    qrunning.wait_idle()
    (job,) = qrunning.store.jobs()
    assert job.state is JobState.FAILED and job.attempts == MAX_ATTEMPTS
    (run,) = _runs(qworld, group.head_sha)
    assert run.status == "completed" and run.conclusion == "failure"
    summary = run.summary or ""
    assert "merge queue group for `main`" in summary and "could not judge" in summary
    assert gh.comments(qworld.repo, pr.number) == []


def test_a_group_of_more_files_than_github_lists_is_not_judged(
    qworld: World, qrunning: RunningApp
) -> None:
    gh = qworld.gh
    many = {f"data/f{i}.txt": f"{i}\n" for i in range(300)}
    pr = gh.open_pull_request(qworld.repo, files=many)
    group = gh.queue_merge_group([pr])
    _deliver(qworld, qrunning, group, "checks_requested")
    qrunning.wait_idle()
    (run,) = _runs(qworld, group.head_sha)
    assert run.conclusion == "failure"
    assert "at most 300 files of a group" in (run.summary or "")


def test_the_approvals_of_the_pull_request_a_group_was_made_for_count(
    qworld: World, qrunning: RunningApp
) -> None:
    gh = qworld.gh
    pr = gh.open_pull_request(
        qworld.repo, files={"db/schema.sql": "CREATE TABLE a (id int);\n"}, title="Schema"
    )
    unapproved = gh.queue_merge_group([pr])
    _deliver(qworld, qrunning, unapproved, "checks_requested")
    qrunning.wait_idle()
    (run,) = _runs(qworld, unapproved.head_sha)
    assert run.conclusion == "failure"
    (protected,) = [a for a in run.annotations if a["path"] == "db/schema.sql"]
    assert "From pull request #1: " in protected["message"]
    gh.add_review(pr, "lead")
    approved = gh.queue_merge_group([pr])
    assert approved.head_sha != unapproved.head_sha
    _deliver(qworld, qrunning, approved, "checks_requested")
    qrunning.wait_idle()
    (run,) = _runs(qworld, approved.head_sha)
    assert run.conclusion == "success", run.summary
