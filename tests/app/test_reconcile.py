"""The reconcilers: open pull requests whose head has no verdict, and failed webhook deliveries.

Against the fake GitHub: it lists installations, repositories, open pull requests and check runs,
keeps a log of the deliveries it "sent" (``GET /app/hook/deliveries``) and redelivers on
``POST /app/hook/deliveries/{id}/attempts``.
"""

from __future__ import annotations

import time
from dataclasses import replace

from appharness import RunningApp, World
from fakegithub.fake import FakeGitHub
from fakegithub.state import PullRequest
from waiting import wait_until

from prgate.app.reconcile import Budget, Reconciler
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import JobKind, JobSpec
from prgate.github.auth import AppAuth, AppCredentials
from prgate.github.http import ApiSettings

MARKER = "<!-- prgate:report -->"


def _reconciler(
    world: World,
    store: SQLiteStore,
    queued: list[JobSpec],
    *,
    owner: str = "test",
    budget: Budget | None = None,
) -> Reconciler:
    auth = AppAuth(
        AppCredentials(app_id=str(world.app.id), private_key=world.app.private_key_pem),
        ApiSettings(base_url=world.gh.base_url, timeout=5),
    )
    return Reconciler(
        auth,
        store,
        app_id=str(world.app.id),
        enqueue=queued.append,
        owner=owner,
        lock_ttl=60,
        budget=budget,
    )


def _judged(gh: FakeGitHub, world: World, pr: PullRequest) -> bool:
    runs = gh.check_runs(pr.repo, head_sha=gh.head_sha(pr))
    comments = gh.comments(pr.repo, pr.number)
    return bool(runs) and all(r.status == "completed" for r in runs) and len(comments) == 1


def test_heads_without_a_completed_check_run_are_queued_and_judged(world: World) -> None:
    gh, repo = world.gh, world.repo
    judged = gh.open_pull_request(repo, head="judged", files={"app/a.py": "a = 1\n"})
    with RunningApp(world.settings) as running:
        running.deliver(
            gh.webhook("pull_request", "opened", repo=repo, pr=judged, installation=world.inst)
        )
        running.wait_idle()
    missed = gh.open_pull_request(repo, head="missed", files={"app/b.py": "b = 1\n"})
    pushed = gh.push(repo, "judged", {"app/a.py": "a = 2\n"})  # a push whose webhook was lost
    other_repo = gh.create_repo("octo-org/gadgets", files={"x.py": ""}, installation=world.inst)
    elsewhere = gh.open_pull_request(other_repo, head="t", files={"x.py": "x = 1\n"})
    closed = gh.open_pull_request(repo, head="closed", files={"app/c.py": "c = 1\n"})
    gh.pull(repo, closed.number).state = "closed"  # type: ignore[union-attr]

    gh.clear_requests()
    settings = replace(world.settings, reconcile_interval=3600)  # one pass, at start
    with RunningApp(settings) as running:
        wait_until(
            lambda: all(_judged(gh, world, p) for p in (missed, judged)), "both heads are judged"
        )
        wait_until(lambda: _judged(gh, world, elsewhere), "the other repository's PR is judged")
        running.wait_idle()
        metrics = running.get("/metrics").text
    assert gh.head_sha(judged) == pushed
    assert not gh.check_runs(repo, head_sha=gh.head_sha(closed))
    assert 'prgate_reconciled_total{kind="heads"} 3.0' in metrics
    # The reconciler asked as the App, then with a metadata-only installation token.
    listing = [
        r for r in gh.requests if r.path in ("/app/installations", "/installation/repositories")
    ]
    assert [r.auth for r in listing] == ["jwt", "token"]
    tokens = [r for r in gh.requests if r.path.endswith("/access_tokens")]
    assert {"permissions": {"metadata": "read"}} in [r.body for r in tokens]
    assert not gh.schema_errors  # what the fake answered matches GitHub's description


