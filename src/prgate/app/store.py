"""What the App keeps: deliveries, jobs, runs, and the ids of what it created on GitHub.

The App talks to a :class:`Store`; ``sqlite_store`` implements it on SQLite (one serving process)
and ``postgres_store`` on PostgreSQL (any number of replicas on one database). :func:`open_store`
picks one from ``PRGATE_DATABASE_URL``. Jobs are keyed by (kind, repository, PR, head sha): a job
already queued for the same key absorbs new requests for it (coalescing).

A worker holds a job it claimed through a *lease*: its owner id and a time until which the job is
its own. The worker renews the lease while it works; a job whose lease ran out (its worker died)
is taken over by the next claim. Every change a worker makes to its job names the owner, and takes
effect only while that owner still holds the job (fencing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlsplit

from prgate.app import openpulls
from prgate.app.openpulls import OpenPulls
from prgate.errors import PrgateError
from prgate.llm.budget import Spend, SpendLimits, SpendTotals


class JobKind(StrEnum):
    EVALUATE = "evaluate"
    FIX = "fix"
    EXPLAIN = "explain"
    #: The ``/prgate`` commands of a PR's comments, one entry per comment (see ``commands``).
    COMMAND = "command"
    #: A merge queue's group: judge its head commit by its target branch's rules (``mergegroup``).
    #: Its ``pr`` is the pull request the group was made for (0 when the group does not say).
    MERGE_GROUP = "merge_group"
    #: How the rules a pull request proposes would have judged the merged ones (``backtesting``).
    BACKTEST = "backtest"
    #: Show a PR's comment again with a new list of the open PRs that change the same files
    #: (see ``coordinate``).
    REFRESH = "refresh"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class JobSpec:
    """A job to enqueue. ``sha`` may be empty when the event does not name a commit."""

    kind: JobKind
    repo: str
    installation_id: int
    pr: int
    sha: str = ""
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    id: int
    kind: JobKind
    repo: str
    installation_id: int
    pr: int
    sha: str
    payload: Mapping[str, Any]
    state: JobState
    #: How many times a worker started this job (1 on the first run).
    attempts: int
    #: How many times it was put back because GitHub's rate limit was reached.
    deferrals: int = 0
    last_error: str | None = None
    #: Who holds the job while it runs (a worker pool's owner id); ``None`` when not running.
    owner: str | None = None
    #: Until when (epoch seconds) the owner holds it, unless it renews the lease.
    lease_until: float | None = None


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    action: str | None
    installation_id: int | None
    received_at: float


@dataclass(frozen=True)
class RunRecord:
    """One evaluation, kept for later analysis."""

    repo: str
    pr: int
    sha: str
    config_sha: str
    conclusion: str
    counts: Mapping[str, int]
    started_at: float
    finished_at: float
    #: Seconds spent on each step (fetch, config, evaluate, publish).
    timings: Mapping[str, float] = field(default_factory=dict)
    api_calls: int = 0
    reason: str | None = None
    #: What the AI reviewer used: ``requests``, ``cached``, ``input_tokens``, ``output_tokens``,
    #: ``usd`` (estimated cost). Empty when no ``llm`` rule ran.
    llm: Mapping[str, float] = field(default_factory=dict)
    #: Findings at level ``error`` (the ones that block), by rule; ``counts`` has them all.
    blocking: Mapping[str, int] = field(default_factory=dict)
    #: Findings an approving review would lift (``paths`` rules with ``approvers``), by rule.
    awaiting_approval: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FixCommit:
    """A commit prgate pushed with fixes (``Apply fixes``, ``/prgate fix``) onto ``parent``."""

    repo: str
    pr: int
    sha: str
    parent: str
    created_at: float


@dataclass(frozen=True)
class CheckRunEntry:
    """What the App knows of the ``prgate`` check run it made on a commit (the run ledger)."""

    sha: str
    run_id: int
    #: The pull request whose job started the run; ``None`` when not known.
    pr: int | None = None
    #: Started and not concluded yet, as far as prgate knows: a run prgate must still conclude.
    in_progress: bool = False
    #: The digest of what the run's verdict judged (the head's inputs); empty when the run was
    #: not concluded with a verdict (in progress, given up, superseded).
    inputs: str = ""


class StoreError(Exception):
    """The store could not do what was asked (the database is unavailable, full, locked)."""


class StoreUnavailable(StoreError, PrgateError):
    """The store cannot be opened: a URL prgate cannot use, a server it cannot reach, a file it
    cannot create. Raised at start-up only; ``prgate serve`` prints it and stops."""


class LeaseLost(Exception):
    """The job was taken over (or released) while it ran: its worker must not publish anything."""


#: How long the App keeps deliveries, finished jobs and cached AI answers, and run records.
KEEP_RECORDS = 30 * 86400.0
KEEP_RUNS = 180 * 86400.0
#: Rows of each kind deleted per statement, so that pruning never holds the store for long.
PRUNE_BATCH = 2000


class Store(OpenPulls, Protocol):
    def ping(self) -> None:
        """Raise :class:`StoreError` when the store cannot be used."""

    def accept(self, delivery: Delivery, jobs: Sequence[JobSpec]) -> bool:
        """Record ``delivery`` and enqueue its jobs in one step.

        ``False`` (and nothing enqueued) when a delivery with that id was already recorded.
        """

    def accept_many(self, batch: Sequence[tuple[Delivery, Sequence[JobSpec]]]) -> list[bool]:
        """:meth:`accept` for each (delivery, jobs) of ``batch``, in order, in one transaction
        (group commit): one answer per delivery, ``False`` for one already recorded (also by an
        earlier delivery of the same batch). All or nothing: on :class:`StoreError` nothing
        of the batch is recorded."""

    def record_installation(
        self, installation_id: int, *, account: str, action: str, repos: Sequence[str]
    ) -> None: ...

    def enqueue(self, spec: JobSpec) -> int: ...

    def claim(self, *, now: float, owner: str, lease: float) -> Job | None:
        """Hand ``owner`` a job until ``now + lease``: a running job whose lease ran out (its
        worker died), else the oldest due queued job whose PR has no job running (nor, for an
        evaluation of a known head, an evaluation of the same head running: one judgement of a
        commit at a time); ``None`` when there is none. Counts an attempt."""

    def heartbeat(self, job_id: int, *, owner: str, until: float) -> bool:
        """Extend ``owner``'s lease to ``until``; ``False`` when the job is no longer its own."""

    def owns(self, job_id: int, *, owner: str, now: float | None = None) -> bool:
        """Whether ``owner`` still holds the job with a lease that has not run out (at ``now``,
        the store's clock by default). A job checks this right before it writes to GitHub."""

    def finish(self, job_id: int, *, state: JobState, error: str | None = None, owner: str) -> bool:
        """Conclude ``owner``'s job; ``False`` (nothing changed) when it is no longer its own."""

    def defer(
        self, job_id: int, *, run_at: float, error: str, rate_limited: bool, owner: str
    ) -> bool:
        """Put ``owner``'s running job back in the queue until ``run_at``; ``False`` when it is
        no longer its own."""

    def release(self, job_id: int, *, owner: str) -> bool:
        """Put ``owner``'s running job back in the queue at once, without counting the attempt
        (a worker that stops); ``False`` when it is no longer its own."""

    def recover(self) -> int:
        """Requeue jobs left running by a process that stopped; how many. SQLite (one process)
        requeues every running job; PostgreSQL only those whose lease ran out."""

    def queue_depth(self) -> int:
        """How many jobs are queued (cheap: asked on every delivery)."""

    def has_delivery(self, delivery_id: str) -> bool: ...

    def delivery_count(self) -> int: ...

    def installations(self) -> list[tuple[int, str, str]]:
        """(id, account, last action) of every installation seen, by id."""

    def try_lock(self, name: str, *, owner: str, ttl: float, now: float) -> bool:
        """Take or renew the named lease ``name`` for ``owner`` until ``now + ttl``; ``False``
        while another owner holds it (so one replica runs a periodic task at a time)."""

    def job(self, job_id: int) -> Job | None: ...

    def jobs(self) -> list[Job]: ...

    def counts(self) -> dict[str, int]:
        """Number of jobs in each state."""

    def next_due(self) -> float | None:
        """When the earliest queued job becomes due."""

    def check_run_id(self, repo: str, sha: str) -> int | None: ...

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
        """Keep ``run_id`` as the run on ``sha``; each of ``pr``, ``in_progress`` and ``inputs``
        is changed when given and kept otherwise (a new entry: no PR, not in progress, no
        inputs)."""

    def check_run(self, repo: str, sha: str) -> CheckRunEntry | None:
        """The ledger's entry for the run on ``sha``, if prgate made one."""

    def check_runs_in_progress(self, repo: str, pr: int) -> list[CheckRunEntry]:
        """The runs started by jobs of ``pr`` and not concluded yet (by sha)."""

    def prs_seen_at(self, repo: str, sha: str) -> list[int]:
        """The pull requests prgate was asked to judge, or judged, with head ``sha`` (by
        number). GitHub's list of a commit's pull requests leaves out those from forks, so the
        verdict of a commit also asks what prgate itself has seen."""

    def comment_id(self, repo: str, pr: int) -> int | None: ...

    def save_comment(self, repo: str, pr: int, comment_id: int) -> None: ...

    def save_fix_commit(self, repo: str, pr: int, *, commit: str, parent: str) -> None: ...

    def is_fix_commit(self, repo: str, sha: str) -> bool: ...

    def command_handled(self, comment_id: int) -> bool:
        """Whether the command of the comment ``comment_id`` was handled already."""

    def record_command(self, repo: str, comment_id: int) -> None:
        """Remember that the command of the comment ``comment_id`` (on ``repo``) was handled,
        so that it never runs again. Kept for good."""

    def record_run(self, run: RunRecord) -> None: ...

    def runs(self, *, repo: str | None = None, limit: int = 100) -> list[RunRecord]: ...

    def last_run(self, repo: str, pr: int) -> RunRecord | None: ...

    def runs_since(
        self, since: float, *, repo: str | None = None, limit: int = 100_000
    ) -> list[RunRecord]:
        """The run records finished at ``since`` or later (of ``repo`` when given), oldest
        first; at most the ``limit`` newest of them."""

    def fix_commits(self, *, repo: str | None = None) -> list[FixCommit]:
        """The fix commits prgate pushed (on ``repo`` when given), oldest first."""

    def llm_cache_get(self, key: str) -> str | None:
        """The AI reviewer's cached answer under ``key`` (a hash), if any."""

    def llm_cache_put(self, key: str, value: str) -> None:
        """Keep the AI reviewer's answer ``value`` (JSON text) under ``key``; last write wins."""

    def llm_spending(self, *, installation_id: int, repo: str, pr: int, day: str) -> SpendTotals:
        """What the AI reviewer spent on ``repo``'s pull request ``pr`` (all its pushes), and
        for installation ``installation_id`` on ``day`` (``YYYY-MM-DD``, UTC)."""

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
        """Add ``spend`` to the pull request's and the installation's day's totals in one
        transaction, unless the new totals would break ``limits``: then nothing is added and
        the answer is ``False``. Concurrent calls for one installation are serialised, so
        together they never go over ``limits``. ``limits=None`` always adds."""

    def prune(self, *, before: float, runs_before: float, limit: int = PRUNE_BATCH) -> int:
        """Delete up to ``limit`` rows of each kind older than ``before`` (deliveries, finished
        jobs, cached AI answers, days of AI spending) and run records and pull requests' AI
        spending older than ``runs_before``; how many went.
        Queued and running jobs, GitHub ids and fix commits are never pruned."""

    def close(self) -> None: ...


