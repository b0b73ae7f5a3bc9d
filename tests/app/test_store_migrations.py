"""Schema migrations on start (several replicas at once, old SQLite databases) and store URLs."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from pgdb import fresh_database, query

from prgate.app import migrations
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import (
    Delivery,
    JobKind,
    JobSpec,
    JobState,
    Store,
    StoreError,
    open_store,
)

#: The schema prgate created before versions were recorded (no AI reviewer, no leases).
OLD_SCHEMA = """
CREATE TABLE deliveries (id TEXT PRIMARY KEY, event TEXT NOT NULL, action TEXT,
    installation_id INTEGER, received_at REAL NOT NULL);
CREATE TABLE installations (id INTEGER PRIMARY KEY, account TEXT NOT NULL, action TEXT NOT NULL,
    repos TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, repo TEXT NOT NULL,
    installation_id INTEGER NOT NULL, pr INTEGER NOT NULL, sha TEXT NOT NULL,
    payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    deferrals INTEGER NOT NULL DEFAULT 0, run_at REAL NOT NULL, created_at REAL NOT NULL,
    updated_at REAL NOT NULL, last_error TEXT);
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_key ON jobs (kind, repo, pr, sha, state);
CREATE TABLE check_runs (repo TEXT NOT NULL, sha TEXT NOT NULL, run_id INTEGER NOT NULL,
    PRIMARY KEY (repo, sha));
CREATE TABLE comments (repo TEXT NOT NULL, pr INTEGER NOT NULL, comment_id INTEGER NOT NULL,
    PRIMARY KEY (repo, pr));
CREATE TABLE fix_commits (repo TEXT NOT NULL, sha TEXT NOT NULL, pr INTEGER NOT NULL,
    parent TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (repo, sha));
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, repo TEXT NOT NULL, pr INTEGER NOT NULL,
    sha TEXT NOT NULL, config_sha TEXT NOT NULL, conclusion TEXT NOT NULL, counts TEXT NOT NULL,
    started_at REAL NOT NULL, finished_at REAL NOT NULL, timings TEXT NOT NULL,
    api_calls INTEGER NOT NULL, reason TEXT);
