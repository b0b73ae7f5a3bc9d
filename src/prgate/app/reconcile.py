"""Missed webhooks: the reconcilers, run on start and then every ``PRGATE_RECONCILE_INTERVAL``.

GitHub does not redeliver a webhook by itself. Two passes make up for deliveries prgate never
saw or refused (it was down, overloaded, shutting down):

- **heads**: every open pull request of every repository the App is installed on whose head has
  no completed ``prgate`` check run of this App, or whose head prgate judged without this pull
  request (a second pull request from a commit already judged, whose delivery was missed: its
  base's rules must count), gets an evaluation queued (the store coalesces duplicates, so one
  already queued absorbs it);
- **deliveries**: the App's failed webhook deliveries of the last days that prgate has not
  recorded, and that were not delivered later, are redelivered through GitHub's API.

Each pass keeps within a budget of API calls and stops early when GitHub's rate limit runs low.
Only one replica runs them at a time (a named lock in the store).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prgate.app.store import CheckRunEntry, JobKind, JobSpec, RunRecord
from prgate.github.auth import AppAuth
from prgate.github.checks import CHECK_NAME
from prgate.github.errors import GitHubError, NotFound
from prgate.github.http import Http
from prgate.github.pulls import repo_path

log = logging.getLogger("prgate.reconcile")

LOCK_NAME = "reconcile"
#: A delivery GitHub has already attempted this many times is not asked for again.
MAX_DELIVERY_ATTEMPTS = 4


class ReconcileStore(Protocol):
    """What the reconcilers need from the store."""

    def has_delivery(self, delivery_id: str) -> bool: ...

    def last_run(self, repo: str, pr: int) -> RunRecord | None: ...

    def check_run(self, repo: str, sha: str) -> CheckRunEntry | None: ...

    def try_lock(self, name: str, *, owner: str, ttl: float, now: float) -> bool: ...


@dataclass(frozen=True)
class Budget:
    """How much of GitHub's API one pass may use."""

    #: Calls per pass (each of the two reconcilers has its own).
    max_calls: int = 400
    #: Stop when GitHub says fewer calls than this are left in the current rate-limit window.
    min_remaining: int = 500
    #: Deliveries older than this (seconds) are not looked at (GitHub keeps them 3 days).
    lookback: float = 3 * 24 * 3600.0
    #: Pages of 100 deliveries read per pass at most.
    max_pages: int = 10
    #: A ``prgate`` run in progress for longer than this (seconds) is taken as stuck (its job
    #: was lost) and the head is queued again; a younger one is left to the job working on it.
    stuck_after: float = 900.0


@dataclass(frozen=True)
class PassReport:
    """What one pass did (for logs, metrics and tests)."""

    heads_checked: int = 0
    queued: int = 0
    redelivered: int = 0
    calls: int = 0
    #: Why the pass stopped early (budget, rate limit, a GitHub error), or ``None``.
    stopped: str | None = None
    #: The repository the pass stopped at: the next pass starts there.
    resume: str | None = None


class _OutOfBudget(Exception):
    pass


class _Meter:
    """Counts one pass's calls and stops it when the budget or the rate limit runs out."""

    def __init__(self, budget: Budget, stopping: Callable[[], bool]) -> None:
        self.budget = budget
        self.stopping = stopping
        self.calls = 0
        #: The lowest ``x-ratelimit-remaining`` GitHub reported during the pass.
        self.remaining: int | None = None

    def call(
        self, http: Http, request: str, *, params: dict[str, str | int] | None = None
    ) -> tuple[Any, str]:
        """One call (``request`` is ``"METHOD /path"``): its JSON and its ``Link`` header."""
        method, path = request.split(" ", 1)
        if self.stopping():
            raise _OutOfBudget("prgate is shutting down")
        if self.calls >= self.budget.max_calls:
            raise _OutOfBudget(f"the budget of {self.budget.max_calls} API calls was used")
        remaining = self.remaining
        if remaining is not None and remaining < self.budget.min_remaining:
            raise _OutOfBudget(f"GitHub's rate limit is low ({remaining} calls left)")
        self.calls += 1
        try:
            resp = http.request(method, path, params=params)
        finally:
            seen = http.rate_remaining
            if seen is not None:
                self.remaining = seen if remaining is None else min(remaining, seen)
        return (resp.json() if resp.content else None), resp.headers.get("link", "")