def prune_statements(mark: str) -> tuple[tuple[str, bool], ...]:
    """The pruning deletes, with ``mark`` as the placeholder; each with whether its cut-off is
    the run records' one. Each takes (cut-off, limit)."""
    finished = ", ".join(
        f"'{s.value}'" for s in (JobState.DONE, JobState.FAILED, JobState.SUPERSEDED)
    )
    return (
        (
            "DELETE FROM deliveries WHERE id IN "
            f"(SELECT id FROM deliveries WHERE received_at < {mark} LIMIT {mark})",
            False,
        ),
        (
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs "
            f"WHERE state IN ({finished}) AND updated_at < {mark} LIMIT {mark})",
            False,
        ),
        (
            "DELETE FROM llm_cache WHERE key IN "
            f"(SELECT key FROM llm_cache WHERE created_at < {mark} LIMIT {mark})",
            False,
        ),
        (
            "DELETE FROM runs WHERE id IN "
            f"(SELECT id FROM runs WHERE finished_at < {mark} LIMIT {mark})",
            True,
        ),
        (
            "DELETE FROM llm_spend_days WHERE (installation_id, day) IN (SELECT installation_id, "
            f"day FROM llm_spend_days WHERE updated_at < {mark} LIMIT {mark})",
            False,
        ),
        (
            "DELETE FROM llm_spend_prs WHERE (repo, pr) IN "
            f"(SELECT repo, pr FROM llm_spend_prs WHERE updated_at < {mark} LIMIT {mark})",
            True,
        ),
        *((sql, True) for sql in openpulls.prune_statements(mark)),
    )


