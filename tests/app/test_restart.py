"""`prgate serve` killed with SIGKILL mid-job and started again on the same database.

``test_app_serve.py`` covers one running job on SQLite. Here a process is killed with a backlog
(one job running, several queued) on SQLite and on PostgreSQL, where the restarted process takes
the dead one's job over when its lease runs out (not at start-up, since another replica might
still be running it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from fakegithub.fake import FakeGitHub
from pgdb import fresh_database
from serving import Replica, StallingProxy
from test_replicas import all_judged, assert_judged_once, db_rows, make_repo, open_prs, replica_env
from waiting import wait_until

FILES = r"/pulls/\d+/files$"


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'serve.db'}"
    else:
        with fresh_database() as url:
            yield url


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            return list(db.execute(sql).fetchall())
    return db_rows(url, sql)


def job_states(url: str) -> dict[str, int]:
    found = rows(url, "SELECT state, COUNT(*) FROM jobs GROUP BY state")
    return {str(s): int(str(n)) for s, n in found}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_with_a_backlog_then_restarted_finishes_every_job(
    backend: str, tmp_path: Path
) -> None:
    with FakeGitHub() as gh, database(backend, tmp_path) as url:
        app, inst, repo = make_repo(gh)
        prs = open_prs(gh, repo, 5)
        deliveries = [
            gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=inst) for pr in prs
        ]
        proxy = StallingProxy(gh.base_url, FILES)
        env = replica_env(app, url, proxy.url, tmp_path) | {"PRGATE_WORKERS": "1"}
        first = Replica(env, cwd=tmp_path, name="first")
        second: Replica | None = None
        try:
            for d in deliveries:
                assert first.deliver(d).status_code == 202
            assert proxy.stalled.wait(20), "the first job never reached GitHub's PR files"
            (held,) = {int(p.split("/")[-2]) for p in proxy.stalled_paths}
            # A head's check run is created with its verdict: none while its change is read.
            assert gh.check_runs(repo) == []
            first.kill()
            # Acknowledged deliveries survive the kill: one job running, the rest waiting.
            assert job_states(url) == {"running": 1, "queued": 4}
            assert len(rows(url, "SELECT id FROM deliveries")) == 5
            proxy.close()

            env["PRGATE_GITHUB_API_URL"] = gh.base_url
            second = Replica(env, cwd=tmp_path, name="second")
            wait_until(lambda: all_judged(gh, repo, prs), "every job is finished after the restart")
            wait_until(lambda: job_states(url) == {"done": 5}, "every job is recorded done")
            assert_judged_once(gh, repo, prs)
            # The interrupted job ran again (one run for its head all the same); the others ran once.
            assert gh.count("POST", r"/check-runs$") == 5
            assert gh.count("POST", r"/issues/\d+/comments$") == 5
            attempts = {
                int(str(pr)): int(str(n)) for pr, n in rows(url, "SELECT pr, attempts FROM jobs")
            }
            assert attempts == {pr.number: 2 if pr.number == held else 1 for pr in prs}
            # A redelivery to the restarted process does no work twice.
            again = second.deliver(deliveries[0])
            assert again.status_code == 200 and again.json()["status"] == "duplicate"
            recorded = rows(url, "SELECT id FROM deliveries")
            assert sorted(str(r[0]) for r in recorded) == sorted(d.delivery_id for d in deliveries)
            assert job_states(url) == {"done": 5}
        finally:
            first.stop()
            if second is not None:
                second.stop()
            proxy.close()
        assert app.webhook_secret not in first.log() + (second.log() if second else "")
