"""One contract for every store: each test runs on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pgdb import fresh_database

from prgate.app.store import (
    CheckRunEntry,
    Delivery,
    FixCommit,
    JobKind,
    JobSpec,
    JobState,
    RunRecord,
    Store,
    StoreError,
    open_store,
)
from prgate.coordination import MAX_RECORDED_PATHS
from prgate.llm.budget import Spend, SpendLimits, SpendTotals

T0 = 1_800_000_000.0  # a fixed "now" for the tests (epoch seconds)


@dataclass
class Backend:
    name: str
    url: str
    opened: list[Store] = field(default_factory=list)

    def open(self, **kw: object) -> Store:
        store = open_store(self.url, **kw)
        self.opened.append(store)
        return store


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        b = Backend("sqlite", f"sqlite:///{tmp_path / 'prgate.db'}")
        yield b
        for s in b.opened:
            s.close()
        return
    with fresh_database() as url:
        b = Backend("postgres", url)
        try:
            yield b
        finally:
            for s in b.opened:
                s.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()


def ev(pr: int, sha: str, repo: str = "o/r", **payload: object) -> JobSpec:
    return JobSpec(JobKind.EVALUATE, repo, 1, pr, sha, payload)


def delivery(i: str, event: str = "pull_request") -> Delivery:
    return Delivery(i, event, "opened", 1, T0)


# --- deliveries ------------------------------------------------------------------------------


def test_a_delivery_is_recorded_once_with_its_jobs(store: Store) -> None:
    assert store.accept(delivery("d-1"), [ev(1, "a"), ev(2, "b")]) is True
    assert store.has_delivery("d-1") and not store.has_delivery("d-2")
    assert store.accept(delivery("d-1"), [ev(3, "c")]) is False  # a redelivery adds nothing
    assert [(j.pr, j.sha, j.state) for j in store.jobs()] == [
        (1, "a", JobState.QUEUED),
        (2, "b", JobState.QUEUED),
    ]
    assert store.delivery_count() == 1 and store.queue_depth() == 2
    assert store.accept(delivery("d-2", "ping"), []) is True
    assert store.delivery_count() == 2 and store.queue_depth() == 2


def _state(store: Store) -> list[tuple[str, int, str, JobState, dict[str, object]]]:
    return [(j.kind.value, j.pr, j.sha, j.state, dict(j.payload)) for j in store.jobs()]


@pytest.mark.parametrize("group", [True, False], ids=["accept_many", "accept"])
def test_a_batch_records_what_accept_one_by_one_records(store: Store, group: bool) -> None:
    store.enqueue(ev(1, "old"))
    store.enqueue(ev(2, "same", first=True))
    assert store.accept(delivery("seen"), [ev(9, "x")]) is True
    batch: list[tuple[Delivery, list[JobSpec]]] = [
        (delivery("a"), [ev(1, "new")]),  # supersedes the older head of PR 1
        (delivery("seen"), [ev(10, "never")]),  # already recorded: adds nothing
        (delivery("b"), [ev(2, "same", second=True)]),  # coalesces with the queued job
        (delivery("c", "ping"), []),
        (delivery("a"), [ev(11, "never")]),  # the same delivery twice in one batch
        (delivery("d"), [ev(3, "p3"), ev(4, "p4")]),
    ]
    fresh = store.accept_many(batch) if group else [store.accept(d, jobs) for d, jobs in batch]
    assert fresh == [True, False, True, True, False, True]
    assert store.delivery_count() == 5
    assert not store.has_delivery("never")
    assert _state(store) == [
        ("evaluate", 1, "old", JobState.SUPERSEDED, {}),
        ("evaluate", 2, "same", JobState.QUEUED, {"first": True, "second": True}),
        ("evaluate", 9, "x", JobState.QUEUED, {}),
        ("evaluate", 1, "new", JobState.QUEUED, {}),
        ("evaluate", 3, "p3", JobState.QUEUED, {}),
        ("evaluate", 4, "p4", JobState.QUEUED, {}),
    ]


def test_a_batch_with_several_heads_of_one_pr_and_other_kinds_keeps_the_order(
    store: Store,
) -> None:
    fix = JobSpec(JobKind.FIX, "o/r", 1, 5, "h2", {"requested_by": "ann"})
    explain = JobSpec(JobKind.EXPLAIN, "o/r", 1, 5, "", {"rule": "r"})
    fresh = store.accept_many(
        [
            (delivery("1"), [ev(5, "h1")]),
            (delivery("2"), [ev(5, "h2"), fix]),
            (delivery("3"), [explain, ev(5, "h2", again=True)]),
        ]
    )
    assert fresh == [True, True, True]
    assert _state(store) == [
        ("evaluate", 5, "h1", JobState.SUPERSEDED, {}),
        ("evaluate", 5, "h2", JobState.QUEUED, {"again": True}),
        ("fix", 5, "h2", JobState.QUEUED, {"requested_by": "ann"}),
        ("explain", 5, "", JobState.QUEUED, {"rule": "r"}),
    ]
    assert store.accept_many([]) == []


def test_a_batch_the_store_refuses_records_nothing_of_it(store: Store) -> None:
    too_big = 2**70  # no database integer holds it
    with pytest.raises((StoreError, OverflowError)):
        store.accept_many([(delivery("ok"), [ev(1, "a")]), (delivery("bad"), [ev(too_big, "b")])])
    assert store.delivery_count() == 0 and store.jobs() == []
    assert store.accept_many([(delivery("ok"), [ev(1, "a")])]) == [True]  # still usable
    assert store.queue_depth() == 1


def test_installations_are_kept_by_id(store: Store) -> None:
    store.record_installation(7, account="acme", action="created", repos=["acme/a"])
    store.record_installation(3, account="zed", action="created", repos=[])
    store.record_installation(7, account="acme", action="deleted", repos=[])
    assert store.installations() == [(3, "zed", "created"), (7, "acme", "deleted")]


# --- queueing ---------------------------------------------------------------------------------


def test_requests_for_the_same_commit_coalesce_and_a_newer_head_supersedes(store: Store) -> None:
    first = store.enqueue(ev(7, "aaa", force=True))
    assert store.enqueue(ev(7, "aaa", check_run_id=5)) == first
    job = store.job(first)
    assert job is not None and dict(job.payload) == {"force": True, "check_run_id": 5}
    fix = store.enqueue(JobSpec(JobKind.FIX, "o/r", 1, 7, "aaa", {"requested_by": "ann"}))
    assert fix != first  # another kind is another job
    q1 = store.enqueue(JobSpec(JobKind.EXPLAIN, "o/r", 1, 7, "", {"rule": "a"}))
    q2 = store.enqueue(JobSpec(JobKind.EXPLAIN, "o/r", 1, 7, "", {"rule": "b"}))
    assert q1 != q2  # every question gets its answer
    other_pr = store.enqueue(ev(8, "aaa"))
    newer = store.enqueue(ev(7, "bbb"))
    states = {j.id: j.state for j in store.jobs()}
    assert states[first] is JobState.SUPERSEDED
    assert states[newer] is JobState.QUEUED and states[other_pr] is JobState.QUEUED
    assert states[fix] is JobState.QUEUED  # a fix is not an evaluation
    assert store.queue_depth() == 5
    assert store.counts()["superseded"] == 1 and store.counts()["queued"] == 5


def test_backtests_coalesce_per_head_and_wait_for_the_pull_requests_other_jobs(
    store: Store,
) -> None:
    def bt(sha: str) -> JobSpec:
        return JobSpec(JobKind.BACKTEST, "o/r", 1, 7, sha)

    evaluation = store.enqueue(ev(7, "aaa"))
    first = store.enqueue(bt("aaa"))
    assert store.enqueue(bt("aaa")) == first and first != evaluation
    newer = store.enqueue(bt("bbb"))
    assert newer != first  # a job of another head (it finds the PR moved on, and stops)
    job = store.job(first)
    assert job is not None and job.kind is JobKind.BACKTEST
    claimed = store.claim(now=time.time() + 1, owner="w", lease=60)
    assert claimed is not None and claimed.id == evaluation
    assert store.claim(now=time.time() + 1, owner="w", lease=60) is None  # one job per PR


def test_a_running_evaluation_is_not_superseded_and_a_new_request_queues_behind_it(
    store: Store,
) -> None:
    running = store.enqueue(ev(1, "a"))
    assert store.claim(now=T0 + 1, owner="w", lease=60) is not None
    again = store.enqueue(ev(1, "a"))
    assert again != running  # the running job cannot absorb it: it may have read the PR already
    store.enqueue(ev(1, "b"))
    assert store.job(running).state is JobState.RUNNING  # type: ignore[union-attr]
    assert store.job(again).state is JobState.SUPERSEDED  # type: ignore[union-attr]


def test_claims_take_the_oldest_due_job_and_one_job_per_pr(store: Store) -> None:
    a = store.enqueue(ev(1, "a"))
    b = store.enqueue(ev(2, "b"))
    fix_a = store.enqueue(JobSpec(JobKind.FIX, "o/r", 1, 1, "a"))
    c = store.enqueue(ev(3, "c"))
    now = time.time() + 1
    first = store.claim(now=now, owner="w1", lease=60)
    assert first is not None and first.id == a and first.attempts == 1
    assert first.state is JobState.RUNNING and first.owner == "w1"
    assert first.lease_until == pytest.approx(now + 60)
    second = store.claim(now=now, owner="w2", lease=60)
    assert second is not None and second.id == b  # the fix of PR 1 waits for PR 1's job
    third = store.claim(now=now, owner="w1", lease=60)
    assert third is not None and third.id == c
    assert store.claim(now=now, owner="w3", lease=60) is None
    assert store.finish(a, state=JobState.DONE, owner="w1") is True
    fourth = store.claim(now=now, owner="w3", lease=60)
    assert fourth is not None and fourth.id == fix_a and fourth.kind is JobKind.FIX
    assert store.counts()["running"] == 3 and store.counts()["done"] == 1


def test_one_evaluation_of_a_commit_runs_at_a_time_whatever_its_pr(store: Store) -> None:
    a = store.enqueue(ev(1, "same"))
    b = store.enqueue(ev(2, "same"))  # another PR with the same head
    c = store.enqueue(ev(3, "other"))
    blind = store.enqueue(ev(4, ""))  # a recheck: its head is read when it runs
    fix_b = store.enqueue(JobSpec(JobKind.FIX, "o/r", 1, 5, "same"))
    elsewhere = store.enqueue(ev(1, "same", repo="o/s"))
    now = time.time() + 1
    claimed = [store.claim(now=now, owner="w", lease=60) for _ in range(6)]
    ids = [j.id for j in claimed if j is not None]
    assert ids == [a, c, blind, fix_b, elsewhere]  # b waits for a: the same commit
    assert store.finish(a, state=JobState.DONE, owner="w") is True
    later = store.claim(now=now, owner="w", lease=60)
    assert later is not None and later.id == b


def test_a_job_is_not_claimed_before_it_is_due(store: Store) -> None:
    job = store.enqueue(ev(1, "a"))
    now = time.time() + 1
    claimed = store.claim(now=now, owner="w", lease=60)
    assert claimed is not None
    assert store.defer(job, run_at=now + 100, error="rate limit", rate_limited=True, owner="w")
    assert store.next_due() == pytest.approx(now + 100)
    assert store.claim(now=now + 99, owner="w", lease=60) is None
    again = store.claim(now=now + 100, owner="w", lease=60)
    assert again is not None and again.id == job
    assert again.attempts == 1 and again.deferrals == 1  # a rate limit is not an attempt
    assert again.last_error == "rate limit"
    assert store.defer(job, run_at=now + 101, error="502", rate_limited=False, owner="w")
    third = store.claim(now=now + 101, owner="w", lease=60)
    assert third is not None and third.attempts == 2 and third.deferrals == 1


# --- leases -----------------------------------------------------------------------------------


def test_a_dead_workers_job_is_taken_over_when_its_lease_runs_out(store: Store) -> None:
    job = store.enqueue(ev(1, "a"))
    queued_behind = store.enqueue(JobSpec(JobKind.FIX, "o/r", 1, 1, "a"))
    dead = store.claim(now=T0, owner="dead", lease=30)
    assert dead is not None and dead.id == job
    assert store.claim(now=T0 + 29, owner="alive", lease=30) is None  # still the dead one's
    taken = store.claim(now=T0 + 31, owner="alive", lease=30)
    # The expired job comes back first; the PR's other job still waits for it.
    assert taken is not None and taken.id == job and taken.owner == "alive"
    assert taken.attempts == 2 and taken.lease_until == pytest.approx(T0 + 61)
    assert store.claim(now=T0 + 31, owner="third", lease=30) is None
    assert store.owns(job, owner="alive", now=T0 + 32)
    assert not store.owns(job, owner="dead", now=T0 + 32)
    # The old owner, if it wakes up, can change nothing.
    assert store.heartbeat(job, owner="dead", until=T0 + 100) is False
    assert store.finish(job, state=JobState.DONE, owner="dead") is False
    assert store.defer(job, run_at=T0, error="x", rate_limited=False, owner="dead") is False
    assert store.release(job, owner="dead") is False
    current = store.job(job)
    assert current is not None and current.state is JobState.RUNNING and current.owner == "alive"
    assert store.finish(job, state=JobState.DONE, owner="alive") is True
    nxt = store.claim(now=T0 + 32, owner="third", lease=30)
    assert nxt is not None and nxt.id == queued_behind


def test_a_heartbeat_keeps_the_job_and_ownership_ends_with_the_lease(store: Store) -> None:
    job = store.enqueue(ev(1, "a"))
    assert store.claim(now=T0, owner="w", lease=10) is not None
    assert store.heartbeat(job, owner="w", until=T0 + 50) is True
    assert store.claim(now=T0 + 40, owner="other", lease=10) is None
    assert store.owns(job, owner="w", now=T0 + 49)
    assert not store.owns(job, owner="w", now=T0 + 51)  # lapsed: no longer safe to publish
    assert not store.owns(job, owner="other", now=T0 + 49)
    taken = store.claim(now=T0 + 51, owner="other", lease=10)
    assert taken is not None and taken.owner == "other"


def test_release_puts_the_job_back_without_counting_the_attempt(store: Store) -> None:
    job = store.enqueue(ev(1, "a"))
    assert store.claim(now=T0, owner="w", lease=60) is not None
    assert store.release(job, owner="w") is True
    back = store.job(job)
    assert back is not None and back.state is JobState.QUEUED
    assert back.attempts == 0 and back.owner is None and back.lease_until is None
    assert store.release(job, owner="w") is False  # no longer running, no longer its own
    assert store.finish(job, state=JobState.DONE, owner="w") is False
    again = store.claim(now=T0, owner="w2", lease=60)
    assert again is not None and again.id == job and again.attempts == 1


def test_a_job_put_back_while_the_same_request_is_queued_folds_into_it(store: Store) -> None:
    job = store.enqueue(ev(1, "a", force=True))
    assert store.claim(now=T0, owner="w", lease=60) is not None
    twin = store.enqueue(ev(1, "a", check_run_id=9))
    assert twin != job
    assert store.defer(job, run_at=T0 + 50, error="502", rate_limited=False, owner="w")
    states = {j.id: j for j in store.jobs()}
    assert states[job].state is JobState.SUPERSEDED
    assert states[twin].state is JobState.QUEUED
    assert dict(states[twin].payload) == {"force": True, "check_run_id": 9}
    assert store.next_due() == pytest.approx(T0 + 50)
    assert store.queue_depth() == 1


def test_recover_requeues_on_sqlite_and_leaves_live_jobs_alone_on_postgres(
    backend: Backend, store: Store
) -> None:
    job = store.enqueue(ev(1, "a"))
    assert store.claim(now=time.time(), owner="w", lease=600) is not None
    if backend.name == "sqlite":  # one process: anything running was left by a dead one
        assert store.recover() == 1
        assert store.job(job).state is JobState.QUEUED  # type: ignore[union-attr]
    else:  # other replicas may be running it: only the lease decides
        assert store.recover() == 0
        assert store.job(job).state is JobState.RUNNING  # type: ignore[union-attr]


def test_a_named_lock_has_one_holder_until_it_lapses(store: Store) -> None:
    assert store.try_lock("reconcile", owner="a", ttl=30, now=T0)
    assert not store.try_lock("reconcile", owner="b", ttl=30, now=T0 + 10)
    assert store.try_lock("other", owner="b", ttl=30, now=T0 + 10)  # names are separate
    assert store.try_lock("reconcile", owner="a", ttl=30, now=T0 + 20)  # renewed to T0 + 50
    assert not store.try_lock("reconcile", owner="b", ttl=30, now=T0 + 40)
    assert store.try_lock("reconcile", owner="b", ttl=30, now=T0 + 51)
    assert not store.try_lock("reconcile", owner="a", ttl=30, now=T0 + 52)


# --- many workers -----------------------------------------------------------------------------


def _claim_all(
    store: Store, owner: str, out: list[tuple[int, str]], overlap: Callable[[int, int], None]
) -> None:
    idle = 0
    while idle < 3:
        job = store.claim(now=time.time(), owner=owner, lease=60)
        if job is None:
            idle += 1
            time.sleep(0.005)
            continue
        idle = 0
        overlap(job.pr, +1)
        out.append((job.id, owner))
        overlap(job.pr, -1)
        assert store.finish(job.id, state=JobState.DONE, owner=owner)


def test_concurrent_claims_never_hand_one_job_to_two_workers(backend: Backend) -> None:
    stores = [backend.open(pool_size=4) for _ in range(2)]  # two "replicas"
    stores[0].accept(delivery("d"), [ev(pr, f"s{pr}-{n}") for pr in range(12) for n in range(1)])
    for pr in range(12):
        stores[1].enqueue(JobSpec(JobKind.FIX, "o/r", 1, pr, f"s{pr}-0"))
        stores[1].enqueue(JobSpec(JobKind.EXPLAIN, "o/r", 1, pr, ""))
    total = len(stores[0].jobs())
    assert total == 36
    claimed: list[tuple[int, str]] = []
    running: dict[int, int] = {}
    doubled: list[int] = []
    lock = threading.Lock()

    def overlap(pr: int, step: int) -> None:
        with lock:
            running[pr] = running.get(pr, 0) + step
            if running[pr] > 1:
                doubled.append(pr)

    threads = [
        threading.Thread(target=_claim_all, args=(stores[i % 2], f"w{i}", claimed, overlap))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [i for i, _ in claimed]
    assert sorted(ids) == sorted({j.id for j in stores[0].jobs()})  # each job exactly once
    assert doubled == []  # never two jobs of one PR at once
    assert stores[0].counts()["done"] == total


def _claimer_process(url: str, owner: str, n: int, q: object, start: object) -> None:
    store = open_store(url, pool_size=2)
    start.wait(30)  # type: ignore[attr-defined]  # both processes claim at the same moment
    got: list[int] = []
    misses = 0
    while misses < 20 and len(got) < n:
        job = store.claim(now=time.time(), owner=owner, lease=600)
        if job is None:
            misses += 1
            time.sleep(0.01)
            continue
        got.append(job.id)  # held, never finished: nobody else may take it
    store.close()
    q.put(got)  # type: ignore[attr-defined]


def test_two_processes_claiming_from_postgres_never_share_a_job() -> None:
    import multiprocessing

    with fresh_database() as url:
        store = open_store(url)
        try:
            for pr in range(40):
                store.enqueue(ev(pr, f"a{pr}"))  # 40 heads (one head is judged at a time)
            ctx = multiprocessing.get_context("spawn")
            q = ctx.Queue()
            start = ctx.Barrier(2)
            procs = [
                ctx.Process(target=_claimer_process, args=(url, f"p{i}", 40, q, start))
                for i in range(2)
            ]
            for p in procs:
                p.start()
            results = [q.get(timeout=60) for _ in procs]
            for p in procs:
                p.join(30)
            assert len(results[0]) + len(results[1]) == 40
            assert set(results[0]).isdisjoint(results[1])
            assert results[0] and results[1], "both processes should have got work"
            owners = {j.owner for j in store.jobs()}
            assert owners == {"p0", "p1"} and store.counts()["running"] == 40
        finally:
            store.close()


# --- what the App keeps -----------------------------------------------------------------------


def test_github_ids_runs_and_the_ai_cache(store: Store) -> None:
    assert store.check_run_id("o/r", "a") is None
    store.save_check_run("o/r", "a", 11)
    store.save_check_run("o/r", "a", 12)
    assert store.check_run_id("o/r", "a") == 12
    assert store.check_run("o/r", "a") == CheckRunEntry("a", 12)  # a run made before the ledger
    assert store.check_run("o/r", "zz") is None


def test_a_handled_comment_stays_handled_across_reopening_and_pruning(
    backend: Backend,
) -> None:
    now = [T0]
    store = backend.open(clock=lambda: now[0])
    assert not store.command_handled(41)
    store.record_command("o/r", 41)
    store.record_command("o/r", 41)  # again: no error, still one record
    assert store.command_handled(41) and not store.command_handled(42)
    now[0] = T0 + 400 * 86400.0
    store.prune(before=now[0], runs_before=now[0])
    store.close()
    again = backend.open()
    assert again.command_handled(41)


def test_two_comments_commands_queued_together_keep_both_entries(store: Store) -> None:
    first = {"comment:1": {"command": "fix", "by": "a"}}
    second = {"comment:2": {"command": "explain", "by": "b"}}
    one = store.enqueue(JobSpec(JobKind.COMMAND, "o/r", 1, 5, "", first))
    two = store.enqueue(JobSpec(JobKind.COMMAND, "o/r", 1, 5, "", second))
    assert one == two
    job = store.job(one)
    assert job is not None and dict(job.payload) == {**first, **second}


def test_the_run_ledger_keeps_each_runs_pr_state_and_inputs(store: Store) -> None:
    store.save_check_run("o/r", "h1", 0, pr=4, in_progress=True)  # being created
    store.save_check_run("o/r", "h1", 21)  # the create answered: the rest is kept
    assert store.check_run("o/r", "h1") == CheckRunEntry("h1", 21, 4, True, "")
    store.save_check_run("o/r", "h2", 22, pr=4, in_progress=True)
    store.save_check_run("o/r", "h3", 23, pr=5, in_progress=True)
    store.save_check_run("o/s", "h4", 24, pr=4, in_progress=True)  # another repository
    assert [e.sha for e in store.check_runs_in_progress("o/r", 4)] == ["h1", "h2"]
    store.save_check_run("o/r", "h2", 22, in_progress=False, inputs="d1")
    assert store.check_run("o/r", "h2") == CheckRunEntry("h2", 22, 4, False, "d1")
    assert [e.run_id for e in store.check_runs_in_progress("o/r", 4)] == [21]
    store.save_check_run("o/r", "h2", 25, pr=6)  # replaced by a new run: inputs kept
    assert store.check_run("o/r", "h2") == CheckRunEntry("h2", 25, 6, False, "d1")
    store.save_check_run("o/r", "h2", 25, inputs="")
    entry = store.check_run("o/r", "h2")
    assert entry is not None and entry.inputs == "" and store.check_run_id("o/r", "h2") == 25
    store.save_comment("o/r", 3, 99)
    assert store.comment_id("o/r", 3) == 99 and store.comment_id("o/r", 4) is None
    store.save_fix_commit("o/r", 3, commit="f1", parent="a")
    assert store.is_fix_commit("o/r", "f1") and not store.is_fix_commit("o/r", "a")

    def run(pr: int, conclusion: str, **llm: float) -> RunRecord:
        return RunRecord(
            repo="o/r",
            pr=pr,
            sha="a",
            config_sha="c",
            conclusion=conclusion,
            counts={"style/ruff-lint": 2},
            started_at=T0,
            finished_at=T0 + 1.5,
            timings={"fetch": 0.25},
            api_calls=4,
            reason=None,
            llm=llm,
        )

    store.record_run(run(3, "failure"))
    store.record_run(run(3, "success", requests=2.0, usd=0.01))
    store.record_run(RunRecord("x/y", 1, "b", "", "failure", {}, T0, T0, reason="bad config"))
    last = store.last_run("o/r", 3)
    assert last == run(3, "success", requests=2.0, usd=0.01)
    assert [r.conclusion for r in store.runs(repo="o/r")] == ["success", "failure"]
    assert [r.repo for r in store.runs(limit=2)] == ["x/y", "o/r"]
    assert store.runs(repo="x/y")[0].reason == "bad config"
    assert store.last_run("o/r", 4) is None

    assert store.llm_cache_get("k") is None
    store.llm_cache_put("k", '{"findings": []}')
    store.llm_cache_put("k", '{"findings": [1]}')
    assert store.llm_cache_get("k") == '{"findings": [1]}'


def test_runs_keep_what_insights_read_and_come_back_by_window_oldest_first(
    backend: Backend,
) -> None:
    now = [T0]
    store = backend.open(clock=lambda: now[0])

    def run(repo: str, pr: int, sha: str, at: float, **kw: Any) -> RunRecord:
        return RunRecord(repo, pr, sha, "c", "failure", {"a/b": 2}, T0 + at - 1, T0 + at, **kw)

    kept = run("o/r", 1, "h1", 10, blocking={"a/b": 2}, awaiting_approval={"paths/protected": 1})
    store.record_run(run("o/r", 1, "h0", 0))  # before the window
    store.record_run(kept)
    store.record_run(run("x/y", 2, "h2", 20))
    store.record_run(run("o/r", 1, "h3", 30))
    assert store.last_run("x/y", 2) == run("x/y", 2, "h2", 20)  # nothing blocking: empty maps
    assert store.runs_since(T0 + 10) == [kept, run("x/y", 2, "h2", 20), run("o/r", 1, "h3", 30)]
    assert [r.sha for r in store.runs_since(T0 + 10, repo="o/r")] == ["h1", "h3"]
    # At most the newest ``limit`` of the window, still oldest first.
    assert [r.sha for r in store.runs_since(T0, limit=2)] == ["h2", "h3"]
    assert store.runs_since(T0 + 31) == []

    assert store.fix_commits() == []
    store.save_fix_commit("x/y", 2, commit="f2", parent="h2")
    now[0] = T0 + 5
    store.save_fix_commit("o/r", 1, commit="f1", parent="h1")
    assert store.fix_commits() == [
        FixCommit("x/y", 2, "f2", "h2", T0),
        FixCommit("o/r", 1, "f1", "h1", T0 + 5),
    ]
    assert store.fix_commits(repo="o/r") == [FixCommit("o/r", 1, "f1", "h1", T0 + 5)]


def test_the_prs_seen_with_a_head_come_from_requests_and_runs(store: Store) -> None:
    store.enqueue(ev(7, "aaa"))  # asked for, not judged yet
    store.enqueue(JobSpec(JobKind.FIX, "o/r", 1, 9, "aaa", {"requested_by": "ann"}))
    store.enqueue(ev(8, "bbb"))
    store.enqueue(JobSpec(JobKind.EVALUATE, "o/other", 1, 5, "aaa"))
    store.record_run(
        RunRecord(
            repo="o/r",
            pr=3,
            sha="aaa",
            config_sha="c",
            conclusion="success",
            counts={},
            started_at=T0,
            finished_at=T0 + 1,
        )
    )
    # A fix job is no request to judge; another repository's PRs are its own.
    assert store.prs_seen_at("o/r", "aaa") == [3, 7]
    assert store.prs_seen_at("o/r", "bbb") == [8]
    assert store.prs_seen_at("o/r", "ccc") == []


def test_prune_deletes_old_finished_records_in_batches_and_keeps_the_rest(
    backend: Backend,
) -> None:
    now = [T0]
    store = backend.open(clock=lambda: now[0])
    day = 86400.0
    # Day 0: three deliveries; one job done, one superseded, one left running; an AI answer.
    store.accept(delivery("old-1"), [ev(1, "a")])
    store.accept(delivery("old-2"), [ev(2, "b")])
    store.accept(delivery("old-3"), [ev(2, "c")])  # supersedes 2/b
    done = store.claim(now=now[0], owner="w", lease=60)
    assert done is not None and done.pr == 1
    store.finish(done.id, state=JobState.DONE, owner="w")
    running = store.claim(now=now[0], owner="w", lease=10 * 86400 * 100)
    assert running is not None and (running.pr, running.sha) == (2, "c")
    store.llm_cache_put("old", "{}")
    store.record_run(RunRecord("o/r", 1, "a", "", "success", {}, T0, T0))
    store.save_check_run("o/r", "a", 7)
    store.save_comment("o/r", 1, 8)
    store.save_fix_commit("o/r", 1, commit="f", parent="a")
    # Day 40: a new delivery, a queued job, a new AI answer, a new run.
    now[0] = T0 + 40 * day
    store.accept(Delivery("new", "pull_request", "opened", 1, now[0]), [ev(3, "d")])
    store.llm_cache_put("new", "{}")
    store.record_run(RunRecord("o/r", 3, "d", "", "failure", {}, now[0], now[0]))

    # One row of each kind per statement: the three old deliveries take three rounds.
    gone = store.prune(before=now[0] - 30 * day, runs_before=now[0] - 180 * day, limit=1)
    assert gone == 3  # a delivery, a finished job, the old AI answer; runs are kept longer
    assert store.delivery_count() == 3
    assert store.prune(before=now[0] - 30 * day, runs_before=now[0] - 30 * day) == 4
    assert store.prune(before=now[0] - 30 * day, runs_before=now[0] - 30 * day) == 0
    assert store.has_delivery("new") and store.delivery_count() == 1
    left = {(j.pr, j.sha): j.state for j in store.jobs()}
    assert left == {(2, "c"): JobState.RUNNING, (3, "d"): JobState.QUEUED}
    assert store.llm_cache_get("old") is None and store.llm_cache_get("new") == "{}"
    assert [r.pr for r in store.runs()] == [3]
    # GitHub's ids and the fix-commit loop guard stay.
    assert store.check_run_id("o/r", "a") == 7 and store.comment_id("o/r", 1) == 8
    assert store.is_fix_commit("o/r", "f")


def test_ping_answers_and_a_closed_store_says_so(backend: Backend) -> None:
    store = open_store(backend.url)
    store.ping()
    store.close()
    with pytest.raises((StoreError, Exception)):
        store.ping()


# --- the AI reviewer's spending ---------------------------------------------------------------

DAY = "2027-01-15"


def test_ai_spending_adds_up_per_pr_and_per_installation_day_within_limits(store: Store) -> None:
    limits = SpendLimits(pr_input_tokens=10_000, pr_usd=1.0, day_usd=1.5)
    one = Spend(1_000, 100, 0.6, 1)

    def add(pr: int, *, spend: Spend = one, inst: int = 1, day: str = DAY, **kw: Any) -> bool:
        return store.llm_add_spend(
            installation_id=inst,
            repo=kw.get("repo", "o/r"),
            pr=pr,
            day=day,
            spend=spend,
            limits=kw.get("limits", limits),
        )

    assert store.llm_spending(installation_id=1, repo="o/r", pr=1, day=DAY) == SpendTotals(
        Spend(), Spend()
    )
    assert add(1)
    assert not add(1)  # the PR's second $0.60 would pass its $1.00: nothing is added
    assert add(2)  # another PR of the installation: $1.20 of the day's $1.50
    assert not add(3)  # $1.80 would pass the day's limit
    assert add(3, day="2027-01-16") and add(1, inst=2, repo="x/y")  # another day, installation
    # A correction (what was used instead of the estimate) is always recorded.
    assert add(1, spend=Spend(-500, 0, -0.2, 0), limits=None)

    totals = store.llm_spending(installation_id=1, repo="o/r", pr=1, day=DAY)
    assert (totals.pr.input_tokens, totals.pr.output_tokens, totals.pr.requests) == (500, 100, 1)
    assert totals.pr.usd == pytest.approx(0.4)
    assert totals.day.requests == 2 and totals.day.usd == pytest.approx(1.0)
    later = store.llm_spending(installation_id=1, repo="o/r", pr=3, day="2027-01-16")
    assert later.day.usd == pytest.approx(0.6) and later.pr.requests == 1


def test_concurrent_spending_of_one_installation_never_passes_its_day(backend: Backend) -> None:
    # Four replicas (own connections) spend $0.10 at a time for different pull requests of one
    # installation with $1.00 a day: exactly ten requests fit, whatever the interleaving.
    stores = [backend.open() for _ in range(4)]
    limits = SpendLimits(pr_input_tokens=10**9, pr_usd=100.0, day_usd=1.0)
    answers: list[bool] = []
    lock = threading.Lock()

    def spend(i: int, store: Store) -> None:
        for k in range(5):
            ok = store.llm_add_spend(
                installation_id=7,
                repo="o/r",
                pr=100 * i + k,
                day=DAY,
                spend=Spend(10, 10, 0.1, 1),
                limits=limits,
            )
            with lock:
                answers.append(ok)

    threads = [threading.Thread(target=spend, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(answers) == 20 and answers.count(True) == 10
    totals = stores[0].llm_spending(installation_id=7, repo="o/r", pr=0, day=DAY)
    assert totals.day.requests == 10 and totals.day.usd == pytest.approx(1.0)


def test_old_ai_spending_is_pruned(backend: Backend) -> None:
    now = [T0]
    store = backend.open(clock=lambda: now[0])
    store.llm_add_spend(
        installation_id=1, repo="o/r", pr=1, day=DAY, spend=Spend(1, 1, 0.5, 1), limits=None
    )
    now[0] = T0 + 40 * 86400
    # Days go with the other records (30 days); a PR's total with the run records (180 days).
    assert store.prune(before=now[0] - 30 * 86400, runs_before=now[0] - 180 * 86400) == 1
    totals = store.llm_spending(installation_id=1, repo="o/r", pr=1, day=DAY)
    assert totals.day == Spend() and totals.pr.usd == pytest.approx(0.5)
    assert store.prune(before=now[0] - 30 * 86400, runs_before=now[0] - 30 * 86400) == 1
    assert store.llm_spending(installation_id=1, repo="o/r", pr=1, day=DAY).pr == Spend()


def test_a_merge_group_dropped_while_queued_folds_into_its_job(store: Store) -> None:
    asked = {"base_sha": "a" * 40, "base_ref": "main", "head_ref": "gh-readonly-queue/main/pr-4-x"}
    first = store.enqueue(JobSpec(JobKind.MERGE_GROUP, "o/r", 1, 4, "b" * 40, asked))
    again = store.enqueue(JobSpec(JobKind.MERGE_GROUP, "o/r", 1, 4, "b" * 40, {"destroyed": "x"}))
    assert again == first
    # An evaluation of the pull request the group was made for is a job of its own.
    other = store.enqueue(JobSpec(JobKind.EVALUATE, "o/r", 1, 4, "c" * 40))
    assert other != first
    job = store.job(first)
    assert job is not None and job.state is JobState.QUEUED
    assert dict(job.payload) == {**asked, "destroyed": "x"}


# --- pull requests' changed files (overlaps) -------------------------------------------------


def _overlaps(store: Store, pr: int) -> list[tuple[int, str, tuple[str, ...]]]:
    return [(o.number, o.title, o.paths) for o in store.pull_overlaps("o/r", pr)]


def test_open_pull_requests_sharing_files_are_ranked_by_files_shared(store: Store) -> None:
    store.record_pull(
        "o/r", 1, sha="a", title="One", paths=["x.py", "y.py", "z.py"], judged_overlaps=False
    )
    store.record_pull("o/r", 2, sha="b", title="Two", paths=["x.py"], judged_overlaps=False)
    store.record_pull(
        "o/r", 3, sha="c", title="Three", paths=["y.py", "z.py", "w.py"], judged_overlaps=True
    )
    store.record_pull(
        "o/r", 4, sha="d", title="Four", paths=["elsewhere.py"], judged_overlaps=False
    )
    store.record_pull("other/repo", 5, sha="e", title="Five", paths=["x.py"], judged_overlaps=False)
    assert _overlaps(store, 1) == [(3, "Three", ("y.py", "z.py")), (2, "Two", ("x.py",))]
    assert _overlaps(store, 2) == [(1, "One", ("x.py",))]
    assert _overlaps(store, 4) == []
    assert _overlaps(store, 99) == []  # not recorded: nothing known
    kept = store.pull_record("o/r", 3)
    assert kept is not None and (kept.sha, kept.title, kept.open, kept.judged_overlaps) == (
        "c",
        "Three",
        True,
        True,
    )
    assert store.pull_record("o/r", 99) is None


def test_a_new_push_replaces_the_files_and_a_closed_pull_request_drops_out(store: Store) -> None:
    store.record_pull("o/r", 1, sha="a", title="One", paths=["x.py"], judged_overlaps=False)
    store.record_pull("o/r", 2, sha="b", title="Two", paths=["x.py"], judged_overlaps=False)
    store.record_pull(
        "o/r", 2, sha="b2", title="Two, renamed", paths=["y.py", "x.py"], judged_overlaps=False
    )
    assert _overlaps(store, 1) == [(2, "Two, renamed", ("x.py",))]
    store.record_pull("o/r", 2, sha="b3", title="Two", paths=["y.py"], judged_overlaps=False)
    assert _overlaps(store, 1) == []
    store.record_pull("o/r", 2, sha="b4", title="Two", paths=["x.py"], judged_overlaps=False)
    store.save_pull_comment("o/r", 2, body="body", prompt="prompt", overlaps="d1")
    store.close_pull("o/r", 2)
    assert _overlaps(store, 1) == []
    closed = store.pull_record("o/r", 2)
    assert closed is not None and not closed.open and closed.comment_body == ""
    # Reopened and judged again: it is back.
    store.record_pull("o/r", 2, sha="b4", title="Two", paths=["x.py"], judged_overlaps=False)
    assert _overlaps(store, 1) == [(2, "Two", ("x.py",))]


def test_pull_requests_with_the_same_head_do_not_overlap(store: Store) -> None:
    store.record_pull(
        "o/r", 1, sha="same", title="Into main", paths=["x.py"], judged_overlaps=False
    )
    store.record_pull(
        "o/r", 2, sha="same", title="Into release", paths=["x.py"], judged_overlaps=False
    )
    assert _overlaps(store, 1) == [] and _overlaps(store, 2) == []


def test_a_comment_s_parts_are_kept_with_its_pull_request(store: Store) -> None:
    store.save_pull_comment("o/r", 1, body="b", prompt="p", overlaps="d")  # not recorded: no-op
    assert store.pull_record("o/r", 1) is None
    store.record_pull("o/r", 1, sha="a", title="One", paths=["x.py"], judged_overlaps=False)
    text = "<!-- prgate:report -->\n### prgate\n" + "é" * 60_000
    store.save_pull_comment("o/r", 1, body=text, prompt="do this", overlaps="d1")
    kept = store.pull_record("o/r", 1)
    assert kept is not None
    assert (kept.comment_body, kept.comment_prompt, kept.comment_overlaps) == (
        text,
        "do this",
        "d1",
    )
    # A new push keeps the comment until the next one is posted.
    store.record_pull("o/r", 1, sha="a2", title="One", paths=["y.py"], judged_overlaps=False)
    again = store.pull_record("o/r", 1)
    assert again is not None and again.comment_body == text and again.sha == "a2"


def test_the_files_kept_per_pull_request_are_capped(store: Store) -> None:
    many = [f"f/{i:05d}.py" for i in range(MAX_RECORDED_PATHS + 50)]
    store.record_pull("o/r", 1, sha="a", title="Big", paths=many, judged_overlaps=False)
    store.record_pull(
        "o/r", 2, sha="b", title="Small", paths=[many[0], many[-1]], judged_overlaps=False
    )
    # The first paths in sorted order are kept: the last one is not.
    assert _overlaps(store, 2) == [(1, "Big", (many[0],))]
    assert [len(o.paths) for o in store.pull_overlaps("o/r", 1)] == [1]


def test_pull_requests_not_judged_for_long_are_pruned(backend: Backend) -> None:
    now = [T0]
    store = backend.open(clock=lambda: now[0])
    store.record_pull("o/r", 1, sha="a", title="Old", paths=["x.py", "y.py"], judged_overlaps=False)
    now[0] = T0 + 100 * 86400
    store.record_pull("o/r", 2, sha="b", title="New", paths=["x.py"], judged_overlaps=False)
    assert _overlaps(store, 2) == [(1, "Old", ("x.py",))]
    # Kept as long as run records (180 days), then its files and its row go.
    store.prune(before=now[0] - 30 * 86400, runs_before=now[0] - 180 * 86400)
    assert store.pull_record("o/r", 1) is not None
    assert store.prune(before=now[0] - 30 * 86400, runs_before=now[0] - 50 * 86400) == 3
    assert store.pull_record("o/r", 1) is None and _overlaps(store, 2) == []
    assert store.pull_record("o/r", 2) is not None
