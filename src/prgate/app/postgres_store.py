"""The :class:`~prgate.app.store.Store` on PostgreSQL (psycopg 3 and a connection pool).

Any number of ``prgate serve`` replicas share one database:

- a delivery is recorded once (its id is the primary key; a redelivery changes nothing);
- one queued job per (kind, repository, PR, sha) is kept by a unique partial index, so two
  replicas coalescing the same request at once still make one job;
- a claim locks its row with ``FOR UPDATE SKIP LOCKED`` (two replicas never take the same job),
  and a unique partial index keeps at most one running job per PR;
- a running job belongs to its owner until its lease runs out; then any replica's next claim
  takes it over. Every change a worker makes to its job names the owner (fencing).

Transactions are short; every statement has a time limit. Errors become :class:`StoreError` in
plain words, never with the URL's password.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg import errors as pgerrors
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from prgate.app import openpulls
from prgate.app.migrations import migrate_postgres
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
    redact_url,
    run_from_row,
    runs_since_statement,
)
from prgate.llm.budget import Spend, SpendLimits, SpendTotals
from prgate.model import OpenPull

log = logging.getLogger("prgate.store")
_PRUNE = prune_statements("%s")
_PRS_SEEN = prs_seen_statement("%s")

Conn = psycopg.Connection[tuple[Any, ...]]
T = TypeVar("T")

_RUNNING = JobState.RUNNING.value
_QUEUED = JobState.QUEUED.value


class _RaceLost(StoreError):
    """Another replica's transaction kept winning a race on a unique index."""


class _Redelivered(Exception):
    """The delivery was already recorded: the step is rolled back."""


#: Tries of a claim that lost a race for a PR to another replica's claim.
_CLAIM_TRIES = 3


