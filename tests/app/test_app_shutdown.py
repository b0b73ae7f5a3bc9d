"""Shutdown: SIGTERM turns readiness and intake to 503 at once, lets running jobs finish within
``PRGATE_SHUTDOWN_GRACE``, releases the rest to the queue, then the process exits.

The signal tests run the real ``python -m prgate serve`` against the fake GitHub on loopback.
"""

from __future__ import annotations

import signal
import time

from appharness import RunningApp, World
from serving import Replica, free_port, world_env
from waiting import wait_until

from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import JobState

BAD = "import os\n\n\ndef add(a, b):\n    return a + b\n"


def _serve(world: World, *, grace: float, port: int, name: str = "serve") -> Replica:
    env = world_env(world, PRGATE_SHUTDOWN_GRACE=str(grace), PRGATE_WORKERS="1")
    return Replica(env, cwd=world.tmp, name=name, port=port)


def test_draining_turns_readiness_and_intake_to_503(world: World, running: RunningApp) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "x = 1\n"})
    d = gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    assert running.get("/readyz").status_code == 200
    running.asgi.state.prgate.begin_drain()
    ready = running.get("/readyz")
    assert ready.status_code == 503 and "shutting down" in ready.text
    refused = running.deliver(d)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
    assert running.store.delivery_count() == 0 and running.store.jobs() == []
    forged = running.deliver(d, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert forged.status_code == 401  # the signature is still checked first
    metrics = running.get("/metrics").text
    assert 'outcome="draining"} 1.0' in metrics and "prgate_draining 1.0" in metrics
    assert running.get("/healthz").status_code == 200  # alive, just not taking work


def test_sigterm_lets_the_running_job_finish_then_exits(world: World) -> None:
    gh, repo = world.gh, world.repo
    gh.latency = 0.25  # each GitHub call takes a while: the job runs for seconds
    pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
    late = gh.open_pull_request(repo, head="late", files={"app/late.py": "x = 1\n"})
    with _serve(world, grace=20, port=free_port()) as serve:
        d = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        gh.clear_requests()
        assert serve.deliver(d).status_code == 202
        # The job's first call to GitHub: several more, of 0.25 s each, are still to come.
        wait_until(lambda: len(gh.requests) > 0, "the job runs")
        serve.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: serve.readiness() == 503, "/readyz answers 503", timeout=5)
        late_d = gh.webhook("pull_request", "opened", repo=repo, pr=late, installation=world.inst)
        refused = serve.deliver(late_d)
        assert refused.status_code == 503
        assert serve.proc.poll() is None  # still finishing the job
        assert serve.proc.wait(timeout=25) == 0
        out = serve.log()
    (run,) = gh.check_runs(repo)
    assert run.status == "completed" and run.conclusion == "failure"
    assert len(gh.comments(repo, pr.number)) == 1
    store = SQLiteStore(world.tmp / "serve.db")
    try:
        (job,) = store.jobs()
        assert job.state is JobState.DONE
        assert not store.has_delivery(late_d.delivery_id)  # refused: GitHub may redeliver
    finally:
        store.close()
    assert world.app.webhook_secret not in out and "BEGIN" not in out


def test_sigterm_releases_a_job_that_outlasts_the_grace_period(world: World) -> None:
    gh, repo = world.gh, world.repo
    pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
    d = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
    port = free_port()
    # GitHub stops answering the PR's files: the job cannot finish within the grace period.
    gh.inject_faults(
        1.0, kinds=("hang",), method="GET", path_regex=r"/pulls/\d+/files$", hang_seconds=30
    )
    with _serve(world, grace=0.5, port=port) as serve:
        assert serve.deliver(d).status_code == 202
        wait_until(lambda: gh.faults_injected().get("hang", 0) >= 1, "the files call hangs")
        started = time.monotonic()
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(timeout=15) == 0
        assert time.monotonic() - started < 8  # the grace period, not the hanging call
    store = SQLiteStore(world.tmp / "serve.db")
    try:
        (job,) = store.jobs()
        assert job.state is JobState.QUEUED and job.owner is None  # back in the queue
    finally:
        store.close()
    gh.clear_faults()
    # Started again on the same port.
    with _serve(world, grace=5, port=port, name="restarted") as serve:

        def state() -> str:
            runs = [(r.id, r.status, r.conclusion) for r in gh.check_runs(repo)]
            calls = [(r.method, r.path, r.status) for r in gh.requests[-15:]]
            return f"runs: {runs}\nlast calls: {calls}\nlog:\n{serve.log()[-3000:]}"

        wait_until(
            lambda: any(r.status == "completed" for r in gh.check_runs(repo)),
            "the run completes",
            timeout=60,  # a new process on a busy machine: imports, a token, ruff
            detail=state,
        )
        wait_until(
            lambda: len(gh.comments(repo, pr.number)) == 1, "the PR has its comment", detail=state
        )
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(timeout=15) == 0
    (run,) = gh.check_runs(repo)  # the restarted process finished the same check run
    assert run.conclusion == "failure"
    assert gh.count("POST", r"/check-runs$") == 1
