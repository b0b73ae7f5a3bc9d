"""The App's pieces on their own: signatures, routing of recorded payloads, the store, pages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from appharness import RunningApp, World

from prgate.app.events import route
from prgate.app.signature import sign, signature_ok
from prgate.app.sqlite_store import SQLiteStore, database_path
from prgate.app.store import Delivery, JobKind, JobSpec, JobState
from prgate.github.checks import fit

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "tests" / "fixtures" / "webhooks").glob("*.json"))


def test_signature_checks() -> None:
    body = b'{"a": 1}'
    good = sign(body, "s3cret")
    assert signature_ok(body, good, "s3cret")
    assert signature_ok(body, good.upper().replace("SHA256=", "sha256="), "s3cret")
    for header in (None, "", good[7:], "sha1=" + good[7:], "sha256=" + good[7:-1], "sha256=xyz"):
        assert not signature_ok(body, header, "s3cret"), header
    assert not signature_ok(body + b" ", good, "s3cret")
    assert not signature_ok(body, good, "")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_recorded_payload_routes_without_error(path: Path) -> None:
    payload = json.loads(path.read_text(encoding="utf-8"))
    event = path.stem.split(".")[0]
    app_id = str(
        ((payload.get("check_run") or payload.get("check_suite") or {}).get("app") or {}).get("id")
    )
    routed = route(event, payload, app_id=app_id)
    for job in routed.jobs:
        assert job.repo == payload["repository"]["full_name"] and job.pr > 0
    if event in ("installation", "installation_repositories"):
        assert routed.installation is not None
    if path.stem in ("pull_request.opened", "pull_request.synchronize") or event == (
        "pull_request_review"
    ):
        assert [j.kind for j in routed.jobs] == [JobKind.EVALUATE], routed.ignored
        assert routed.jobs[0].sha == payload["pull_request"]["head"]["sha"]
    if path.stem in ("pull_request.labeled", "pull_request.unlabeled"):
        assert not routed.jobs  # labels decide nothing any more
    if event == "merge_group":  # the group's head commit, judged or dropped
        assert [j.kind for j in routed.jobs] == [JobKind.MERGE_GROUP], routed.ignored
        assert routed.jobs[0].sha == payload["merge_group"]["head_sha"]


def test_comment_commands_are_parsed() -> None:
    base = {
        "action": "created",
        "installation": {"id": 1},
        "repository": {"full_name": "o/r"},
        "issue": {"number": 4, "pull_request": {"url": "x"}, "user": {"login": "bo"}},
        "sender": {"login": "ann", "type": "User"},
    }

    def jobs(body: str, **over: object) -> list[tuple[JobKind, dict[str, object]]]:
        payload = dict(base, comment={"body": body, "id": 77}, **over)
        return [(j.kind, dict(j.payload)) for j in route("issue_comment", payload, app_id="9").jobs]

    def entry(command: str, arg: str = "") -> list[tuple[JobKind, dict[str, object]]]:
        asked = {"command": command, "arg": arg, "by": "ann", "author": "bo"}
        return [(JobKind.COMMAND, {"comment:77": asked})]

    assert jobs("/prgate recheck") == entry("recheck")
    assert jobs("thanks!\n/prgate fix") == entry("fix")
    assert jobs("/prgate explain paths/forbidden") == entry("explain", "paths/forbidden")
    assert jobs("please run /prgate fix") == []
    assert jobs("```\n/prgate fix\n```") == []
    assert jobs("> /prgate fix") == []
    assert jobs("/prgate fix", sender={"login": "bot[bot]", "type": "Bot"}) == []
    assert jobs("/prgate fix", issue={"number": 4}) == []  # an issue, not a PR
    assert jobs("/prgate fix", action="edited") == []  # an edited comment does not run again
    payload = dict(base, comment={"body": "/prgate fix"})  # a comment without an id
    assert route("issue_comment", payload, app_id="9").jobs == ()


def test_store_coalesces_and_supersedes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    spec = JobSpec(JobKind.EVALUATE, "o/r", 1, 7, "aaa")
    first = store.enqueue(spec)
    assert store.enqueue(spec) == first
    newer = store.enqueue(JobSpec(JobKind.EVALUATE, "o/r", 7 - 6, 7, "bbb"))
    assert store.job(first).state is JobState.SUPERSEDED  # type: ignore[union-attr]
    other_pr = store.enqueue(JobSpec(JobKind.EVALUATE, "o/r", 1, 8, "ccc"))
    claimed = store.claim(now=time.time() + 1, owner="w", lease=60)
    assert claimed is not None and claimed.id == newer
    # The same PR is never worked on twice at once.
    store.enqueue(JobSpec(JobKind.FIX, "o/r", 1, 7, "bbb"))
    second = store.claim(now=time.time() + 1, owner="w", lease=60)
    assert second is not None and second.id == other_pr
    assert store.claim(now=time.time() + 1, owner="w", lease=60) is None
    assert store.recover() == 2
    d = Delivery("d-1", "ping", None, None, time.time())
    assert store.accept(d, []) is True and store.accept(d, []) is False
    assert database_path("sqlite:///prgate.db") == "prgate.db"
    assert database_path("sqlite:////var/lib/prgate.db") == "/var/lib/prgate.db"
    with pytest.raises(ValueError):
        database_path("postgresql://x")


def test_fit_cuts_on_a_line_boundary_with_a_note() -> None:
    text = "\n".join(f"line {i}" for i in range(20000))
    out = fit(text, 65_535)
    assert len(out.encode()) <= 65_535
    assert out.endswith("(cut for length)")
    assert out.split("\n")[-3].startswith("line ")
    assert fit("short", 10) == "short"


def test_health_ready_and_metrics(world: World, running: RunningApp) -> None:
    assert running.get("/healthz").status_code == 200
    ready = running.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"ready": True}
    pr = world.gh.open_pull_request(world.repo, files={"app/core.py": "import os\n"})
    running.deliver(
        world.gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    running.wait_idle()
    text = running.get("/metrics").text
    assert 'prgate_webhook_deliveries_total{event="pull_request",outcome="queued"} 1.0' in text
    assert 'prgate_conclusions_total{conclusion="failure"} 1.0' in text
    assert 'prgate_jobs{state="done"} 1.0' in text
    assert 'prgate_github_api_calls_total{method="POST",status="201"}' in text
    assert "prgate_evaluation_seconds_count 1.0" in text
    assert world.app.webhook_secret not in text


def test_readyz_fails_with_a_bad_key(world: World) -> None:
    from dataclasses import replace

    with RunningApp(replace(world.settings, private_key="not a key"), start_workers=False) as app:
        resp = app.get("/readyz")
    assert resp.status_code == 503
    assert "not a key" not in resp.text


def test_status_page_shows_counts_but_no_repository(world: World, running: RunningApp) -> None:
    from prgate.app.store import RunRecord

    running.store.record_run(
        RunRecord(
            repo="octo-org/secret-project",
            pr=7,
            sha="f" * 40,
            config_sha="c" * 40,
            conclusion="failure",
            counts={"paths/forbidden": 1},
            started_at=1.0,
            finished_at=2.0,
            api_calls=5,
        )
    )
    page = running.get("/")
    assert page.status_code == 200 and "Connected to GitHub" in page.text
    assert "failure: 1" in page.text
    assert "secret-project" not in page.text and "ffffffff" not in page.text


def test_a_worker_survives_a_store_that_fails_to_record_and_the_job_runs_again(
    tmp_path: Path,
) -> None:
    import threading

    from prgate.app.sqlite_store import SQLiteStore
    from prgate.app.store import Job, JobKind, JobSpec, JobState, StoreError
    from prgate.app.worker import WorkerPool

    class FlakyStore(SQLiteStore):
        failures = 1

        def finish(
            self, job_id: int, *, state: JobState, error: str | None = None, owner: str
        ) -> bool:
            if self.failures:
                self.failures -= 1
                raise StoreError("database is locked")
            return super().finish(job_id, state=state, error=error, owner=owner)

    store = FlakyStore(tmp_path / "flaky.db")
    store.enqueue(JobSpec(kind=JobKind.EVALUATE, repo="o/r", installation_id=1, pr=1, sha="a"))
    ran: list[int] = []
    done = threading.Event()

    def handle(job: Job) -> str:
        ran.append(job.id)
        if len(ran) == 2:
            done.set()
        return "ok"

    pool = WorkerPool(store, handle, lambda _j, _r: None, workers=1, backoff=lambda _a: 0.0)
    pool.start()
    try:
        assert done.wait(10), "the job did not run again after the store failed"
        for _ in range(100):
            if store.jobs()[0].state is JobState.DONE:
                break
            threading.Event().wait(0.05)
    finally:
        pool.stop()
    assert len(ran) == 2
    assert store.jobs()[0].state is JobState.DONE