class PostgresStore:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 6,
        connect_timeout: float = 5.0,
        statement_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._where = redact_url(url)
        self._secrets = _secrets_of(url)
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error:
            raise StoreUnavailable(
                f"PRGATE_DATABASE_URL ({self._where}) is not a PostgreSQL URL prgate can read: "
                "write postgresql://user:password@host:5432/dbname"
            ) from None
        session: dict[str, Any] = {
            "connect_timeout": max(2, round(connect_timeout)),
            "options": f"-c statement_timeout={int(statement_timeout * 1000)} "
            f"-c lock_timeout={int(statement_timeout * 1000)} "
            "-c idle_in_transaction_session_timeout=60000",
            "application_name": "prgate",
        }
        try:
            # One connection first: it says plainly why the database cannot be used (refused,
            # unknown database, bad password), and brings the schema up to date.
            with psycopg.connect(url, autocommit=True, **session) as conn:
                migrate_postgres(conn)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"the PostgreSQL database at {self._where} cannot be used ({self._clean(exc)})"
            ) from None
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": False, **session},
            timeout=connect_timeout + statement_timeout,
            open=False,
            name="prgate",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout + 1)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreUnavailable(
                f"the PostgreSQL database at {self._where} cannot be used ({self._clean(exc)})"
            ) from None

    # plumbing

    def _clean(self, exc: BaseException) -> str:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, PoolTimeout):
            text = "no connection could be made in time; is the server up and reachable?"
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def _conn(self) -> Iterator[Conn]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreError(f"the database is unavailable ({self._clean(exc)})") from None

    def _run(
        self,
        work: Callable[[Conn], T],
        *,
        what: str,
        pipeline: bool = False,
        races: int = 0,
    ) -> T:
        """Run ``work`` in one transaction. Once more if the connection broke (after checking
        the pool's idle connections: a restarted server breaks them all), and up to ``races``
        more times if it lost a race on a unique index to another replica's transaction."""
        broken = raced = 0
        while True:
            try:
                with self._conn() as conn:
                    if pipeline:
                        with conn.pipeline(), conn.transaction():
                            return work(conn)
                    with conn.transaction():
                        return work(conn)
            except pgerrors.UniqueViolation as exc:
                if raced >= races:
                    raise _RaceLost(f"the database could not {what} ({self._clean(exc)})") from None
                raced += 1
                log.debug("lost a race to another replica (%s); trying again", what)
            except psycopg.OperationalError as exc:
                if broken or isinstance(exc, pgerrors.QueryCanceled):
                    raise StoreError(
                        f"the database could not {what} ({self._clean(exc)})"
                    ) from None
                broken += 1
                self._pool.check()
            except psycopg.Error as exc:
                raise StoreError(f"the database could not {what} ({self._clean(exc)})") from None

    def _read(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        def go(conn: Conn) -> list[tuple[Any, ...]]:
            return conn.execute(sql.encode(), args).fetchall()

        return self._run(go, what="be read")

    def _write(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> int:
        def go(conn: Conn) -> int:
            return conn.execute(sql.encode(), args).rowcount

        return self._run(go, what="record a change")

    def ping(self) -> None:
        self._read("SELECT 1")

    def close(self) -> None:
        self._pool.close()

    # deliveries and installations

    def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool:
        # On the hot path: the statements go out together (pipeline mode), the answer is read
        # once before the commit, and a redelivery rolls the whole step back.
        def go(conn: Conn) -> bool:
            cur = conn.execute(
                b"INSERT INTO deliveries (id, event, action, installation_id, received_at) "
                b"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING 1",
                (
                    delivery.id,
                    delivery.event,
                    delivery.action,
                    delivery.installation_id,
                    delivery.received_at,
                ),
            )
            for spec in jobs:
                self._enqueue(conn, spec)
            if cur.fetchone() is None:
                raise _Redelivered
            return True

        try:
            return self._run(go, what="record the delivery", pipeline=True)
        except _Redelivered:
            return False

    def accept_many(self, batch: Sequence[tuple[Delivery, Sequence[JobSpec]]]) -> list[bool]:
        # Group commit: the deliveries go in with one statement, whose answer says which ones
        # are new; then the jobs of those, all in one transaction (one flush to disk).
        if not batch:
            return []

        def go(conn: Conn) -> list[bool]:
            rows = conn.execute(
                b"INSERT INTO deliveries (id, event, action, installation_id, received_at) "
                b"SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[], "
                b"%s::double precision[]) ON CONFLICT (id) DO NOTHING RETURNING id",
                (
                    [d.id for d, _ in batch],
                    [d.event for d, _ in batch],
                    [d.action for d, _ in batch],
                    [d.installation_id for d, _ in batch],
                    [d.received_at for d, _ in batch],
                ),
                prepare=False,
            ).fetchall()
            new = {str(r[0]) for r in rows}
            fresh: list[bool] = []
            specs: list[JobSpec] = []
            for delivery, jobs in batch:
                is_new = delivery.id in new
                new.discard(delivery.id)  # a second copy in the same batch is a redelivery
                fresh.append(is_new)
                if is_new:
                    specs.extend(jobs)
            if _one_evaluation_per_pr(specs):
                self._enqueue_evaluations(conn, specs)
                return fresh
            # The per-PR locks in one order, whatever the order of the deliveries: two replicas'
            # batches never wait for each other in a circle.
            for repo, pr in sorted(
                {(j.repo, j.pr) for j in specs if j.kind is JobKind.EVALUATE and j.sha}
            ):
                conn.execute(b"SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))", (repo, pr))
            for spec in specs:
                self._enqueue(conn, spec, locked=True)
            return fresh

        return self._run(go, what="record the deliveries", pipeline=True)

    def _enqueue_evaluations(self, conn: Conn, specs: Sequence[JobSpec]) -> None:
        """Queue evaluations of distinct PRs, each of a known head, with three statements
        whatever their number: what :meth:`_enqueue` does for each, done for all at once (no
        two of them touch the same job, so the order between them does not matter).

        These statements are never prepared: a prepared plan does not know how many rows the
        arrays hold and scans the whole table; a plan made for the arrays at hand uses the
        indexes."""
        ordered = sorted(specs, key=lambda j: (j.repo, j.pr))
        repos = [j.repo for j in ordered]
        prs = [j.pr for j in ordered]
        now = self._clock()
        conn.execute(
            b"SELECT pg_advisory_xact_lock(hashtextextended(r, p)) "
            b"FROM unnest(%s::text[], %s::bigint[]) WITH ORDINALITY AS t(r, p, i) ORDER BY i",
            (repos, prs),
            prepare=False,
        )
        conn.execute(
            # One index lookup per PR (OFFSET 0 keeps the planner from turning the lookups
            # into one scan of every queued evaluation).
            b"UPDATE jobs SET state=%s, updated_at=%s WHERE id IN (SELECT j.id FROM "
            b"unnest(%s::text[], %s::bigint[], %s::text[]) AS n(repo, pr, sha) CROSS JOIN "
            b"LATERAL (SELECT id FROM jobs WHERE kind=%s AND repo=n.repo AND pr=n.pr "
            b"AND sha<>'' AND sha<>n.sha AND state=%s OFFSET 0) AS j)",
            (
                JobState.SUPERSEDED.value,
                now,
                repos,
                prs,
                [j.sha for j in ordered],
                JobKind.EVALUATE.value,
                _QUEUED,
            ),
            prepare=False,
        )
        conn.execute(
            b"INSERT INTO jobs (kind, repo, installation_id, pr, sha, payload, state, "
            b"run_at, created_at, updated_at) SELECT %s, repo, inst, pr, sha, payload, %s, %s, "
            b"%s, %s FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::text[], "
            b"%s::jsonb[]) WITH ORDINALITY AS n(repo, inst, pr, sha, payload, i) ORDER BY i "
            b"ON CONFLICT (kind, repo, pr, sha) WHERE state = 'queued' AND kind <> 'explain' "
            b"DO UPDATE SET payload = jobs.payload || excluded.payload, "
            b"updated_at = excluded.updated_at",
            (
                JobKind.EVALUATE.value,
                _QUEUED,
                now,
                now,
                now,
                repos,
                [j.installation_id for j in ordered],
                prs,
                [j.sha for j in ordered],
                [Jsonb(dict(j.payload)) for j in ordered],
            ),
            prepare=False,
        )

    def has_delivery(self, delivery_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM deliveries WHERE id=%s", (delivery_id,)))

    def delivery_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM deliveries")[0][0])

    def record_installation(
        self, installation_id: int, *, account: str, action: str, repos: Sequence[str]
    ) -> None:
        self._write(
            "INSERT INTO installations (id, account, action, repos, updated_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET account=excluded.account, "
            "action=excluded.action, repos=excluded.repos, updated_at=excluded.updated_at",
            (installation_id, account, action, Jsonb(list(repos)), self._clock()),
        )

    def installations(self) -> list[tuple[int, str, str]]:
        rows = self._read("SELECT id, account, action FROM installations ORDER BY id")
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    # jobs

    def enqueue(self, spec: JobSpec) -> int:
        def go(conn: Conn) -> int:
            row = self._enqueue(conn, spec).fetchone()
            assert row is not None
            return int(row[0])

        return self._run(go, what="queue the job")

    def _enqueue(
        self, conn: Conn, spec: JobSpec, *, locked: bool = False
    ) -> psycopg.Cursor[tuple[Any, ...]]:
        """Send the statements that queue ``spec``; the cursor yields the job's id. ``locked``:
        the transaction already holds the PR's lock."""
        now = self._clock()
        if spec.kind is JobKind.EVALUATE and spec.sha:
            # One PR's evaluations are queued one transaction at a time, so that a newer head
            # always supersedes the older ones, whichever replica records which.
            if not locked:
                conn.execute(
                    b"SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))",
                    (spec.repo, spec.pr),
                )
            conn.execute(
                b"UPDATE jobs SET state=%s, updated_at=%s WHERE kind=%s AND repo=%s AND pr=%s "
                b"AND sha<>'' AND sha<>%s AND state=%s",
                (
                    JobState.SUPERSEDED.value,
                    now,
                    spec.kind.value,
                    spec.repo,
                    spec.pr,
                    spec.sha,
                    _QUEUED,
                ),
            )
        args = (
            spec.kind.value,
            spec.repo,
            spec.installation_id,
            spec.pr,
            spec.sha,
            Jsonb(dict(spec.payload)),
            _QUEUED,
            now,
            now,
            now,
        )
        if spec.kind is JobKind.EXPLAIN:  # every question gets its own answer
            return conn.execute(
                b"INSERT INTO jobs (kind, repo, installation_id, pr, sha, payload, state, "
                b"run_at, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                b"RETURNING id",
                args,
            )
        return conn.execute(
            b"INSERT INTO jobs (kind, repo, installation_id, pr, sha, payload, state, "
            b"run_at, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            b"ON CONFLICT (kind, repo, pr, sha) WHERE state = 'queued' AND kind <> 'explain' "
            b"DO UPDATE SET payload = jobs.payload || excluded.payload, "
            b"updated_at = excluded.updated_at RETURNING id",
            args,
        )

    def claim(self, *, now: float, owner: str, lease: float) -> Job | None:
        def go(conn: Conn) -> Job | None:
            # A job whose worker stopped renewing its lease comes first: it is the oldest work.
            row = conn.execute(
                b"UPDATE jobs SET owner=%(owner)s, lease_until=%(until)s, attempts=attempts+1, "
                b"updated_at=%(now)s WHERE id = (SELECT id FROM jobs WHERE state='running' "
                b"AND COALESCE(lease_until, 0) <= %(now)s ORDER BY lease_until LIMIT 1 "
                b"FOR UPDATE SKIP LOCKED) AND state='running' AND COALESCE(lease_until, 0) <= %(now)s "
                b"RETURNING " + JOB_COLUMNS.encode(),
                {"owner": owner, "until": now + lease, "now": now},
            ).fetchone()
            if row is None:
                row = conn.execute(
                    b"UPDATE jobs SET state='running', owner=%(owner)s, lease_until=%(until)s, "
                    b"attempts=attempts+1, updated_at=%(now)s WHERE id = (SELECT j.id FROM jobs j "
                    b"WHERE j.state='queued' AND j.run_at <= %(now)s AND NOT EXISTS (SELECT 1 "
                    b"FROM jobs r WHERE r.state='running' AND r.repo=j.repo AND (r.pr=j.pr OR "
                    b"(j.kind='evaluate' AND r.kind='evaluate' AND j.sha<>'' AND r.sha=j.sha))) "
                    b"ORDER BY j.run_at, j.id LIMIT 1 FOR UPDATE SKIP LOCKED) AND state='queued' "
                    b"RETURNING " + JOB_COLUMNS.encode(),
                    {"owner": owner, "until": now + lease, "now": now},
                ).fetchone()
            return None if row is None else job_from_row(row)

        try:
            # Another replica may claim a job of the same PR at the same moment: look again.
            return self._run(go, what="hand out a job", races=_CLAIM_TRIES)
        except _RaceLost:
            return None

    def heartbeat(self, job_id: int, *, owner: str, until: float) -> bool:
        return (
            self._write(
                "UPDATE jobs SET lease_until=GREATEST(COALESCE(lease_until, 0), %s) "
                "WHERE id=%s AND owner=%s AND state='running'",
                (until, job_id, owner),
            )
            > 0
        )

    def owns(self, job_id: int, *, owner: str, now: float | None = None) -> bool:
        at = self._clock() if now is None else now
        rows = self._read(
            "SELECT 1 FROM jobs WHERE id=%s AND owner=%s AND state='running' AND lease_until>%s",
            (job_id, owner, at),
        )
        return bool(rows)

    def finish(self, job_id: int, *, state: JobState, error: str | None = None, owner: str) -> bool:
        return (
            self._write(
                "UPDATE jobs SET state=%s, last_error=%s, updated_at=%s, owner=NULL, "
                "lease_until=NULL WHERE id=%s AND owner=%s AND state='running'",
                (state.value, error, self._clock(), job_id, owner),
            )
            > 0
        )

    def defer(
        self, job_id: int, *, run_at: float, error: str, rate_limited: bool, owner: str
    ) -> bool:
        n = 1 if rate_limited else 0
        return self._requeue(
            job_id, owner=owner, run_at=run_at, error=error, deferrals=n, uncount=n
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
        now = self._clock()

        def go(conn: Conn) -> bool:
            row = conn.execute(
                b"SELECT kind, repo, pr, sha, payload FROM jobs WHERE id=%s AND owner=%s "
                b"AND state='running' FOR UPDATE",
                (job_id, owner),
            ).fetchone()
            if row is None:
                return False
            twin = None
            if row[0] != JobKind.EXPLAIN.value:
                # A request for the same key queued while this job ran: fold this one into it.
                twin = conn.execute(
                    b"UPDATE jobs SET payload = %s || payload, run_at = GREATEST(run_at, %s), "
                    b"updated_at = %s WHERE kind=%s AND repo=%s AND pr=%s AND sha=%s "
                    b"AND state='queued' RETURNING id",
                    (Jsonb(row[4]), run_at or 0.0, now, row[0], row[1], row[2], row[3]),
                ).fetchone()
            if twin is not None:
                conn.execute(
                    b"UPDATE jobs SET state=%s, owner=NULL, lease_until=NULL, updated_at=%s, "
                    b"last_error=%s WHERE id=%s",
                    (JobState.SUPERSEDED.value, now, f"merged into job {twin[0]}", job_id),
                )
                return True
            conn.execute(
                b"UPDATE jobs SET state='queued', owner=NULL, lease_until=NULL, "
                b"run_at=COALESCE(%s, run_at), last_error=COALESCE(%s, last_error), "
                b"updated_at=%s, deferrals=deferrals+%s, attempts=GREATEST(attempts-%s, 0) "
                b"WHERE id=%s",
                (run_at, error, now, deferrals, uncount, job_id),
            )
            return True

        # A request for the same key queued at the same moment: the second try folds into it.
        return self._run(go, what="put the job back in the queue", races=1)

    def recover(self) -> int:
        """Nothing to do here: on PostgreSQL a stopped worker's job is taken over by the next
        claim once its lease runs out, and the other replicas' live jobs are never touched."""
        return 0

    def job(self, job_id: int) -> Job | None:
        rows = self._read(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id=%s", (job_id,))
        return job_from_row(rows[0]) if rows else None

    def jobs(self) -> list[Job]:
        return [job_from_row(r) for r in self._read(f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY id")]

    def counts(self) -> dict[str, int]:
        rows = self._read("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        out = {s.value: 0 for s in JobState}
        out.update({str(r[0]): int(r[1]) for r in rows})
        return out

    def queue_depth(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM jobs WHERE state='queued'")[0][0])

    def next_due(self) -> float | None:
        rows = self._read("SELECT MIN(run_at) FROM jobs WHERE state='queued'")
        value = rows[0][0] if rows else None
        return float(value) if value is not None else None

    def try_lock(self, name: str, *, owner: str, ttl: float, now: float) -> bool:
        return (
            self._write(
                "INSERT INTO locks (name, owner, until) VALUES (%s, %s, %s) ON CONFLICT (name) "
                "DO UPDATE SET owner=excluded.owner, until=excluded.until "
                "WHERE locks.owner=excluded.owner OR locks.until<=%s",
                (name, owner, now + ttl, now),
            )
            > 0
        )

    # what prgate created on GitHub

    def check_run_id(self, repo: str, sha: str) -> int | None:
        rows = self._read("SELECT run_id FROM check_runs WHERE repo=%s AND sha=%s", (repo, sha))
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
        self._write(
            "INSERT INTO check_runs (repo, sha, run_id, pr, in_progress, inputs) VALUES "
            "(%(repo)s, %(sha)s, %(run)s, %(pr)s, COALESCE(%(open)s, FALSE), "
            "COALESCE(%(inputs)s, '')) ON CONFLICT (repo, sha) DO UPDATE SET "
            "run_id=excluded.run_id, pr=COALESCE(%(pr)s, check_runs.pr), "
            "in_progress=COALESCE(%(open)s, check_runs.in_progress), "
            "inputs=COALESCE(%(inputs)s, check_runs.inputs)",
            {
                "repo": repo,
                "sha": sha,
                "run": run_id,
                "pr": pr,
                "open": in_progress,
                "inputs": inputs,
            },
        )

    def check_run(self, repo: str, sha: str) -> CheckRunEntry | None:
        rows = self._read(
            f"SELECT {CHECK_RUN_COLUMNS} FROM check_runs WHERE repo=%s AND sha=%s", (repo, sha)
        )
        return check_run_from_row(rows[0]) if rows else None

    def check_runs_in_progress(self, repo: str, pr: int) -> list[CheckRunEntry]:
        rows = self._read(
            f"SELECT {CHECK_RUN_COLUMNS} FROM check_runs WHERE repo=%s AND pr=%s AND in_progress "
            "ORDER BY sha",
            (repo, pr),
        )
        return [check_run_from_row(r) for r in rows]

    def prs_seen_at(self, repo: str, sha: str) -> list[int]:
        rows = self._read(_PRS_SEEN, (repo, sha, repo, sha))
        return sorted({int(r[0]) for r in rows})

    def comment_id(self, repo: str, pr: int) -> int | None:
        rows = self._read("SELECT comment_id FROM comments WHERE repo=%s AND pr=%s", (repo, pr))
        return int(rows[0][0]) if rows else None

    def save_comment(self, repo: str, pr: int, comment_id: int) -> None:
        self._write(
            "INSERT INTO comments (repo, pr, comment_id) VALUES (%s, %s, %s) "
            "ON CONFLICT (repo, pr) DO UPDATE SET comment_id=excluded.comment_id",
            (repo, pr, comment_id),
        )

    def save_fix_commit(self, repo: str, pr: int, *, commit: str, parent: str) -> None:
        self._write(
            "INSERT INTO fix_commits (repo, sha, pr, parent, created_at) VALUES (%s, %s, %s, %s, "
            "%s) ON CONFLICT (repo, sha) DO UPDATE SET pr=excluded.pr, parent=excluded.parent, "
            "created_at=excluded.created_at",
            (repo, commit, pr, parent, self._clock()),
        )

    def is_fix_commit(self, repo: str, sha: str) -> bool:
        return bool(self._read("SELECT 1 FROM fix_commits WHERE repo=%s AND sha=%s", (repo, sha)))

    # comment commands

    def command_handled(self, comment_id: int) -> bool:
        return bool(self._read("SELECT 1 FROM handled_comments WHERE comment_id=%s", (comment_id,)))

    def record_command(self, repo: str, comment_id: int) -> None:
        self._write(
            "INSERT INTO handled_comments (comment_id, repo, handled_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (comment_id) DO NOTHING",
            (comment_id, repo, self._clock()),
        )

    # runs

    def record_run(self, run: RunRecord) -> None:
        self._write(
            f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s)",
            (
                run.repo,
                run.pr,
                run.sha,
                run.config_sha,
                run.conclusion,
                Jsonb(dict(run.counts)),
                run.started_at,
                run.finished_at,
                Jsonb(dict(run.timings)),
                run.api_calls,
                run.reason,
                Jsonb(dict(run.llm)),
                Jsonb(dict(run.blocking)),
                Jsonb(dict(run.awaiting_approval)),
            ),
        )

    def runs(self, *, repo: str | None = None, limit: int = 100) -> list[RunRecord]:
        sql = f"SELECT {RUN_COLUMNS} FROM runs"
        args: list[Any] = []
        if repo is not None:
            sql += " WHERE repo=%s"
            args.append(repo)
        sql += " ORDER BY id DESC LIMIT %s"
        args.append(limit)
        return [run_from_row(r) for r in self._read(sql, args)]

    def last_run(self, repo: str, pr: int) -> RunRecord | None:
        rows = self._read(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE repo=%s AND pr=%s ORDER BY id DESC LIMIT 1",
            (repo, pr),
        )
        return run_from_row(rows[0]) if rows else None

    def runs_since(
        self, since: float, *, repo: str | None = None, limit: int = 100_000
    ) -> list[RunRecord]:
        args = (since, repo, limit) if repo is not None else (since, limit)
        sql = runs_since_statement("%s", by_repo=repo is not None)
        return [run_from_row(r) for r in self._read(sql, args)]

    def fix_commits(self, *, repo: str | None = None) -> list[FixCommit]:
        sql = fix_commits_statement("%s", by_repo=repo is not None)
        rows = self._read(sql, (repo,) if repo is not None else ())
        return [fix_commit_from_row(r) for r in rows]

    # the AI reviewer's answers

    def llm_cache_get(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM llm_cache WHERE key=%s", (key,))
        return str(rows[0][0]) if rows else None

    def llm_cache_put(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO llm_cache (key, value, created_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value=excluded.value, created_at=excluded.created_at",
            (key, value, self._clock()),
        )

    # the AI reviewer's spending

    def llm_spending(self, *, installation_id: int, repo: str, pr: int, day: str) -> SpendTotals:
        def go(conn: Conn) -> SpendTotals:
            return read_spending(
                _executor(conn), "%s", installation_id=installation_id, repo=repo, pr=pr, day=day
            )

        return self._run(go, what="be read")

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
        # The rows are locked (FOR UPDATE) while the limits are checked: replicas spending for
        # one installation at once take turns.
        def go(conn: Conn) -> bool:
            return add_spending(
                _executor(conn),
                "%s",
                installation_id=installation_id,
                repo=repo,
                pr=pr,
                day=day,
                spend=spend,
                limits=limits,
                now=self._clock(),
                lock=" FOR UPDATE",
            )

        return self._run(go, what="record the AI reviewer's spending")

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
        def go(conn: Conn) -> None:
            openpulls.record_pull(
                _executor(conn),
                "%s",
                repo=repo,
                pr=pr,
                sha=sha,
                title=title,
                paths=paths,
                judged_overlaps=judged_overlaps,
                now=self._clock(),
            )

        self._run(go, what="record a pull request's files", races=2)

    def close_pull(self, repo: str, pr: int) -> None:
        def go(conn: Conn) -> None:
            openpulls.close_pull(_executor(conn), "%s", repo=repo, pr=pr, now=self._clock())

        self._run(go, what="record a closed pull request")

    def pull_record(self, repo: str, pr: int) -> PullRecord | None:
        def go(conn: Conn) -> PullRecord | None:
            return openpulls.pull_record(_executor(conn), "%s", repo=repo, pr=pr)

        return self._run(go, what="be read")

    def pull_overlaps(self, repo: str, pr: int) -> tuple[OpenPull, ...]:
        def go(conn: Conn) -> tuple[OpenPull, ...]:
            return openpulls.pull_overlaps(_executor(conn), "%s", repo=repo, pr=pr)

        return self._run(go, what="be read")

    def save_pull_comment(
        self, repo: str, pr: int, *, body: str, prompt: str, overlaps: str
    ) -> None:
        def go(conn: Conn) -> None:
            openpulls.save_pull_comment(
                _executor(conn),
                "%s",
                repo=repo,
                pr=pr,
                body=body,
                prompt=prompt,
                overlaps=overlaps,
                now=self._clock(),
            )

        self._run(go, what="record a comment")

    # housekeeping

    def prune(self, *, before: float, runs_before: float, limit: int = PRUNE_BATCH) -> int:
        return sum(
            self._write(sql, (runs_before if runs else before, limit)) for sql, runs in _PRUNE
        )


def _one_evaluation_per_pr(specs: Sequence[JobSpec]) -> bool:
    """Whether ``specs`` are evaluations of known heads, at most one per PR (the common batch:
    one ``pull_request`` delivery per PR)."""
    seen: set[tuple[str, int]] = set()
    for spec in specs:
        key = (spec.repo, spec.pr)
        if spec.kind is not JobKind.EVALUATE or not spec.sha or key in seen:
            return False
        seen.add(key)
    return True


def _secrets_of(url: str) -> list[str]:
    """The password in ``url`` (as written and decoded), to keep it out of any message."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        info = {}
    found = {str(info["password"])} if info.get("password") else set()
    try:
        raw = urlsplit(url).password
    except ValueError:
        raw = None
    if raw:
        found.add(raw)
    return sorted((s for s in found if s), key=len, reverse=True)


def _executor(conn: Conn) -> Execute:
    def execute(sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        cur = conn.execute(sql.encode(), tuple(args))
        return cur.fetchall() if cur.description is not None else []

    return execute