def prs_seen_statement(mark: str) -> str:
    """The query of :meth:`Store.prs_seen_at`, with ``mark`` as the placeholder; it takes
    (repo, sha, repo, sha)."""
    return (
        f"SELECT pr FROM runs WHERE repo={mark} AND sha={mark} UNION "
        f"SELECT pr FROM jobs WHERE repo={mark} AND sha={mark} AND kind='{JobKind.EVALUATE.value}'"
    )


def runs_since_statement(mark: str, *, by_repo: bool) -> str:
    """The query of :meth:`Store.runs_since`, with ``mark`` as the placeholder; it takes
    (since, repo when ``by_repo``, limit)."""
    where = f"finished_at >= {mark}" + (f" AND repo = {mark}" if by_repo else "")
    return (
        f"SELECT {RUN_COLUMNS} FROM (SELECT id, {RUN_COLUMNS} FROM runs WHERE {where} "
        f"ORDER BY id DESC LIMIT {mark}) AS recent ORDER BY id"
    )


def fix_commits_statement(mark: str, *, by_repo: bool) -> str:
    """The query of :meth:`Store.fix_commits`, with ``mark`` as the placeholder; it takes
    (repo) when ``by_repo``."""
    where = f" WHERE repo = {mark}" if by_repo else ""
    return f"SELECT {FIX_COMMIT_COLUMNS} FROM fix_commits{where} ORDER BY created_at, repo, sha"