CREATE INDEX runs_pr ON runs (repo, pr, id);
"""
#: What the version just before leases added: the AI reviewer's columns and cache.
WITH_LLM = """
ALTER TABLE runs ADD COLUMN llm TEXT NOT NULL DEFAULT '{}';
CREATE TABLE llm_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at REAL NOT NULL);
INSERT INTO llm_cache VALUES ('k', '{"answer": 1}', 1.0);
"""


def _old_database(path: Path, *, with_llm: bool) -> None:
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA + (WITH_LLM if with_llm else ""))
    db.executescript(
        """
        INSERT INTO deliveries VALUES ('d-1', 'pull_request', 'opened', 5, 1.0);
        INSERT INTO installations VALUES (5, 'acme', 'created', '["acme/a"]', 1.0);
        INSERT INTO jobs (kind, repo, installation_id, pr, sha, payload, state, attempts, run_at,
            created_at, updated_at) VALUES
            ('evaluate', 'acme/a', 5, 1, 'aaa', '{"force": true}', 'running', 1, 1.0, 1.0, 1.0),
            ('evaluate', 'acme/a', 5, 2, 'bbb', '{}', 'queued', 0, 1.0, 1.0, 1.0),
            ('evaluate', 'acme/a', 5, 3, 'ccc', '{}', 'done', 1, 1.0, 1.0, 1.0);
        INSERT INTO check_runs VALUES ('acme/a', 'aaa', 77);
        INSERT INTO runs (repo, pr, sha, config_sha, conclusion, counts, started_at, finished_at,
            timings, api_calls, reason) VALUES
            ('acme/a', 3, 'ccc', 'c', 'success', '{"x": 1}', 1.0, 2.0, '{}', 3, NULL);
        """
    )
    db.commit()
    db.close()


@pytest.mark.parametrize("with_llm", [False, True], ids=["before-llm", "before-leases"])
def test_an_older_sqlite_database_is_upgraded_without_losing_rows(
    tmp_path: Path, with_llm: bool
) -> None:
    path = tmp_path / "old.db"
    _old_database(path, with_llm=with_llm)
    store = SQLiteStore(path)
    try:
        assert store.has_delivery("d-1") and store.delivery_count() == 1
        assert store.installations() == [(5, "acme", "created")]
        assert store.check_run_id("acme/a", "aaa") == 77
        (run,) = store.runs()
        assert run.conclusion == "success" and dict(run.counts) == {"x": 1} and run.llm == {}
        assert run.blocking == {} and run.awaiting_approval == {}  # not known before
        assert store.llm_cache_get("k") == ('{"answer": 1}' if with_llm else None)
        store.llm_cache_put("k2", "{}")
        assert store.llm_cache_get("k2") == "{}"
        jobs = store.jobs()
        assert [(j.pr, j.state, j.owner, j.lease_until) for j in jobs] == [
            (1, JobState.RUNNING, None, None),
            (2, JobState.QUEUED, None, None),
            (3, JobState.DONE, None, None),
        ]
        # A job left running by the old version has no lease: it is taken over at once.
        taken = store.claim(now=time.time(), owner="new", lease=60)
        assert taken is not None and taken.pr == 1 and taken.attempts == 2
        assert dict(taken.payload) == {"force": True}
        assert store.try_lock("reconcile", owner="new", ttl=10, now=time.time())
    finally:
        store.close()
    versions = sqlite3.connect(path).execute("SELECT version FROM schema_migrations").fetchall()
    assert [v for (v,) in versions] == [m.version for m in migrations.SQLITE]
    SQLiteStore(path).close()  # opening again applies nothing and keeps the rows
    again = sqlite3.connect(path)
    assert again.execute("SELECT COUNT(*) FROM jobs").fetchone() == (3,)
    assert again.execute("SELECT COUNT(*) FROM schema_migrations").fetchone() == (
        len(migrations.SQLITE),
    )


def _open_at_once(url: str, n: int) -> tuple[list[Store], list[BaseException]]:
    start = threading.Barrier(n)
    opened: list[Store] = []
    errors: list[BaseException] = []

    def go() -> None:
        start.wait(10)
        try:
            opened.append(open_store(url, pool_size=1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return opened, errors


def test_replicas_starting_at_once_on_a_fresh_postgres_database_migrate_it_once() -> None:
    with fresh_database() as url:
        opened, errors = _open_at_once(url, 6)
        try:
            assert errors == []
            assert len(opened) == 6
            rows = query(url, "SELECT version FROM schema_migrations ORDER BY version")
            assert [r[0] for r in rows] == [m.version for m in migrations.POSTGRES]
            opened[0].enqueue(JobSpec(JobKind.EVALUATE, "o/r", 1, 1, "a"))
            assert [j.pr for j in opened[5].jobs()] == [1]
        finally:
            for s in opened:
                s.close()


def test_processes_starting_at_once_on_a_fresh_sqlite_file_migrate_it_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    opened, errors = _open_at_once(url, 4)
    try:
        assert errors == [] and len(opened) == 4
        rows = sqlite3.connect(tmp_path / "fresh.db").execute(
            "SELECT version FROM schema_migrations ORDER BY version"
        )
        assert [v for (v,) in rows] == [m.version for m in migrations.SQLITE]
    finally:
        for s in opened:
            s.close()


# --- URLs -------------------------------------------------------------------------------------


def test_open_store_picks_the_backend_from_the_url(tmp_path: Path) -> None:
    from prgate.app.postgres_store import PostgresStore

    sqlite = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(sqlite, SQLiteStore)
    sqlite.close()
    with fresh_database() as url:
        for scheme in ("postgresql://", "postgres://"):
            pg = open_store(scheme + url.split("://", 1)[1], pool_size=1)
            try:
                assert isinstance(pg, PostgresStore)
                pg.ping()
            finally:
                pg.close()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://root:hunter2@db/prgate", "is not a database prgate can use"),
        ("prgate.db", "is not a database prgate can use"),
        ("sqlite://relative.db", "must start with sqlite:///"),
        ("sqlite:///", "names no file"),
        ("postgresql://u:hunter2@127.0.0.1:1/prgate", "cannot be used"),
        ("postgresql://u:hunter2@127.0.0.1:5432/prgate?sslmode=bogus", "invalid sslmode"),
        ("postgresql://u:hunter2@127.0.0.1:5432/prgate?bogus=1", "not a PostgreSQL URL"),
        ("postgres://u:hunter2@[::1/prgate", "not a PostgreSQL URL"),
        ("postgresql://nobody:hunter2@127.0.0.1:5432/prgate_none", "cannot be used"),
        ("postgresql://127.0.0.1:1/prgate?password=hunter2", "cannot be used"),
    ],
)
def test_a_bad_url_says_what_is_wrong_without_the_password(url: str, words: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url, connect_timeout=2)
    message = str(caught.value)
    assert words in message
    assert "hunter2" not in message


def test_a_sqlite_file_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    assert "cannot be opened" in str(caught.value)


def test_postgres_errors_are_store_errors_and_the_store_works_again(tmp_path: Path) -> None:
    with fresh_database() as url:
        store = open_store(url, pool_size=2, statement_timeout=0.5)
        try:
            store.enqueue(JobSpec(JobKind.EVALUATE, "o/r", 1, 1, "a", {"k": "v"}))
            # Another session holds the job's row: the store's statement gives up in time.
            import psycopg

            with psycopg.connect(url) as other:
                other.execute(b"SELECT * FROM jobs FOR UPDATE")
                # A claim skips the locked job instead of waiting for it ...
                assert store.claim(now=time.time(), owner="w", lease=60) is None
                # ... while coalescing into it has to wait, and gives up in time.
                with pytest.raises(StoreError) as caught:
                    store.enqueue(JobSpec(JobKind.EVALUATE, "o/r", 1, 1, "a", {"k": "w"}))
                assert "could not queue the job" in str(caught.value)
            store.ping()
            assert json.loads(json.dumps(dict(store.jobs()[0].payload))) == {"k": "v"}
        finally:
            store.close()


def test_connections_cut_by_the_server_are_replaced_without_a_failed_call() -> None:
    with fresh_database() as url:
        store = open_store(url, pool_size=3)
        try:
            store.ping()
            cut = query(
                url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            assert cut, "the store should have had a connection open"
            store.ping()  # the broken connection is noticed, dropped, and the call retried
            assert store.accept(Delivery("d", "ping", None, None, 1.0), [])
            assert store.has_delivery("d")
        finally:
            store.close()


def test_serve_with_a_database_it_cannot_use_stops_with_a_plain_message(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, PRGATE_DATABASE_URL="postgresql://ann:hunter2@127.0.0.1:1/prgate")
    done = subprocess.run(
        [sys.executable, "-m", "prgate", "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "the PostgreSQL database at postgresql://ann:***@127.0.0.1:1/prgate" in done.stderr
    assert "cannot be used" in done.stderr and "Connection refused" in done.stderr
    assert "hunter2" not in done.stdout + done.stderr
