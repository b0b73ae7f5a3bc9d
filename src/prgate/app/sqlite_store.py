"""The :class:`~prgate.app.store.Store` on SQLite (stdlib ``sqlite3``, write-ahead log).

One connection guarded by a lock serves the web handlers and the workers of one process. The
SQLite store is meant for one serving process: at start-up, jobs found ``running`` were left
by a process that stopped, and go back to the queue.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prgate.app.store import (
    Delivery,
    Job,
    JobKind,
    JobSpec,
    JobState,
    RunRecord,
    StoreError,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    action TEXT,
    installation_id INTEGER,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS installations (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    action TEXT NOT NULL,
    repos TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    repo TEXT NOT NULL,
    installation_id INTEGER NOT NULL,
    pr INTEGER NOT NULL,
    sha TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    deferrals INTEGER NOT NULL DEFAULT 0,
    run_at REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, run_at);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (kind, repo, pr, sha, state);
CREATE TABLE IF NOT EXISTS check_runs (
    repo TEXT NOT NULL,
    sha TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    PRIMARY KEY (repo, sha)
);
CREATE TABLE IF NOT EXISTS comments (
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    comment_id INTEGER NOT NULL,
    PRIMARY KEY (repo, pr)
);
CREATE TABLE IF NOT EXISTS fix_commits (
    repo TEXT NOT NULL,
    sha TEXT NOT NULL,
    pr INTEGER NOT NULL,
    parent TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (repo, sha)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    pr INTEGER NOT NULL,
    sha TEXT NOT NULL,
    config_sha TEXT NOT NULL,
    conclusion TEXT NOT NULL,
    counts TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    timings TEXT NOT NULL,
    api_calls INTEGER NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS runs_pr ON runs (repo, pr, id);
"""


def database_path(url: str) -> str:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(
            f"PRGATE_DATABASE_URL must start with {prefix} (only SQLite is supported for now)"
        )
    path = url[len(prefix) :]
    if not path:
        raise ValueError("PRGATE_DATABASE_URL names no file")
    return path


