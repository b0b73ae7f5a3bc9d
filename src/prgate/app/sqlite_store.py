"""The :class:`~prgate.app.store.Store` on SQLite (stdlib ``sqlite3``, write-ahead log).

One connection guarded by a lock serves the web handlers and the workers of one process. The
SQLite store is meant for one serving process: at start-up, jobs found ``running`` were left
by a process that stopped, and go back to the queue (:meth:`SQLiteStore.recover`). Jobs carry
leases all the same, so a job whose worker is stuck past its lease is taken over, and the
fencing rules are the same as on PostgreSQL. The schema is migrated on open (``migrations``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prgate.app import openpulls
from prgate.app.migrations import migrate_sqlite
from prgate.app.openpulls import PullRecord
from prgate.app.spending import Execute, add_spending, read_spending
from prgate.app.store import (
    CHECK_RUN_COLUMNS,
    JOB_COLUMNS,
    PRUNE_BATCH,
    RUN_COLUMNS,
    CheckRunEntry,
    Delivery,
    FixCommit,
    Job,
    JobKind,
    JobSpec,
    JobState,
    RunRecord,
    StoreError,
    StoreUnavailable,
    check_run_from_row,
    fix_commit_from_row,
    fix_commits_statement,
    job_from_row,
    prs_seen_statement,
    prune_statements,
    run_from_row,
    runs_since_statement,
)
from prgate.llm.budget import Spend, SpendLimits, SpendTotals
from prgate.model import OpenPull

_RUNNING = JobState.RUNNING.value
_QUEUED = JobState.QUEUED.value
_EVALUATE = JobKind.EVALUATE.value
_PRUNE = prune_statements("?")
_PRS_SEEN = prs_seen_statement("?")
#: How long opening waits for other processes opening the same file (the busy timeout too).
_OPEN_TIMEOUT = 10.0


def _use_wal(db: sqlite3.Connection, *, timeout: float = _OPEN_TIMEOUT) -> None:
    """Switch ``db``'s file to the write-ahead log, waiting out other processes doing the same.

    SQLite answers "database is locked" to a journal-mode change without calling the busy
    handler when another connection is changing the mode of the same file at that moment, so
    processes that start together on a fresh file retry here within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


#: Files SQLite keeps beside the database: the write-ahead log, its index, a rollback journal.
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _owner_only(path: str | Path) -> None:
    """Create the database file readable and writable by its owner only, whatever the umask,
    and take group and other access off one that exists (and off its side files).

    The database holds webhook deliveries and run records of private repositories. SQLite
    gives the files it creates beside the database (``-wal``, ``-shm``, ``-journal``) the
    database file's own permissions, so the database file is the one to get right.
    """
    name = str(path)
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    try:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:
        return  # SQLite says why it cannot open it, in the store's own words
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        pass  # another user's file: not ours to change
    finally:
        os.close(fd)
    for suffix in _SIDE_FILES:
        try:
            if os.stat(name + suffix).st_mode & 0o077:
                os.chmod(name + suffix, 0o600)
        except OSError:
            pass  # not there (the usual case), or not ours to change


def database_path(url: str) -> str:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(
            f"PRGATE_DATABASE_URL must start with {prefix} for SQLite "
            "(or postgresql:// for PostgreSQL)"
        )
    path = url[len(prefix) :]
    if not path:
        raise ValueError("PRGATE_DATABASE_URL names no file")
    return path