def test_a_head_judged_already_costs_no_call_and_is_not_queued(world: World) -> None:
    gh, repo = world.gh, world.repo
    pr = gh.open_pull_request(repo, files={"app/a.py": "a = 1\n"})
    with RunningApp(world.settings) as running:
        running.deliver(
            gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        )
        running.wait_idle()
    store = SQLiteStore.from_url(world.settings.database_url)
    fresh = SQLiteStore(world.tmp / "other.db")  # a store that never saw the PR
    try:
        queued: list[JobSpec] = []
        gh.clear_requests()
        report = _reconciler(world, store, queued).missed_heads()
        assert (report.heads_checked, report.queued, report.stopped) == (1, 0, None)
        assert gh.count("GET", r"/check-runs$") == 0  # the store knew the verdict
        report = _reconciler(world, fresh, queued).missed_heads()
        assert (report.heads_checked, report.queued) == (1, 0)
        assert gh.count("GET", r"/commits/[0-9a-f]+/check-runs$") == 1  # GitHub knew it
        assert queued == []
        # A run left in progress long ago (its job was lost) is queued again.
        (run,) = gh.check_runs(repo)
        run.status, run.conclusion, run.started_at = "in_progress", None, "2020-01-01T00:00:00Z"
        _reconciler(world, fresh, queued).missed_heads()
        assert queued == [
            JobSpec(JobKind.EVALUATE, repo.full_name, world.inst.id, pr.number, gh.head_sha(pr))
        ]
    finally:
        store.close()
        fresh.close()


def test_a_pass_keeps_within_its_budget_and_the_rate_limit(world: World) -> None:
    gh, repo = world.gh, world.repo
    for i in range(3):
        gh.open_pull_request(repo, head=f"t{i}", files={f"app/m{i}.py": "x = 1\n"})
    store = SQLiteStore(world.tmp / "r.db")
    try:
        queued: list[JobSpec] = []
        report = _reconciler(world, store, queued, budget=Budget(max_calls=4)).missed_heads()
        assert report.calls == 4 and "budget of 4 API calls" in (report.stopped or "")
        assert len(queued) == 1  # installations, repositories, pulls, one head
        queued.clear()
        low = Budget(min_remaining=5000)  # the fake starts every window at 5000
        report = _reconciler(world, store, queued, budget=low).missed_heads()
        assert report.calls == 1 and "rate limit is low" in (report.stopped or "")
        assert queued == []
        report = _reconciler(world, store, queued).missed_heads()
        assert (report.queued, report.stopped) == (3, None)
    finally:
        store.close()


def test_a_pass_cut_short_is_continued_by_the_next_one(world: World) -> None:
    gh = world.gh
    other = gh.create_repo("octo-org/apps", files={"x.py": ""}, installation=world.inst)
    first_pr = gh.open_pull_request(other, files={"x.py": "x = 1\n"})
    second_pr = gh.open_pull_request(world.repo, files={"app/a.py": "a = 1\n"})
    store = SQLiteStore(world.tmp / "r.db")
    try:
        queued: list[JobSpec] = []
        # installations, repositories, then one repository's pulls and its one head: 4 calls
        small = Budget(max_calls=4)
        report = _reconciler(world, store, queued, budget=small).missed_heads()
        assert report.resume == "octo-org/widgets" and report.stopped
        assert [(q.repo, q.pr) for q in queued] == [("octo-org/apps", first_pr.number)]
        queued.clear()
        reconciler = _reconciler(world, store, queued, budget=small)
        reconciler.resume = report.resume
        report = reconciler.missed_heads()
        assert [(q.repo, q.pr) for q in queued] == [("octo-org/widgets", second_pr.number)]
        assert report.resume == "octo-org/apps"  # and round again
    finally:
        store.close()


def test_one_replica_at_a_time_runs_the_reconcilers(world: World) -> None:
    store = SQLiteStore(world.tmp / "r.db")
    try:
        queued: list[JobSpec] = []
        first = _reconciler(world, store, queued, owner="a").run_once()
        assert first is not None
        assert _reconciler(world, store, queued, owner="b").run_once() is None
        assert _reconciler(world, store, queued, owner="a").run_once() is not None
    finally:
        store.close()


