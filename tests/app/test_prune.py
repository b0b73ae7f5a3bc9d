"""The App prunes old records: on start and every hour, on one replica at a time."""

from __future__ import annotations

import time

from appharness import RunningApp, World
from waiting import wait_until

from prgate.app.server import PRUNE_INTERVAL, create_app
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import KEEP_RECORDS, Delivery, JobKind, JobSpec

DAY = 86400.0


def _old_and_new(store: SQLiteStore, now: float) -> None:
    old = now - KEEP_RECORDS - DAY
    store.accept(Delivery("old", "ping", None, None, old), [])
    store.accept(Delivery("new", "ping", None, None, now), [])
    store.llm_cache_put("answer", "{}")


def test_a_started_app_prunes_what_is_past_its_keeping_time(world: World) -> None:
    store = SQLiteStore.from_url(world.settings.database_url)
    _old_and_new(store, time.time())
    with RunningApp(world.settings, store=store) as running:
        wait_until(lambda: not running.store.has_delivery("old"), "the old delivery is pruned")
        assert running.store.has_delivery("new")
        assert running.store.llm_cache_get("answer") == "{}"


def test_one_replica_prunes_at_a_time(world: World) -> None:
    store = SQLiteStore.from_url(world.settings.database_url)
    try:
        now = time.time()
        _old_and_new(store, now)
        store.enqueue(JobSpec(JobKind.EVALUATE, "o/r", 1, 1, "a"))  # queued: never pruned
        kw = {"store": store, "start_workers": False, "reconcile_loop": False}
        first = create_app(world.settings, **kw).state.prgate  # type: ignore[arg-type]
        second = create_app(world.settings, **kw).state.prgate  # type: ignore[arg-type]
        assert first.prune_once(now=now) == 1
        assert second.prune_once(now=now) is None  # the first holds the hour
        store.accept(Delivery("later", "ping", None, None, now - KEEP_RECORDS - DAY), [])
        assert second.prune_once(now=now + PRUNE_INTERVAL + 1) == 1
        assert first.prune_once(now=now + PRUNE_INTERVAL + 2) is None
        assert store.delivery_count() == 1 and len(store.jobs()) == 1
    finally:
        store.close()