class SQLiteStore:
    def __init__(self, path: str | Path, *, clock: Any = time.time, **_ignored: Any) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        #: Whether the thread holding ``_lock`` is inside a transaction (guarded by ``_lock``).
        self._in_tx = False
        try:
            _owner_only(path)
            self._db = sqlite3.connect(
                str(path), check_same_thread=False, timeout=_OPEN_TIMEOUT, isolation_level=None
            )
            _use_wal(self._db)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=10000")
            migrate_sqlite(self._db)
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"the SQLite database at {path} cannot be opened ({exc})"
            ) from None

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        return cls(database_path(url))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._in_tx:  # a step of a larger transaction (accept_many): it commits
                yield self._db
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._in_tx = True
                try:
                    yield self._db
                except BaseException:
                    self._in_tx = False
                    self._db.execute("ROLLBACK")
                    raise
                self._in_tx = False
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

    def accept_many(self, batch: Sequence[tuple[Delivery, Sequence[JobSpec]]]) -> list[bool]:
        # Each delivery goes through accept() (so that a subclass's accept is honoured), inside
        # one transaction: one commit for the whole batch.
        with self._tx():
            return [self.accept(delivery, jobs) for delivery, jobs in batch]

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

    def claim(self, *, now: float, owner: str, lease: float) -> Job | None:
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE state=? AND COALESCE(lease_until, 0)<=? "
                "ORDER BY run_at, id LIMIT 1",
                (_RUNNING, now),
            ).fetchone()
            if row is None:
                row = db.execute(
                    "SELECT id FROM jobs AS j WHERE state=? AND run_at<=? AND NOT EXISTS ("
                    "SELECT 1 FROM jobs AS r WHERE r.state=? AND r.repo=j.repo AND (r.pr=j.pr "
                    "OR (j.kind=? AND r.kind=? AND j.sha<>'' AND r.sha=j.sha))) "
                    "ORDER BY run_at, id LIMIT 1",
                    (_QUEUED, now, _RUNNING, _EVALUATE, _EVALUATE),
                ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state=?, owner=?, lease_until=?, attempts=attempts+1, "
                "updated_at=? WHERE id=?",
                (_RUNNING, owner, now + lease, now, row[0]),
            )
            return self._job(db, int(row[0]))

    def heartbeat(self, job_id: int, *, owner: str, until: float) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET lease_until=MAX(COALESCE(lease_until, 0), ?) "
                "WHERE id=? AND owner=? AND state=?",
                (until, job_id, owner, _RUNNING),
            )
            return cur.rowcount > 0

    def owns(self, job_id: int, *, owner: str, now: float | None = None) -> bool:
        at = self._clock() if now is None else now
        rows = self._read(
            "SELECT 1 FROM jobs WHERE id=? AND owner=? AND state=? AND lease_until>?",
            (job_id, owner, _RUNNING, at),
        )
        return bool(rows)

    def finish(self, job_id: int, *, state: JobState, error: str | None = None, owner: str) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state=?, last_error=?, updated_at=?, owner=NULL, "
                "lease_until=NULL WHERE id=? AND owner=? AND state=?",
                (state, error, self._clock(), job_id, owner, _RUNNING),
            )
            return cur.rowcount > 0

    def defer(
        self, job_id: int, *, run_at: float, error: str, rate_limited: bool, owner: str
    ) -> bool:
        n = 1 if rate_limited else 0
        return self._requeue(
            job_id,
            owner=owner,
            run_at=run_at,
            error=error,
            deferrals=n,
            uncount=n,
        )

    def release(self, job_id: int, *, owner: str) -> bool:
        return self._requeue(job_id, owner=owner, run_at=None, error=None, deferrals=0, uncount=1)

    def _requeue(
        self,
        job_id: int,
        *,
        owner: str,
        run_at: float | None,
        error: str | None,
        deferrals: int,
        uncount: int,
    ) -> bool:
        """Put a running job back in the queue, or fold it into a queued job of the same key
        that was enqueued while it ran (one queued job per key, as on PostgreSQL)."""
        now = self._clock()
        with self._tx() as db:
            row = db.execute(
                "SELECT kind, repo, pr, sha, payload FROM jobs WHERE id=? AND owner=? AND state=?",
                (job_id, owner, _RUNNING),
            ).fetchone()
            if row is None:
                return False
            twin = None
            if row[0] != JobKind.EXPLAIN.value:
                twin = db.execute(
                    "SELECT id, payload FROM jobs WHERE kind=? AND repo=? AND pr=? AND sha=? "
                    "AND state=? ORDER BY id LIMIT 1",
                    (row[0], row[1], row[2], row[3], _QUEUED),
                ).fetchone()
            if twin is not None:
                merged = json.loads(row[4])
                merged.update(json.loads(twin[1]))
                db.execute(
                    "UPDATE jobs SET payload=?, run_at=MAX(run_at, ?), updated_at=? WHERE id=?",
                    (json.dumps(merged), run_at if run_at is not None else 0, now, twin[0]),
                )
                db.execute(
                    "UPDATE jobs SET state=?, owner=NULL, lease_until=NULL, updated_at=?, "
                    "last_error=? WHERE id=?",
                    (JobState.SUPERSEDED, now, f"merged into job {twin[0]}", job_id),
                )
                return True
            db.execute(
                "UPDATE jobs SET state=?, owner=NULL, lease_until=NULL, run_at=COALESCE(?, run_at), "
                "last_error=COALESCE(?, last_error), updated_at=?, deferrals=deferrals+?, "
                "attempts=MAX(attempts-?, 0) WHERE id=?",
                (_QUEUED, run_at, error, now, deferrals, uncount, job_id),
            )
            return True

    def recover(self) -> int:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state=?, owner=NULL, lease_until=NULL, updated_at=? WHERE state=?",
                (_QUEUED, self._clock(), _RUNNING),
            )
            return int(cur.rowcount)

    def queue_depth(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM jobs WHERE state=?", (_QUEUED,))[0][0])

    def try_lock(self, name: str, *, owner: str, ttl: float, now: float) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO locks (name, owner, until) VALUES (?, ?, ?) ON CONFLICT(name) DO "
                "UPDATE SET owner=excluded.owner, until=excluded.until "
                "WHERE locks.owner=excluded.owner OR locks.until<=?",
                (name, owner, now + ttl, now),
            )
            return cur.rowcount > 0

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            return self._job(self._db, job_id)

    def jobs(self) -> list[Job]:
        return [job_from_row(r) for r in self._read(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id")]

    def _job(self, db: sqlite3.Connection, job_id: int) -> Job | None:
        row = db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return None if row is None else job_from_row(row)

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

    def save_check_run(
        self,
        repo: str,
        sha: str,
        run_id: int,
        *,
        pr: int | None = None,
        in_progress: bool | None = None,
        inputs: str | None = None,
    ) -> None:
        flag = None if in_progress is None else int(in_progress)
        with self._tx() as db:
            db.execute(
                "INSERT INTO check_runs (repo, sha, run_id, pr, in_progress, inputs) "
                "VALUES (?, ?, ?, ?, COALESCE(?, 0), COALESCE(?, '')) ON CONFLICT(repo, sha) "
                "DO UPDATE SET run_id=excluded.run_id, pr=COALESCE(?, pr), "
                "in_progress=COALESCE(?, in_progress), inputs=COALESCE(?, inputs)",
                (repo, sha, run_id, pr, flag, inputs, pr, flag, inputs),
            )

    def check_run(self, repo: str, sha: str) -> CheckRunEntry | None:
        rows = self._read(
            f"SELECT {CHECK_RUN_COLUMNS} FROM check_runs WHERE repo=? AND sha=?", (repo, sha)
        )
        return check_run_from_row(rows[0]) if rows else None

    def check_runs_in_progress(self, repo: str, pr: int) -> list[CheckRunEntry]:
        rows = self._read(
            f"SELECT {CHECK_RUN_COLUMNS} FROM check_runs WHERE repo=? AND pr=? AND in_progress "
            "ORDER BY sha",
            (repo, pr),
        )
        return [check_run_from_row(r) for r in rows]

    def prs_seen_at(self, repo: str, sha: str) -> list[int]:
        rows = self._read(_PRS_SEEN, (repo, sha, repo, sha))
        return sorted({int(r[0]) for r in rows})

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

    # comment commands

    def command_handled(self, comment_id: int) -> bool:
        return bool(self._read("SELECT 1 FROM handled_comments WHERE comment_id=?", (comment_id,)))

    def record_command(self, repo: str, comment_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO handled_comments (comment_id, repo, handled_at) "
                "VALUES (?, ?, ?)",
                (comment_id, repo, self._clock()),
            )

    # runs

    def record_run(self, run: RunRecord) -> None:
        with self._tx() as db:
            db.execute(
                f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    json.dumps(dict(run.llm), sort_keys=True),
                    json.dumps(dict(run.blocking), sort_keys=True),
                    json.dumps(dict(run.awaiting_approval), sort_keys=True),
                ),
            )

    def runs(self, *, repo: str | None = None, limit: int = 100) -> list[RunRecord]:
        sql = f"SELECT {RUN_COLUMNS} FROM runs"
        args: list[Any] = []
        if repo is not None:
            sql += " WHERE repo=?"
            args.append(repo)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [run_from_row(r) for r in self._read(sql, args)]

    def last_run(self, repo: str, pr: int) -> RunRecord | None:
        rows = self._read(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE repo=? AND pr=? ORDER BY id DESC LIMIT 1",
            (repo, pr),
        )
        return run_from_row(rows[0]) if rows else None

    def runs_since(
        self, since: float, *, repo: str | None = None, limit: int = 100_000
    ) -> list[RunRecord]:
        args = (since, repo, limit) if repo is not None else (since, limit)
        sql = runs_since_statement("?", by_repo=repo is not None)
        return [run_from_row(r) for r in self._read(sql, args)]

    def fix_commits(self, *, repo: str | None = None) -> list[FixCommit]:
        sql = fix_commits_statement("?", by_repo=repo is not None)
        rows = self._read(sql, (repo,) if repo is not None else ())
        return [fix_commit_from_row(r) for r in rows]

    # the AI reviewer's answers

    def llm_cache_get(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM llm_cache WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    def llm_cache_put(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO llm_cache (key, value, created_at) VALUES (?, ?, ?)",
                (key, value, self._clock()),
            )

    # the AI reviewer's spending

    def llm_spending(self, *, installation_id: int, repo: str, pr: int, day: str) -> SpendTotals:
        def execute(sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
            return self._read(sql, tuple(args))

        return read_spending(
            execute, "?", installation_id=installation_id, repo=repo, pr=pr, day=day
        )

    def llm_add_spend(
        self,
        *,
        installation_id: int,
        repo: str,
        pr: int,
        day: str,
        spend: Spend,
        limits: SpendLimits | None,
    ) -> bool:
        # BEGIN IMMEDIATE holds the database's one write lock: checks and adds are serialised.
        with self._tx() as db:
            return add_spending(
                _executor(db),
                "?",
                installation_id=installation_id,
                repo=repo,
                pr=pr,
                day=day,
                spend=spend,
                limits=limits,
                now=self._clock(),
            )

    # pull requests' changed files (``openpulls``)

    def record_pull(
        self,
        repo: str,
        pr: int,
        *,
        sha: str,
        title: str,
        paths: Sequence[str],
        judged_overlaps: bool,
    ) -> None:
        with self._tx() as db:
            openpulls.record_pull(
                _executor(db),
                "?",
                repo=repo,
                pr=pr,
                sha=sha,
                title=title,
                paths=paths,
                judged_overlaps=judged_overlaps,
                now=self._clock(),
            )

    def close_pull(self, repo: str, pr: int) -> None:
        with self._tx() as db:
            openpulls.close_pull(_executor(db), "?", repo=repo, pr=pr, now=self._clock())

    def pull_record(self, repo: str, pr: int) -> PullRecord | None:
        return openpulls.pull_record(self._reader(), "?", repo=repo, pr=pr)

    def pull_overlaps(self, repo: str, pr: int) -> tuple[OpenPull, ...]:
        return openpulls.pull_overlaps(self._reader(), "?", repo=repo, pr=pr)

    def save_pull_comment(
        self, repo: str, pr: int, *, body: str, prompt: str, overlaps: str
    ) -> None:
        with self._tx() as db:
            openpulls.save_pull_comment(
                _executor(db),
                "?",
                repo=repo,
                pr=pr,
                body=body,
                prompt=prompt,
                overlaps=overlaps,
                now=self._clock(),
            )

    def _reader(self) -> Execute:
        def execute(sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
            return self._read(sql, tuple(args))

        return execute

    # housekeeping

    def prune(self, *, before: float, runs_before: float, limit: int = PRUNE_BATCH) -> int:
        gone = 0
        for sql, runs in _PRUNE:
            with self._tx() as db:
                gone += db.execute(sql, (runs_before if runs else before, limit)).rowcount
        return gone

    def delivery_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM deliveries")[0][0])

    def has_delivery(self, delivery_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM deliveries WHERE id=?", (delivery_id,)))


def _executor(db: sqlite3.Connection) -> Execute:
    def execute(sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        return list(db.execute(sql, tuple(args)).fetchall())

    return execute
