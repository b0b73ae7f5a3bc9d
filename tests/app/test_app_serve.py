"""`prgate serve` as a real process with the contract's variables; killed mid-job, restarted."""

from __future__ import annotations

from pathlib import Path

from appharness import World
from serving import Replica, StallingProxy, world_env
from waiting import wait_until

from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import JobState

BAD = "import os\n\n\ndef add(a, b):\n    return a + b\n"


def test_killed_mid_job_then_restarted_finishes_the_job_once(world: World, tmp_path: Path) -> None:
    gh, repo = world.gh, world.repo
    proxy = StallingProxy(gh.base_url, "/files")
    env = world_env(world, api_url=proxy.url)
    first = Replica(env, cwd=world.tmp, name="first")
    second: Replica | None = None
    try:
        pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
        d = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        assert first.deliver(d).status_code == 202
        assert proxy.stalled.wait(30)
        # A head's run is created with its verdict, once the change is read: none yet.
        assert gh.check_runs(repo) == []
        first.kill()
        store = SQLiteStore(world.tmp / "serve.db")
        (job,) = store.jobs()
        assert job.state is JobState.RUNNING
        store.close()
        proxy.release()
        # Started again on the same port, freed by the kill.
        second = Replica(env, cwd=world.tmp, name="second", port=first.port)
        wait_until(
            lambda: any(r.status == "completed" for r in gh.check_runs(repo)), "the run completes"
        )
        wait_until(lambda: len(gh.comments(repo, pr.number)) == 1, "the PR has its comment")
        (run,) = gh.check_runs(repo)
        assert run.conclusion == "failure"
        assert len(gh.comments(repo, pr.number)) == 1
        assert gh.count("POST", r"/check-runs$") == 1
        # A redelivery to the restarted process does no work twice.
        again = second.deliver(d)
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
    finally:
        first.stop()
        if second is not None:
            second.stop()
        proxy.close()
    out = first.log() + (second.log() if second else "")
    assert world.app.webhook_secret not in out
    assert "BEGIN" not in out and "ghs_" not in out