class SQLiteStore:
    def __init__(self, path: str | Path, *, clock: Any = time.time) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                str(path), check_same_thread=False, timeout=10.0, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"the database at {path} cannot be opened ({exc})") from None

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        return cls(database_path(url))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"the database refused a write ({exc})") from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, args).fetchall())
            except sqlite3.Error as exc:
                raise StoreError(f"the database could not be read ({exc})") from None

    def ping(self) -> None:
        self._read("SELECT 1")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # deliveries and installations

    def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO deliveries (id, event, action, installation_id, "
                "received_at) VALUES (?, ?, ?, ?, ?)",
                (
                    delivery.id,
                    delivery.event,
                    delivery.action,
                    delivery.installation_id,
                    delivery.received_at,
                ),
            )
            if cur.rowcount == 0:
                return False
            for spec in jobs:
                self._enqueue(db, spec)
            return True

    def record_installation(
        self, installation_id: int, *, account: str, action: str, repos: Sequence[str]
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO installations (id, account, action, repos, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET account=excluded.account, "
                "action=excluded.action, repos=excluded.repos, updated_at=excluded.updated_at",
                (installation_id, account, action, json.dumps(list(repos)), self._clock()),
            )

    def installations(self) -> list[tuple[int, str, str]]:
        rows = self._read("SELECT id, account, action FROM installations ORDER BY id")
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    # jobs

    def enqueue(self, spec: JobSpec) -> int:
        with self._tx() as db:
            return self._enqueue(db, spec)

    def _enqueue(self, db: sqlite3.Connection, spec: JobSpec) -> int:
        now = self._clock()
        if spec.kind is JobKind.EVALUATE and spec.sha:
            # A newer head makes queued evaluations of older heads of the same PR pointless.
            db.execute(
                "UPDATE jobs SET state=?, updated_at=? WHERE kind=? AND repo=? AND pr=? "
                "AND sha<>'' AND sha<>? AND state=?",
                (
                    JobState.SUPERSEDED,
                    now,
                    spec.kind,
                    spec.repo,
                    spec.pr,
                    spec.sha,
                    JobState.QUEUED,
                ),
            )
        row = db.execute(
            "SELECT id, payload FROM jobs WHERE kind=? AND repo=? AND pr=? AND sha=? AND state=? "
            "ORDER BY id LIMIT 1",
            (spec.kind, spec.repo, spec.pr, spec.sha, JobState.QUEUED),
        ).fetchone()
        if row is not None and spec.kind is not JobKind.EXPLAIN:
            merged = json.loads(row[1])
            merged.update(spec.payload)
            db.execute(
                "UPDATE jobs SET payload=?, updated_at=? WHERE id=?",
                (json.dumps(merged), now, row[0]),
            )
            return int(row[0])
        cur = db.execute(
            "INSERT INTO jobs (kind, repo, installation_id, pr, sha, payload, state, run_at, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                spec.kind,
                spec.repo,
                spec.installation_id,
                spec.pr,
                spec.sha,
                json.dumps(dict(spec.payload)),
                JobState.QUEUED,
                now,
                now,
                now,
            ),
        )
        return int(cur.lastrowid or 0)

    def claim(self, *, now: float) -> Job | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM jobs AS j WHERE state=? AND run_at<=? AND NOT EXISTS ("
                "SELECT 1 FROM jobs AS r WHERE r.state=? AND r.repo=j.repo AND r.pr=j.pr) "
                "ORDER BY run_at, id LIMIT 1",
                (JobState.QUEUED, now, JobState.RUNNING),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state=?, attempts=attempts+1, updated_at=? WHERE id=?",
                (JobState.RUNNING, now, row[0]),
            )
            return self._job(db, int(row[0]))

    def finish(self, job_id: int, *, state: JobState, error: str | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state=?, last_error=?, updated_at=? WHERE id=?",
                (state, error, self._clock(), job_id),
            )

    def defer(self, job_id: int, *, run_at: float, error: str, rate_limited: bool) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state=?, run_at=?, last_error=?, updated_at=?, "
                "deferrals=deferrals+?, attempts=attempts-? WHERE id=?",
                (
                    JobState.QUEUED,
                    run_at,
                    error,
                    self._clock(),
                    1 if rate_limited else 0,
                    1 if rate_limited else 0,
                    job_id,
                ),
            )

    def recover(self) -> int:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state=?, updated_at=? WHERE state=?",
                (JobState.QUEUED, self._clock(), JobState.RUNNING),
            )
            return int(cur.rowcount)

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            return self._job(self._db, job_id)

    def jobs(self) -> list[Job]:
        ids = [int(r[0]) for r in self._read("SELECT id FROM jobs ORDER BY id")]
        out = []
        for i in ids:
            job = self.job(i)
            if job is not None:
                out.append(job)
        return out

    def _job(self, db: sqlite3.Connection, job_id: int) -> Job | None:
        row = db.execute(
            "SELECT id, kind, repo, installation_id, pr, sha, payload, state, attempts, "
            "deferrals, last_error FROM jobs WHERE id=?",
            (job_id,),
        ).fetchone()
        if row is None:
            return None
        return Job(
            id=int(row[0]),
            kind=JobKind(row[1]),
            repo=str(row[2]),
            installation_id=int(row[3]),
            pr=int(row[4]),
            sha=str(row[5]),
            payload=json.loads(row[6]),
            state=JobState(row[7]),
            attempts=int(row[8]),
            deferrals=int(row[9]),
            last_error=row[10],
        )

    def counts(self) -> dict[str, int]:
        rows = self._read("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        out = {s.value: 0 for s in JobState}
        out.update({str(r[0]): int(r[1]) for r in rows})
        return out

    def next_due(self) -> float | None:
        rows = self._read("SELECT MIN(run_at) FROM jobs WHERE state=?", (JobState.QUEUED,))
        value = rows[0][0] if rows else None
        return float(value) if value is not None else None

    # what prgate created on GitHub

    def check_run_id(self, repo: str, sha: str) -> int | None:
        rows = self._read("SELECT run_id FROM check_runs WHERE repo=? AND sha=?", (repo, sha))
        return int(rows[0][0]) if rows else None

    def save_check_run(self, repo: str, sha: str, run_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO check_runs (repo, sha, run_id) VALUES (?, ?, ?)",
                (repo, sha, run_id),
            )

    def comment_id(self, repo: str, pr: int) -> int | None:
        rows = self._read("SELECT comment_id FROM comments WHERE repo=? AND pr=?", (repo, pr))
        return int(rows[0][0]) if rows else None

    def save_comment(self, repo: str, pr: int, comment_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO comments (repo, pr, comment_id) VALUES (?, ?, ?)",
                (repo, pr, comment_id),
            )

    def save_fix_commit(self, repo: str, pr: int, *, commit: str, parent: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO fix_commits (repo, sha, pr, parent, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (repo, commit, pr, parent, self._clock()),
            )

    def is_fix_commit(self, repo: str, sha: str) -> bool:
        return bool(self._read("SELECT 1 FROM fix_commits WHERE repo=? AND sha=?", (repo, sha)))

    # runs

    def record_run(self, run: RunRecord) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (repo, pr, sha, config_sha, conclusion, counts, started_at, "
                "finished_at, timings, api_calls, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.repo,
                    run.pr,
                    run.sha,
                    run.config_sha,
                    run.conclusion,
                    json.dumps(dict(run.counts), sort_keys=True),
                    run.started_at,
                    run.finished_at,
                    json.dumps(dict(run.timings), sort_keys=True),
                    run.api_calls,
                    run.reason,
                ),
            )

    def runs(self, *, repo: str | None = None, limit: int = 100) -> list[RunRecord]:
        sql = (
            "SELECT repo, pr, sha, config_sha, conclusion, counts, started_at, finished_at, "
            "timings, api_calls, reason FROM runs"
        )
        args: list[Any] = []
        if repo is not None:
            sql += " WHERE repo=?"
            args.append(repo)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [_run(r) for r in self._read(sql, args)]

    def last_run(self, repo: str, pr: int) -> RunRecord | None:
        rows = self._read(
            "SELECT repo, pr, sha, config_sha, conclusion, counts, started_at, finished_at, "
            "timings, api_calls, reason FROM runs WHERE repo=? AND pr=? ORDER BY id DESC LIMIT 1",
            (repo, pr),
        )
        return _run(rows[0]) if rows else None

    def delivery_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM deliveries")[0][0])


def _run(r: tuple[Any, ...]) -> RunRecord:
    return RunRecord(
        repo=str(r[0]),
        pr=int(r[1]),
        sha=str(r[2]),
        config_sha=str(r[3]),
        conclusion=str(r[4]),
        counts=json.loads(r[5]),
        started_at=float(r[6]),
        finished_at=float(r[7]),
        timings=json.loads(r[8]),
        api_calls=int(r[9]),
        reason=r[10],
    )
