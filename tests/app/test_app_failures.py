"""Failure paths of the App, end to end against the fake GitHub."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
from appharness import RunningApp, World, comment_delivery, fix_click
from fakegithub.fake import FakeGitHub
from ratelimits import spend_rate_limit

from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import Delivery, JobSpec, JobState, StoreError
from prgate.app.worker import MAX_ATTEMPTS

BAD = "import os\n\n\ndef add(a, b):\n    return a + b\n"


def _open(world: World, files: dict[str, str | None], **kw: object):  # type: ignore[no-untyped-def]
    pr = world.gh.open_pull_request(world.repo, files=files, **kw)  # type: ignore[arg-type]
    d = world.gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    return pr, d


def test_bad_signatures_get_401_and_nothing_is_stored(world: World, running: RunningApp) -> None:
    _pr, d = _open(world, {"app/core.py": BAD})
    sha1 = "sha1=" + hmac.new(world.app.webhook_secret.encode(), d.body, hashlib.sha1).hexdigest()
    wrong = "sha256=" + hmac.new(b"not the secret", d.body, hashlib.sha256).hexdigest()
    good = d.headers["X-Hub-Signature-256"]
    headers = {k: v for k, v in d.headers.items() if k != "X-Hub-Signature-256"}
    missing = httpx.post(f"{running.url}/api/github/webhooks", content=d.body, headers=headers)
    assert missing.status_code == 401
    for sig in (sha1, wrong, good.removeprefix("sha256="), "sha256=zz" + good[9:], "sha256="):
        assert running.deliver(d, **{"X-Hub-Signature-256": sig}).status_code == 401, sig
    legacy = dict(headers, **{"X-Hub-Signature": sha1})
    resp = httpx.post(f"{running.url}/api/github/webhooks", content=d.body, headers=legacy)
    assert resp.status_code == 401
    assert running.store.delivery_count() == 0
    assert running.store.jobs() == []
    metrics = running.get("/metrics").text
    assert (
        'prgate_webhook_deliveries_total{event="pull_request",outcome="bad_signature"} 7.0'
        in metrics
    )


def test_body_over_25_mb_gets_413(world: World, running: RunningApp) -> None:
    body = b"{" + b" " * (25 * 1024 * 1024) + b"}"
    resp = httpx.post(
        f"{running.url}/api/github/webhooks",
        content=body,
        headers={
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "big",
            "X-Hub-Signature-256": "sha256=" + "0" * 64,
        },
        timeout=60,
    )
    assert resp.status_code == 413
    assert running.store.delivery_count() == 0


def test_unknown_events_and_other_apps_check_runs_are_acknowledged_and_ignored(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    ping = gh.webhook("ping", None, installation=world.inst)
    assert running.deliver(ping).status_code == 202
    pr, d = _open(world, {"app/core.py": BAD})
    running.deliver(d)
    running.wait_idle()
    (run,) = gh.check_runs(world.repo)
    other = gh.webhook(
        "check_run", "rerequested", repo=world.repo, pr=pr, check_run=run, installation=world.inst
    )
    payload_app = other.payload["check_run"]["app"]
    assert str(payload_app["id"]) == str(world.app.id)  # sanity: ours
    body = json.loads(other.body)
    body["check_run"]["app"]["id"] = 999999
    raw = json.dumps(body).encode()
    sig = "sha256=" + hmac.new(world.app.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = dict(other.headers, **{"X-Hub-Signature-256": sig, "X-GitHub-Delivery": "other-app"})
    headers.pop("Content-Length", None)
    resp = httpx.post(f"{running.url}/api/github/webhooks", content=raw, headers=headers)
    assert resp.status_code == 202 and resp.json()["status"] == "ignored"
    unknown = dict(ping.headers, **{"X-GitHub-Event": "star", "X-GitHub-Delivery": "star-1"})
    assert running.deliver(ping, **unknown).json()["status"] == "ignored"
    running.wait_idle()
    assert len(gh.check_runs(world.repo)) == 1


def test_store_failure_answers_5xx_so_github_can_redeliver(world: World) -> None:
    class BrokenStore(SQLiteStore):
        def accept(self, delivery: Delivery, jobs: object) -> bool:  # type: ignore[override]
            raise StoreError("disk full")

    store = BrokenStore(world.tmp / "broken.db")
    with RunningApp(world.settings, store=store, start_workers=False) as app:
        _pr, d = _open(world, {"app/core.py": BAD})
        resp = app.deliver(d)
        assert resp.status_code == 503
        assert app.store.jobs() == []
    assert world.gh.requests == []


def test_branch_moved_before_fix_evaluates_new_head_instead(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    pr, d = _open(world, {"app/core.py": BAD})
    running.deliver(d)
    running.wait_idle()
    (run,) = gh.check_runs(repo)
    moved = gh.push(repo, "feature", {"app/other.py": "x = 1\n"})
    click = fix_click(world, pr, run)
    running.deliver(click)
    running.wait_idle()
    assert gh.branch_head(repo, "feature") == moved
    assert gh.count("POST", r"/git/commits$") == 0
    assert [r.conclusion for r in gh.check_runs(repo, head_sha=moved)] == ["failure"]


def test_ref_update_refused_as_not_fast_forward_is_not_forced(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    pr, d = _open(world, {"app/core.py": BAD})
    running.deliver(d)
    running.wait_idle()
    (run,) = gh.check_runs(repo)
    head = gh.branch_head(repo, "feature")
    gh.fail_next(
        "PATCH",
        r"/git/refs/heads/feature$",
        status=422,
        body={"message": "Update is not a fast forward"},
    )
    click = fix_click(world, pr, run)
    running.deliver(click)
    running.wait_idle()
    assert gh.branch_head(repo, "feature") == head
    patches = [r for r in gh.requests if r.method == "PATCH" and "/git/refs/" in r.path]
    assert len(patches) == 1 and patches[0].body["force"] is False


def test_fork_gets_no_push_and_the_comment_says_how(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    pr, d = _open(world, {"app/core.py": BAD}, fork_owner="someone", author="someone")
    running.deliver(d)
    running.wait_idle()
    (run,) = gh.check_runs(repo)
    assert run.conclusion == "failure" and run.actions == []
    (comment,) = gh.comments(repo, pr.number)
    assert "cannot push to this pull request's branch" in comment.body
    cmd = comment_delivery(world, pr, "/prgate fix", sender="someone")
    running.deliver(cmd)
    running.wait_idle()
    assert gh.count("POST", r"/git/") == 0


def test_fix_command_needs_write_access_or_authorship(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    pr, d = _open(world, {"app/core.py": BAD})
    running.deliver(d)
    running.wait_idle()
    gh.set_permission(repo, "stranger", "read")
    cmd = comment_delivery(world, pr, "/prgate fix", sender="stranger")
    running.deliver(cmd)
    running.wait_idle()
    assert gh.count("POST", r"/git/commits$") == 0
    gh.set_permission(repo, "lead", "write")
    cmd = comment_delivery(world, pr, "please\n/prgate fix", sender="lead")
    running.deliver(cmd)
    running.wait_idle()
    assert gh.count("POST", r"/git/commits$") == 1


def test_config_that_does_not_parse_fails_with_an_explanation(
    fake_github: FakeGitHub, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from appharness import make_world

    world = make_world(
        fake_github,
        tmp_path,
        files={"app/core.py": "x = 1\n", ".github/prgate.yml": "packs: [hygiene\nrules: {\n"},
    )
    with RunningApp(world.settings) as running:
        _pr, d = _open(world, {"app/core.py": "x = 2\n"})
        running.deliver(d)
        running.wait_idle()
        (run,) = world.gh.check_runs(world.repo)
        assert run.conclusion == "failure"
        assert "prgate.yml" in (run.summary or "")
        (comment,) = world.gh.comments(world.repo, _pr.number)
        assert "config" in comment.body.lower() and ".github/prgate" in comment.body
        (rec,) = running.store.runs()
        assert rec.conclusion == "failure" and rec.reason


def test_502_on_a_write_is_not_blindly_retried_and_nothing_is_doubled(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    gh.fail_next("POST", r"/check-runs$", status=502)
    gh.fail_next("POST", r"/issues/\d+/comments$", status=502)
    pr, d = _open(world, {"app/core.py": BAD})
    running.deliver(d)
    running.wait_idle()
    # The refused POST is not repeated blindly: the next attempt first looks for a check run.
    calls = [(r.method, r.path, r.status) for r in gh.requests if "check-runs" in r.path]
    posts = [i for i, c in enumerate(calls) if c[0] == "POST"]
    assert [calls[i][2] for i in posts] == [502, 201]
    assert any(m == "GET" and p.endswith("/check-runs") for m, p, _ in calls[posts[0] : posts[1]])
    (run,) = gh.check_runs(repo)
    assert run.conclusion == "failure" and run.status == "completed"
    assert len(gh.comments(repo, pr.number)) == 1
    (job,) = running.store.jobs()
    assert job.state is JobState.DONE and job.attempts == 3
    # The second attempt completed the run before its comment failed; the third found the
    # annotations there and sent none again.
    shown = [(a["path"], a["start_line"], a["title"]) for a in run.annotations]
    assert shown and len(shown) == len(set(shown))


def test_a_job_cut_off_between_annotation_batches_sends_only_the_rest(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    body = "".join(f"print({i})\n" for i in range(120))
    # 120 annotations go in the create and two PATCHes; the second PATCH fails, leaving 100 on
    # the run (created completed with its verdict).
    gh.fail_next("PATCH", r"/check-runs/\d+$", status=502, skip=1)
    _pr, d = _open(world, {"app/noisy.py": body, "tests/test_noisy.py": "x = 1\n"})
    running.deliver(d)
    running.wait_idle()
    (run,) = gh.check_runs(repo)
    assert run.status == "completed"
    lines = [a["start_line"] for a in run.annotations if a["path"] == "app/noisy.py"]
    assert sorted(lines) == list(range(1, 121))  # each once, none lost
    (job,) = running.store.jobs()
    assert job.attempts == 2
    sizes = [
        len(r.body.get("output", {}).get("annotations", []))
        for r in gh.requests
        if (r.method == "PATCH" and r.path.endswith(f"/check-runs/{run.id}") and r.status == 200)
        or (r.method == "POST" and r.path.endswith("/check-runs") and r.status == 201)
    ]
    assert sum(sizes) == len(run.annotations)


def test_rate_limit_defers_the_job_instead_of_sleeping(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    reset = int(time.time()) + 3
    spend_rate_limit(gh, "GET", r"/pulls/\d+/files$", reset=reset)
    _pr, d = _open(world, {"app/core.py": BAD})
    running.deliver(d)
    deadline = time.time() + 10
    while time.time() < deadline:
        (job,) = running.store.jobs()
        if job.deferrals:
            break
        time.sleep(0.02)
    assert job.deferrals == 1 and job.state is JobState.QUEUED
    assert "rate limit" in (job.last_error or "")
    running.wait_idle(timeout=30)
    deadline = time.time() + 10
    while time.time() < deadline and running.store.jobs()[0].state is not JobState.DONE:
        time.sleep(0.05)
    assert running.store.jobs()[0].state is JobState.DONE
    (run,) = gh.check_runs(repo)
    assert run.conclusion == "failure" and run.status == "completed"


def test_job_left_running_by_a_killed_process_resumes_on_restart(world: World) -> None:
    gh, repo = world.gh, world.repo
    pr, _d = _open(world, {"app/core.py": BAD})
    store = SQLiteStore.from_url(world.settings.database_url)
    store.enqueue(
        JobSpec(
            kind="evaluate",
            repo=repo.full_name,
            installation_id=world.inst.id,
            pr=pr.number,
            sha=gh.head_sha(pr),
        )
    )  # type: ignore[arg-type]
    claimed = store.claim(now=time.time() + 1, owner="dead-worker", lease=60)
    assert claimed is not None and claimed.state is JobState.RUNNING
    store.close()  # the process "dies" here, with the job marked running
    with RunningApp(world.settings) as running:
        running.wait_idle()
        (job,) = running.store.jobs()
        assert job.state is JobState.DONE and job.attempts == 2
    (run,) = gh.check_runs(repo)
    assert run.conclusion == "failure"


def test_github_failing_on_every_try_concludes_failure_with_the_reason(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    gh.fail_next("GET", r"/pulls/\d+/files$", status=502, times=100)
    pr, d = _open(world, {"app/core.py": "x = 1\n"})
    running.deliver(d)
    running.wait_idle()
    (job,) = running.store.jobs()
    assert job.state is JobState.FAILED and job.attempts == MAX_ATTEMPTS
    (run,) = gh.check_runs(repo)
    assert run.status == "completed" and run.conclusion == "failure"
    assert "could not judge" in (run.summary or "") and "502" in (run.summary or "")
    (comment,) = gh.comments(repo, pr.number)
    assert "was not judged" in comment.body


def test_loop_guard_never_fixes_a_prgate_commit_again(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    pr, d = _open(world, {"app/core.py": BAD})
    running.deliver(d)
    running.wait_idle()
    head = gh.head_sha(pr)
    # As if prgate itself had pushed the head commit: asking again must not add another.
    running.store.save_fix_commit(repo.full_name, pr.number, commit=head, parent="0" * 40)
    cmd = comment_delivery(world, pr, "/prgate fix")
    running.deliver(cmd)
    running.wait_idle()
    assert gh.count("POST", r"/git/") == 0
    assert gh.branch_head(repo, "feature") == head