class Reconciler:
    """Both passes; :meth:`run_once` runs them if this replica holds the lock."""

    def __init__(
        self,
        auth: AppAuth,
        store: ReconcileStore,
        *,
        app_id: str,
        enqueue: Callable[[JobSpec], None],
        owner: str,
        lock_ttl: float,
        budget: Budget | None = None,
        clock: Callable[[], float] = time.time,
        stopping: Callable[[], bool] = lambda: False,
        resume: str | None = None,
    ) -> None:
        self.auth = auth
        self.store = store
        self.app_id = app_id
        self.enqueue = enqueue
        self.owner = owner
        self.lock_ttl = lock_ttl
        self.budget = budget or Budget()
        self.clock = clock
        #: Asked before each call: a pass ends early when the process is shutting down.
        self.stopping = stopping
        #: Where the previous pass stopped (a repository's ``owner/name``), if it did.
        self.resume = resume

    def run_once(self) -> tuple[PassReport, PassReport] | None:
        """Both passes, or ``None`` when another replica holds the lock."""
        if not self.store.try_lock(
            LOCK_NAME, owner=self.owner, ttl=self.lock_ttl, now=self.clock()
        ):
            return None
        heads = self.missed_heads()
        deliveries = self.failed_deliveries()
        return heads, deliveries

    # --- open pull requests whose head was never judged --------------------------------------

    def missed_heads(self) -> PassReport:
        meter = _Meter(self.budget, self.stopping)
        checked = queued = 0
        stopped: str | None = None
        current: str | None = None
        try:
            repos = [
                (repo, inst_id)
                for inst_id in self._installations(meter)
                for repo in self._repositories(meter, inst_id)
            ]
            for repo, inst_id in _from(sorted(repos), self.resume):
                current = repo
                try:
                    with self.auth.repo_http(inst_id, repo) as http:
                        for number, sha in self._open_pulls(meter, http, repo=repo):
                            checked += 1
                            if self._judged(meter, http, repo=repo, number=number, sha=sha):
                                continue
                            self.enqueue(JobSpec(JobKind.EVALUATE, repo, inst_id, number, sha))
                            queued += 1
                except NotFound:
                    continue  # no longer installed there
            current = None
        except _OutOfBudget as exc:
            stopped = str(exc)
        except GitHubError as exc:
            stopped = f"GitHub failed ({exc})"
        if stopped:
            log.info("the pull-request reconciler stopped early: %s", stopped)
        if queued:
            log.info("%d pull request head(s) without a verdict were queued", queued)
        return PassReport(
            heads_checked=checked,
            queued=queued,
            calls=meter.calls,
            stopped=stopped,
            resume=current if stopped else None,
        )

    def _installations(self, meter: _Meter) -> Iterator[int]:
        with self.auth.app_http() as http:
            for page in range(1, 100):
                data, link = meter.call(
                    http, "GET /app/installations", params={"per_page": 100, "page": page}
                )
                for inst in data if isinstance(data, list) else []:
                    if isinstance(inst, dict) and not inst.get("suspended_at"):
                        yield int(inst["id"])
                if 'rel="next"' not in link:
                    return

    def _repositories(self, meter: _Meter, inst_id: int) -> list[str]:
        names: list[str] = []
        with self.auth.installation_http(inst_id) as http:
            for page in range(1, 100):
                data, link = meter.call(
                    http,
                    "GET /installation/repositories",
                    params={"per_page": 100, "page": page},
                )
                repos = data.get("repositories") if isinstance(data, dict) else None
                for repo in repos or []:
                    if isinstance(repo, dict) and not repo.get("archived"):
                        names.append(str(repo["full_name"]))
                if 'rel="next"' not in link:
                    break
        return names

    def _open_pulls(self, meter: _Meter, http: Http, *, repo: str) -> Iterator[tuple[int, str]]:
        for page in range(1, 100):
            data, link = meter.call(
                http,
                f"GET {repo_path(repo)}/pulls",
                params={"state": "open", "per_page": 100, "page": page},
            )
            for pr in data if isinstance(data, list) else []:
                if isinstance(pr, dict):
                    yield int(pr["number"]), str(pr["head"]["sha"])
            if 'rel="next"' not in link:
                return

    def _judged(self, meter: _Meter, http: Http, *, repo: str, number: int, sha: str) -> bool:
        last = self.store.last_run(repo, number)
        if last is not None and last.sha == sha:
            return True  # judged and published by this App (no call needed)
        entry = self.store.check_run(repo, sha)
        if entry is not None and entry.inputs and not entry.in_progress:
            # prgate concluded this commit's run, but without this pull request: its base's
            # rules have not had their say (its delivery was missed).
            return False
        data, _ = meter.call(
            http,
            f"GET {repo_path(repo)}/commits/{sha}/check-runs",
            params={"check_name": CHECK_NAME, "app_id": self.app_id, "filter": "latest"},
        )
        runs = data.get("check_runs") if isinstance(data, dict) else None
        for run in runs or []:
            if not isinstance(run, dict) or run.get("name") != CHECK_NAME:
                continue
            if run.get("status") == "completed":
                return True
            started = _epoch(str(run.get("started_at") or ""))
            if self.clock() - started < self.budget.stuck_after:
                return True  # a job is at work on it
        return False

    # --- webhook deliveries that failed ------------------------------------------------------

    def failed_deliveries(self) -> PassReport:
        meter = _Meter(self.budget, self.stopping)
        redelivered = 0
        stopped: str | None = None
        try:
            with self.auth.app_http() as http:
                for delivery_id in self._to_redeliver(meter, http):
                    meter.call(http, f"POST /app/hook/deliveries/{delivery_id}/attempts")
                    redelivered += 1
        except _OutOfBudget as exc:
            stopped = str(exc)
        except GitHubError as exc:
            stopped = f"GitHub failed ({exc})"
        if stopped:
            log.info("the delivery reconciler stopped early: %s", stopped)
        if redelivered:
            log.info("%d failed webhook delivery(ies) were asked for again", redelivered)
        return PassReport(redelivered=redelivered, calls=meter.calls, stopped=stopped)

    def _to_redeliver(self, meter: _Meter, http: Http) -> list[int]:
        """Ids of the latest failed attempt of each delivery worth asking for again."""
        since = self.clock() - self.budget.lookback
        delivered: set[str] = set()
        attempts: dict[str, int] = {}
        latest_failed: dict[str, int] = {}
        params: dict[str, str | int] = {"per_page": 100}
        for _page in range(self.budget.max_pages):
            data, link = meter.call(http, "GET /app/hook/deliveries", params=params)
            old = False
            for item in data if isinstance(data, list) else []:
                if not isinstance(item, dict):
                    continue
                if _epoch(str(item.get("delivered_at") or "")) < since:
                    old = True
                    continue
                guid = str(item.get("guid") or "")
                code = item.get("status_code")
                attempts[guid] = attempts.get(guid, 0) + 1
                if isinstance(code, int) and 200 <= code < 300:
                    delivered.add(guid)
                elif guid not in latest_failed:  # newest first
                    latest_failed[guid] = int(item["id"])
            cursor = _next_cursor(link)
            if old or cursor is None:
                break
            params = {"per_page": 100, "cursor": cursor}
        wanted: list[int] = []
        for guid, delivery_id in latest_failed.items():
            if not guid or guid in delivered or attempts[guid] >= MAX_DELIVERY_ATTEMPTS:
                continue
            if self.store.has_delivery(guid):
                continue  # prgate has it (GitHub saw a failure, e.g. the answer timed out)
            wanted.append(delivery_id)
        return wanted


def _from(repos: list[tuple[str, int]], resume: str | None) -> list[tuple[str, int]]:
    """``repos`` (sorted) starting at ``resume`` and wrapping around, so that a pass cut short
    by its budget is continued by the next one rather than started over."""
    if resume is None:
        return repos
    at = next((i for i, (name, _inst) in enumerate(repos) if name >= resume), 0)
    return repos[at:] + repos[:at]


def _next_cursor(link: str) -> str | None:
    for part in link.split(","):
        if 'rel="next"' in part:
            m = re.search(r"[?&]cursor=([^&>]+)", part)
            if m:
                return m.group(1)
    return None


def _epoch(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Periodic:
    """Runs ``run`` on start and then every ``interval`` seconds, in a thread named ``name``
    (the reconcilers' passes, the pruning of old records)."""

    def __init__(self, run: Callable[[], object], *, interval: float, name: str) -> None:
        self.run = run
        self.interval = interval
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"prgate-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run()
            except Exception:  # the store or a bug: try again next interval
                log.exception("a %s pass failed", self.name)
            self._stop.wait(self.interval)
