"""A process killed with SIGKILL mid-job loses nothing: another pool (a restart, or another
replica) completes the job, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgdb import fresh_database

from prgate.app.store import Job, JobKind, JobSpec, JobState, open_store
from prgate.app.worker import WorkerPool

#: A worker process whose job hangs after saying it started (until it is killed).
VICTIM = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from prgate.app.store import open_store
    from prgate.app.worker import WorkerPool

    url, marker = sys.argv[1], Path(sys.argv[2])

    def handle(job):
        marker.write_text(str(job.id))
        time.sleep(600)
        return "never"

    pool = WorkerPool(open_store(url), handle, lambda j, r: None, workers=1, lease=1.0)
    pool.start()
    time.sleep(600)
    """
)


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kill.db'}"
        return
    with fresh_database() as pg:
        yield pg


def test_a_job_whose_process_was_killed_completes_elsewhere_once(url: str, tmp_path: Path) -> None:
    store = open_store(url)
    try:
        job_id = store.enqueue(JobSpec(JobKind.EVALUATE, "o/r", 1, 1, "a"))
        marker = tmp_path / "started"
        victim = subprocess.Popen([sys.executable, "-c", VICTIM, url, str(marker)])
        try:
            deadline = time.monotonic() + 30
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert marker.exists(), "the victim process never started its job"
        finally:
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(10)
        held = store.job(job_id)
        assert held is not None and held.state is JobState.RUNNING and held.owner
        if url.startswith("sqlite"):
            assert store.recover() == 1  # the restart of the one process
        ran: list[Job] = []
        pool = WorkerPool(
            store, lambda job: ran.append(job) or "success", lambda j, r: None, lease=1.0
        )
        pool.start()
        try:
            deadline = time.monotonic() + 15  # the dead lease runs out within a second
            while time.monotonic() < deadline:
                done = store.job(job_id)
                if done is not None and done.state is JobState.DONE:
                    break
                time.sleep(0.05)
        finally:
            pool.drain(grace=5)
        done = store.job(job_id)
        assert done is not None and done.state is JobState.DONE
        assert [j.id for j in ran] == [job_id] and ran[0].attempts == 2
        assert ran[0].owner == pool.owner != held.owner
    finally:
        store.close()