def test_failed_deliveries_the_app_never_recorded_are_redelivered(world: World) -> None:
    gh, repo, app = world.gh, world.repo, world.app
    pr = gh.open_pull_request(repo, files={"app/a.py": "a = 1\n"})
    missed = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
    # Sent while nothing listened: GitHub records "failed to connect".
    assert gh.deliver(missed, "http://127.0.0.1:9/api/github/webhooks").status_code == 0
    settings = replace(world.settings, reconcile_interval=0)
    with RunningApp(settings) as running:
        url = f"{running.url}/api/github/webhooks"
        gh.set_webhook_url(app, url)
        ping = gh.webhook("ping", None, installation=world.inst)
        assert gh.deliver(ping, url).ok  # delivered: nothing to do
        retried = gh.webhook("ping", None, installation=world.inst)
        gh.record_delivery(retried, status_code=502)
        assert gh.deliver(retried, url).ok  # failed once, delivered later
        answered_late = gh.webhook("ping", None, installation=world.inst)
        assert gh.deliver(answered_late, url).ok
        gh.record_delivery(answered_late, status_code=0, status="timed out")  # prgate has it
        old = gh.webhook("ping", None, installation=world.inst)
        gh.record_delivery(old, status_code=503).delivered_at = time.time() - 4 * 86400
        hopeless = gh.webhook("ping", None, installation=world.inst)
        for _ in range(4):
            gh.record_delivery(hopeless, status_code=500)

        result = running.asgi.state.prgate.reconcile_once()
        assert result is not None
        _heads, deliveries = result
        assert deliveries.redelivered == 1 and deliveries.stopped is None
        gh.wait_redeliveries()
        again = [h for h in gh.hook_deliveries(app) if h.redelivery]
        assert [(h.guid, h.status_code) for h in again] == [(missed.delivery_id, 202)]
        assert running.store.has_delivery(missed.delivery_id)
        wait_until(lambda: _judged(gh, world, pr), "the redelivered PR is judged")
        running.wait_idle()
        # The next pass finds nothing left to ask for.
        result = running.asgi.state.prgate.reconcile_once()
        assert result is not None and result[1].redelivered == 0
        metrics = running.get("/metrics").text
    assert 'prgate_reconciled_total{kind="deliveries"} 1.0' in metrics
    assert not gh.schema_errors
    posts = [r.path for r in gh.requests if r.path.endswith("/attempts")]
    assert len(posts) == 1 and all(
        r.auth == "jwt" for r in gh.requests if r.path.endswith("/attempts")
    )


def test_deliveries_are_read_page_by_page_until_the_lookback(world: World) -> None:
    gh = world.gh
    for i in range(130):
        d = gh.webhook("ping", None, installation=world.inst)
        hook = gh.record_delivery(d, status_code=0)
        if i < 5:
            hook.delivered_at = time.time() - 4 * 86400  # the oldest five are too old
    store = SQLiteStore(world.tmp / "r.db")
    try:
        queued: list[JobSpec] = []
        reconciler = _reconciler(world, store, queued, budget=Budget(max_calls=200))
        gh.clear_requests()
        report = reconciler.failed_deliveries()
        assert report.redelivered == 125 and report.stopped is None
        pages = [r for r in gh.requests if r.path == "/app/hook/deliveries"]
        assert len(pages) == 2 and "cursor=" in pages[1].query
        gh.wait_redeliveries(timeout=30)
    finally:
        store.close()


def test_a_second_pr_on_a_judged_head_whose_delivery_was_missed_is_queued(world: World) -> None:
    gh, repo = world.gh, world.repo
    gh.push(repo, "weak", {".github/prgate.yml": "packs: []\n"})
    weak = gh.open_pull_request(repo, head="t", base="weak", files={"app/a.py": "import os\n"})
    with RunningApp(world.settings) as running:
        running.deliver(
            gh.webhook("pull_request", "opened", repo=repo, pr=weak, installation=world.inst)
        )
        running.wait_idle()
    (run,) = gh.check_runs(repo)
    assert run.conclusion == "success"  # by the weak base's rules
    strict = gh.open_pull_request(repo, head="t", base="main")  # its webhook never arrives
    settings = replace(world.settings, reconcile_interval=3600)  # one pass, at start
    with RunningApp(settings) as running:
        wait_until(
            lambda: any(r.pr == strict.number for r in running.store.runs()),
            "the PR into main is judged",
        )
        running.wait_idle()
    run = max(gh.check_runs(repo), key=lambda r: r.id)
    assert run.status == "completed" and run.conclusion == "failure", run.summary
    assert "| #2 | main |" in (run.summary or "")
