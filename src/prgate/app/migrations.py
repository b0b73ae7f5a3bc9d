"""The store's schema as a versioned list of migrations, applied when a store opens.

Each backend has its own list. A migration runs inside one transaction together with the row
that records it in ``schema_migrations``, so a database is always at a whole version. On
PostgreSQL the transaction first takes an advisory lock, so replicas that start at the same
time apply each migration once, one after the other. Migrations only ever add: a replica of the
previous version keeps working on a database that a newer one has migrated.

SQLite migrations are written to also upgrade databases made before versions were recorded
(they check what exists instead of assuming).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class SQLiteMigration:
    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class PostgresMigration:
    version: int
    name: str
    statements: tuple[str, ...]


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def _add_column(db: sqlite3.Connection, table: str, column: str, decl: str) -> None:
    if column not in _columns(db, table):
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")


def _sqlite_initial(db: sqlite3.Connection) -> None:
    for sql in (
        """CREATE TABLE IF NOT EXISTS deliveries (
            id TEXT PRIMARY KEY,
            event TEXT NOT NULL,
            action TEXT,
            installation_id INTEGER,
            received_at REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS installations (
            id INTEGER PRIMARY KEY,
            account TEXT NOT NULL,
            action TEXT NOT NULL,
            repos TEXT NOT NULL,
            updated_at REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS jobs (
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
            last_error TEXT)""",
        "CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, run_at)",
        "CREATE INDEX IF NOT EXISTS jobs_key ON jobs (kind, repo, pr, sha, state)",
        """CREATE TABLE IF NOT EXISTS check_runs (
            repo TEXT NOT NULL,
            sha TEXT NOT NULL,
            run_id INTEGER NOT NULL,
            PRIMARY KEY (repo, sha))""",
        """CREATE TABLE IF NOT EXISTS comments (
            repo TEXT NOT NULL,
            pr INTEGER NOT NULL,
            comment_id INTEGER NOT NULL,
            PRIMARY KEY (repo, pr))""",
        """CREATE TABLE IF NOT EXISTS fix_commits (
            repo TEXT NOT NULL,
            sha TEXT NOT NULL,
            pr INTEGER NOT NULL,
            parent TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (repo, sha))""",
        """CREATE TABLE IF NOT EXISTS runs (
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
            reason TEXT)""",
        "CREATE INDEX IF NOT EXISTS runs_pr ON runs (repo, pr, id)",
    ):
        db.execute(sql)


def _sqlite_runs_llm(db: sqlite3.Connection) -> None:
    _add_column(db, "runs", "llm", "TEXT NOT NULL DEFAULT '{}'")


def _sqlite_llm_cache(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
        "created_at REAL NOT NULL)"
    )


def _sqlite_leases(db: sqlite3.Connection) -> None:
    _add_column(db, "jobs", "owner", "TEXT")
    _add_column(db, "jobs", "lease_until", "REAL")
    db.execute(
        "CREATE INDEX IF NOT EXISTS jobs_running ON jobs (lease_until) WHERE state='running'"
    )
    db.execute("CREATE INDEX IF NOT EXISTS jobs_pr ON jobs (repo, pr, state)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, "
        "until REAL NOT NULL)"
    )


#: Indexes that let old records be pruned without reading whole tables (``Store.prune``).
_PRUNE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS deliveries_received ON deliveries (received_at)",
    "CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (updated_at) "
    "WHERE state IN ('done', 'failed', 'superseded')",
    "CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished_at)",
    "CREATE INDEX IF NOT EXISTS llm_cache_created ON llm_cache (created_at)",
)


def _sqlite_prune_indexes(db: sqlite3.Connection) -> None:
    for sql in _PRUNE_INDEXES:
        db.execute(sql)


def _sqlite_run_ledger(db: sqlite3.Connection) -> None:
    _add_column(db, "check_runs", "pr", "INTEGER")
    _add_column(db, "check_runs", "in_progress", "INTEGER NOT NULL DEFAULT 0")
    _add_column(db, "check_runs", "inputs", "TEXT NOT NULL DEFAULT ''")
    for sql in _LEDGER_INDEXES:
        db.execute(sql)


#: Runs still to conclude, by PR; running evaluations by head (one judgement of a commit); the
#: pull requests prgate has seen with a head (the verdict of a commit covers them all).
_LEDGER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS check_runs_open ON check_runs (repo, pr) WHERE in_progress",
    "CREATE INDEX IF NOT EXISTS jobs_running_head ON jobs (repo, sha) WHERE state = 'running'",
    "CREATE INDEX IF NOT EXISTS jobs_head ON jobs (repo, sha)",
    "CREATE INDEX IF NOT EXISTS runs_head ON runs (repo, sha)",
)


#: The AI reviewer's spending: per pull request over all its pushes, and per installation per
#: UTC day (``prgate.llm.budget``). ``{big}``/``{real}`` are the backend's integer and float types.
_SPEND_TABLES = (
    """CREATE TABLE IF NOT EXISTS llm_spend_prs (
        repo TEXT NOT NULL,
        pr {big} NOT NULL,
        input_tokens {big} NOT NULL DEFAULT 0,
        output_tokens {big} NOT NULL DEFAULT 0,
        usd {real} NOT NULL DEFAULT 0,
        requests {big} NOT NULL DEFAULT 0,
        updated_at {real} NOT NULL,
        PRIMARY KEY (repo, pr))""",
    """CREATE TABLE IF NOT EXISTS llm_spend_days (
        installation_id {big} NOT NULL,
        day TEXT NOT NULL,
        input_tokens {big} NOT NULL DEFAULT 0,
        output_tokens {big} NOT NULL DEFAULT 0,
        usd {real} NOT NULL DEFAULT 0,
        requests {big} NOT NULL DEFAULT 0,
        updated_at {real} NOT NULL,
        PRIMARY KEY (installation_id, day))""",
    "CREATE INDEX IF NOT EXISTS llm_spend_prs_updated ON llm_spend_prs (updated_at)",
    "CREATE INDEX IF NOT EXISTS llm_spend_days_updated ON llm_spend_days (updated_at)",
)


def _spend_tables(*, big: str, real: str) -> tuple[str, ...]:
    return tuple(sql.format(big=big, real=real) for sql in _SPEND_TABLES)


def _sqlite_llm_spend(db: sqlite3.Connection) -> None:
    for sql in _spend_tables(big="INTEGER", real="REAL"):
        db.execute(sql)


#: The comments whose ``/prgate`` command was handled: a command runs once per comment, also
#: when a delivery comes again under a new id. Kept for good (a signed delivery can be replayed
#: at any time), like the ids of what prgate made on GitHub.
_COMMANDS_TABLE = """CREATE TABLE IF NOT EXISTS handled_comments (
    comment_id BIGINT PRIMARY KEY,
    repo TEXT NOT NULL,
    handled_at {real} NOT NULL)"""


def _sqlite_handled_comments(db: sqlite3.Connection) -> None:
    db.execute(_COMMANDS_TABLE.format(real="REAL"))


def _sqlite_run_insights(db: sqlite3.Connection) -> None:
    _add_column(db, "runs", "blocking", "TEXT NOT NULL DEFAULT '{}'")
    _add_column(db, "runs", "awaiting_approval", "TEXT NOT NULL DEFAULT '{}'")


#: What the App keeps of each pull request it judged, for the lists of open pull requests that
#: change the same files (``openpulls``). ``is_open`` and ``judged_overlaps`` are 0 or 1 on both
#: backends, so that both run the same statements.
_PULL_TABLES = (
    """CREATE TABLE IF NOT EXISTS pulls (
        repo TEXT NOT NULL,
        pr BIGINT NOT NULL,
        sha TEXT NOT NULL,
        title TEXT NOT NULL,
        is_open INTEGER NOT NULL,
        judged_overlaps INTEGER NOT NULL DEFAULT 0,
        comment_body TEXT NOT NULL DEFAULT '',
        comment_prompt TEXT NOT NULL DEFAULT '',
        comment_overlaps TEXT NOT NULL DEFAULT '',
        updated_at {real} NOT NULL,
        PRIMARY KEY (repo, pr))""",
    """CREATE TABLE IF NOT EXISTS pull_paths (
        repo TEXT NOT NULL,
        pr BIGINT NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (repo, pr, path))""",
    "CREATE INDEX IF NOT EXISTS pull_paths_by_path ON pull_paths (repo, path)",
    "CREATE INDEX IF NOT EXISTS pulls_updated ON pulls (updated_at)",
)


def _pull_tables(*, real: str) -> tuple[str, ...]:
    return tuple(sql.format(real=real) for sql in _PULL_TABLES)


def _sqlite_pulls(db: sqlite3.Connection) -> None:
    for sql in _pull_tables(real="REAL"):
        db.execute(sql)


SQLITE: tuple[SQLiteMigration, ...] = (
    SQLiteMigration(1, "deliveries, installations, jobs, GitHub ids, runs", _sqlite_initial),
    SQLiteMigration(2, "runs keep what the AI reviewer used", _sqlite_runs_llm),
    SQLiteMigration(3, "the AI reviewer's answer cache", _sqlite_llm_cache),
    SQLiteMigration(4, "job leases and named locks", _sqlite_leases),
    SQLiteMigration(5, "indexes for pruning old records", _sqlite_prune_indexes),
    SQLiteMigration(6, "the check-run ledger: the run's PR, state and inputs", _sqlite_run_ledger),
    SQLiteMigration(
        7, "the AI reviewer's spending per PR and per installation day", _sqlite_llm_spend
    ),
    SQLiteMigration(8, "comments whose command was handled", _sqlite_handled_comments),
    SQLiteMigration(
        9, "runs keep blocking findings and those awaiting an approval", _sqlite_run_insights
    ),
    SQLiteMigration(10, "pull requests' changed files, for overlaps", _sqlite_pulls),
)

POSTGRES: tuple[PostgresMigration, ...] = (
    PostgresMigration(
        1,
        "deliveries, installations, jobs with leases, GitHub ids, runs, AI cache, locks",
        (
            """CREATE TABLE deliveries (
                id TEXT PRIMARY KEY,
                event TEXT NOT NULL,
                action TEXT,
                installation_id BIGINT,
                received_at DOUBLE PRECISION NOT NULL)""",
            """CREATE TABLE installations (
                id BIGINT PRIMARY KEY,
                account TEXT NOT NULL,
                action TEXT NOT NULL,
                repos JSONB NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL)""",
            """CREATE TABLE jobs (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                kind TEXT NOT NULL,
                repo TEXT NOT NULL,
                installation_id BIGINT NOT NULL,
                pr BIGINT NOT NULL,
                sha TEXT NOT NULL,
                payload JSONB NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                deferrals INTEGER NOT NULL DEFAULT 0,
                run_at DOUBLE PRECISION NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                last_error TEXT,
                owner TEXT,
                lease_until DOUBLE PRECISION)""",
            # Due queued jobs, oldest first; one queued job per key (coalescing, race-free);
            # at most one running job per PR (a second claim for the PR fails instead).
            "CREATE INDEX jobs_queued ON jobs (run_at, id) WHERE state = 'queued'",
            "CREATE UNIQUE INDEX jobs_queued_key ON jobs (kind, repo, pr, sha) "
            "WHERE state = 'queued' AND kind <> 'explain'",
            "CREATE INDEX jobs_pr ON jobs (repo, pr, state)",
            "CREATE UNIQUE INDEX jobs_running_pr ON jobs (repo, pr) WHERE state = 'running'",
            "CREATE INDEX jobs_running_lease ON jobs (lease_until) WHERE state = 'running'",
            """CREATE TABLE check_runs (
                repo TEXT NOT NULL,
                sha TEXT NOT NULL,
                run_id BIGINT NOT NULL,
                PRIMARY KEY (repo, sha))""",
            """CREATE TABLE comments (
                repo TEXT NOT NULL,
                pr BIGINT NOT NULL,
                comment_id BIGINT NOT NULL,
                PRIMARY KEY (repo, pr))""",
            """CREATE TABLE fix_commits (
                repo TEXT NOT NULL,
                sha TEXT NOT NULL,
                pr BIGINT NOT NULL,
                parent TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (repo, sha))""",
            """CREATE TABLE runs (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                repo TEXT NOT NULL,
                pr BIGINT NOT NULL,
                sha TEXT NOT NULL,
                config_sha TEXT NOT NULL,
                conclusion TEXT NOT NULL,
                counts JSONB NOT NULL,
                started_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION NOT NULL,
                timings JSONB NOT NULL,
                api_calls INTEGER NOT NULL,
                reason TEXT,
                llm JSONB NOT NULL DEFAULT '{}'::jsonb)""",
            "CREATE INDEX runs_pr ON runs (repo, pr, id)",
            """CREATE TABLE llm_cache (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL)""",
            """CREATE TABLE locks (
                name TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                until DOUBLE PRECISION NOT NULL)""",
        ),
    ),
    PostgresMigration(2, "indexes for pruning old records", _PRUNE_INDEXES),
    PostgresMigration(
        3,
        "the check-run ledger: the run's PR, state and inputs",
        (
            "ALTER TABLE check_runs ADD COLUMN IF NOT EXISTS pr BIGINT",
            "ALTER TABLE check_runs ADD COLUMN IF NOT EXISTS in_progress BOOLEAN NOT NULL "
            "DEFAULT FALSE",
            "ALTER TABLE check_runs ADD COLUMN IF NOT EXISTS inputs TEXT NOT NULL DEFAULT ''",
            *_LEDGER_INDEXES,
        ),
    ),
    PostgresMigration(
        4,
        "the AI reviewer's spending per PR and per installation day",
        _spend_tables(big="BIGINT", real="DOUBLE PRECISION"),
    ),
    PostgresMigration(
        5,
        "comments whose command was handled",
        (_COMMANDS_TABLE.format(real="DOUBLE PRECISION"),),
    ),
    PostgresMigration(
        6,
        "runs keep blocking findings and those awaiting an approval",
        (
            "ALTER TABLE runs ADD COLUMN IF NOT EXISTS blocking JSONB NOT NULL DEFAULT '{}'::jsonb",
            "ALTER TABLE runs ADD COLUMN IF NOT EXISTS awaiting_approval JSONB NOT NULL "
            "DEFAULT '{}'::jsonb",
        ),
    ),
    PostgresMigration(
        7, "pull requests' changed files, for overlaps", _pull_tables(real="DOUBLE PRECISION")
    ),
)

_SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at REAL NOT NULL)"
)
_POSTGRES_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)
#: The advisory lock key that serialises migrations on one PostgreSQL database ("prgate").
ADVISORY_KEY = 0x70726761746531


def migrate_sqlite(db: sqlite3.Connection) -> list[int]:
    """Apply the missing SQLite migrations (``db`` in autocommit mode); the versions applied."""
    applied: list[int] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(_SQLITE_TABLE)
        done = {int(r[0]) for r in db.execute("SELECT version FROM schema_migrations")}
        for m in SQLITE:
            if m.version in done:
                continue
            m.apply(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (m.version, m.name, time.time()),
            )
            applied.append(m.version)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return applied


def migrate_postgres(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    """Apply the missing PostgreSQL migrations in one transaction under an advisory lock."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_KEY,))
        conn.execute(_POSTGRES_TABLE)
        done = {int(str(r[0])) for r in conn.execute("SELECT version FROM schema_migrations")}
        for m in POSTGRES:
            if m.version in done:
                continue
            for sql in m.statements:
                conn.execute(sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                (m.version, m.name, time.time()),
            )
            applied.append(m.version)
    return applied
