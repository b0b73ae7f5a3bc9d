"""Group commit at intake: batches form under load, each request is answered after its commit,
one refused delivery fails alone, and the App answers as before."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from appharness import RunningApp, World

from prgate.app.intake import Intake
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import Delivery, JobKind, JobSpec, StoreError


def _delivery(i: str) -> Delivery:
    return Delivery(i, "pull_request", "opened", 1, 1.0)


def _job(pr: int) -> JobSpec:
    return JobSpec(JobKind.EVALUATE, "o/r", 1, pr, f"sha{pr}")


class RecordingStore:
    """Keeps deliveries in memory; records every call; can hold the first call until told,
    and refuses the deliveries named in ``refuse``."""

    def __init__(self, *, refuse: frozenset[str] = frozenset()) -> None:
        self.seen: set[str] = set()
        self.calls: list[tuple[str, list[str]]] = []
        self.refuse = refuse
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

    def _check(self, ids: list[str]) -> None:
        bad = [i for i in ids if i in self.refuse]
        if bad:
            raise StoreError(f"refused {bad}")

    def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool:
        self.calls.append(("accept", [delivery.id]))
        self.entered.set()
        assert self.hold.wait(10)
        self._check([delivery.id])
        fresh = delivery.id not in self.seen
        self.seen.add(delivery.id)
        return fresh

    def accept_many(self, batch: Sequence[tuple[Delivery, Sequence[JobSpec]]]) -> list[bool]:
        ids = [d.id for d, _ in batch]
        self.calls.append(("accept_many", ids))
        self.entered.set()
        assert self.hold.wait(10)
        self._check(ids)
        out = []
        for i in ids:
            out.append(i not in self.seen)
            self.seen.add(i)
        return out


async def _gather(intake: Intake, ids: Sequence[str]) -> list[bool | BaseException]:
    return await asyncio.gather(
        *(intake.accept(_delivery(i), [_job(n)]) for n, i in enumerate(ids)),
        return_exceptions=True,
    )


def test_deliveries_that_wait_together_are_recorded_in_one_batch() -> None:
    store = RecordingStore()
    intake = Intake(store)

    async def scenario() -> tuple[list[bool | BaseException], bool]:
        store.hold.clear()
        first = asyncio.ensure_future(intake.accept(_delivery("first"), []))
        await asyncio.to_thread(store.entered.wait, 10)  # the writer is busy with "first"
        rest = asyncio.ensure_future(_gather(intake, [f"d{i}" for i in range(20)] + ["d3"]))
        await asyncio.sleep(0.05)
        answered_early = first.done() or rest.done()  # nothing is answered before its commit
        store.hold.set()
        return [await first, *await rest], answered_early

    try:
        answers, answered_early = asyncio.run(scenario())
    finally:
        intake.close()
    assert not answered_early
    assert answers == [True] + [True] * 20 + [False]  # "d3" twice: the second is a redelivery
    assert store.calls[0] == ("accept", ["first"])  # alone: the plain step
    assert store.calls[1] == ("accept_many", [f"d{i}" for i in range(20)] + ["d3"])
    assert intake.batch_sizes == [1, 21]


def test_a_refused_delivery_fails_alone_and_the_rest_of_its_batch_is_recorded() -> None:
    store = RecordingStore(refuse=frozenset({"bad"}))
    intake = Intake(store)

    async def scenario() -> list[bool | BaseException]:
        store.hold.clear()
        first = asyncio.ensure_future(intake.accept(_delivery("first"), []))
        await asyncio.to_thread(store.entered.wait, 10)
        rest = asyncio.ensure_future(_gather(intake, ["a", "bad", "b"]))
        await asyncio.sleep(0.05)
        store.hold.set()
        return [await first, *await rest]

    try:
        answers = asyncio.run(scenario())
    finally:
        intake.close()
    assert answers[:2] == [True, True] and answers[3] is True
    assert isinstance(answers[2], StoreError) and "bad" in str(answers[2])
    assert ("accept_many", ["a", "bad", "b"]) in store.calls  # the batch failed as a whole...
    assert store.calls[-3:] == [("accept", ["a"]), ("accept", ["bad"]), ("accept", ["b"])]
    assert store.seen == {"first", "a", "b"}  # ...then each was recorded on its own


def test_after_close_deliveries_are_refused_and_what_waited_was_recorded() -> None:
    store = RecordingStore()
    intake = Intake(store)

    async def scenario() -> tuple[list[bool | BaseException], BaseException | None]:
        answers = await _gather(intake, ["a", "b", "c"])
        await asyncio.to_thread(intake.close)
        try:
            await intake.accept(_delivery("late"), [])
        except StoreError as exc:
            return answers, exc
        return answers, None

    answers, late = asyncio.run(scenario())
    assert answers == [True, True, True]
    assert isinstance(late, StoreError) and "shutting down" in str(late)
    assert "late" not in store.seen
    intake.close()  # closing twice is harmless


def test_a_real_store_records_concurrent_deliveries_once_each(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "intake.db")
    intake = Intake(store)
    ids = [f"d{i}" for i in range(60)]
    try:
        answers = asyncio.run(_gather(intake, ids + ids[:10]))
    finally:
        intake.close()
    assert answers == [True] * 60 + [False] * 10
    assert store.delivery_count() == 60 and store.queue_depth() == 60
    assert sum(intake.batch_sizes) == 70
    store.close()


def test_the_app_answers_concurrent_deliveries_and_a_refused_one_alone(world: World) -> None:
    class PickyStore(SQLiteStore):
        """Refuses one delivery, in a batch or alone."""

        def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool:
            if delivery.id == "bad":
                raise StoreError("disk full")
            return super().accept(delivery, jobs)

    store = PickyStore(world.tmp / "picky.db")
    ping = world.gh.webhook("ping", None, installation=world.inst)
    with RunningApp(world.settings, store=store, start_workers=False) as app:
        ids = [f"p{i}" for i in range(30)] + ["bad", "p0"]

        async def send() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=app.url, timeout=20) as client:
                return await asyncio.gather(
                    *(
                        client.post(
                            "/api/github/webhooks",
                            content=ping.body,
                            headers=dict(ping.headers, **{"X-GitHub-Delivery": i}),
                        )
                        for i in ids
                    )
                )

        responses = asyncio.run(send())
        by_id = dict(zip(ids, responses, strict=True))
        assert by_id["bad"].status_code == 503
        # "p0" was sent twice: one copy is recorded (202), the other is a duplicate (200).
        statuses = [r.status_code for r in responses[:30]] + [responses[31].status_code]
        assert sorted(statuses) == [200] + [202] * 30
        assert store.delivery_count() == 30
        assert not store.has_delivery("bad")


@pytest.fixture(autouse=True)
def _writers_stop() -> Iterator[None]:
    """Every writer thread a test starts is stopped by the end of it."""
    before = set(threading.enumerate())
    yield
    started = [t for t in threading.enumerate() if t.name == "prgate-intake" and t not in before]
    for t in started:
        t.join(5)
    assert not [t for t in started if t.is_alive()]