def open_store(url: str, **kw: Any) -> Store:
    """The store ``url`` names: ``sqlite:///path`` or ``postgresql://...`` (``postgres://``).

    Keyword arguments go to the backend (``pool_size``, timeouts, ``clock``). A URL it cannot
    use raises :class:`StoreUnavailable` in plain words, without the URL's password.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        from prgate.app.sqlite_store import SQLiteStore, database_path

        try:
            path = database_path(url)
        except ValueError as exc:
            raise StoreUnavailable(str(exc)) from None
        return SQLiteStore(path, **kw)
    if scheme in ("postgresql", "postgres"):
        from prgate.app.postgres_store import PostgresStore

        return PostgresStore(url, **kw)
    raise StoreUnavailable(
        f"PRGATE_DATABASE_URL ({redact_url(url)}) is not a database prgate can use: write "
        "sqlite:///path/to/prgate.db or postgresql://user:password@host:5432/dbname"
    )


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unreadable URL)"
    if not password and "password" not in parts.query.lower():
        return url
    if parts.query and "password" in parts.query.lower():
        query = "&".join(
            f"{kv.split('=', 1)[0]}=***" if kv.lower().startswith("password=") else kv
            for kv in parts.query.split("&")
        )
        parts = parts._replace(query=query)
    if password:
        host = parts.netloc.rsplit("@", 1)[-1]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    return parts.geturl()


#: The columns of ``jobs`` and ``runs`` that :func:`job_from_row` and :func:`run_from_row` read,
#: in their order; both backends select them so.
JOB_COLUMNS = (
    "id, kind, repo, installation_id, pr, sha, payload, state, attempts, deferrals, last_error, "
    "owner, lease_until"
)
CHECK_RUN_COLUMNS = "sha, run_id, pr, in_progress, inputs"
RUN_COLUMNS = (
    "repo, pr, sha, config_sha, conclusion, counts, started_at, finished_at, timings, "
    "api_calls, reason, llm, blocking, awaiting_approval"
)
FIX_COMMIT_COLUMNS = "repo, pr, sha, parent, created_at"


def _json(value: Any) -> Any:
    """A JSON column: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def job_from_row(row: Sequence[Any]) -> Job:
    """The :class:`Job` in a row of :data:`JOB_COLUMNS`."""
    return Job(
        id=int(row[0]),
        kind=JobKind(row[1]),
        repo=str(row[2]),
        installation_id=int(row[3]),
        pr=int(row[4]),
        sha=str(row[5]),
        payload=_json(row[6]),
        state=JobState(row[7]),
        attempts=int(row[8]),
        deferrals=int(row[9]),
        last_error=row[10],
        owner=row[11],
        lease_until=float(row[12]) if row[12] is not None else None,
    )


def check_run_from_row(row: Sequence[Any]) -> CheckRunEntry:
    """The :class:`CheckRunEntry` in a row of :data:`CHECK_RUN_COLUMNS`."""
    return CheckRunEntry(
        sha=str(row[0]),
        run_id=int(row[1]),
        pr=int(row[2]) if row[2] is not None else None,
        in_progress=bool(row[3]),
        inputs=str(row[4] or ""),
    )


def run_from_row(row: Sequence[Any]) -> RunRecord:
    """The :class:`RunRecord` in a row of :data:`RUN_COLUMNS`."""
    return RunRecord(
        repo=str(row[0]),
        pr=int(row[1]),
        sha=str(row[2]),
        config_sha=str(row[3]),
        conclusion=str(row[4]),
        counts=dict(_json(row[5])),
        started_at=float(row[6]),
        finished_at=float(row[7]),
        timings=dict(_json(row[8])),
        api_calls=int(row[9]),
        reason=row[10],
        llm=dict(_json(row[11])),
        blocking=dict(_json(row[12])),
        awaiting_approval=dict(_json(row[13])),
    )


def fix_commit_from_row(row: Sequence[Any]) -> FixCommit:
    """The :class:`FixCommit` in a row of :data:`FIX_COMMIT_COLUMNS`."""
    return FixCommit(
        repo=str(row[0]),
        pr=int(row[1]),
        sha=str(row[2]),
        parent=str(row[3]),
        created_at=float(row[4]),
    )
