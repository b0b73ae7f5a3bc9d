"""The FastAPI app: webhook intake, health, metrics, the setup and status pages.

Intake verifies the signature first, then records the delivery and the jobs it asks for in
one step, then answers 202. The work happens in the worker pool, never inside the request.

Past ``PRGATE_QUEUE_LIMIT`` queued jobs, and from the moment the process is asked to stop,
deliveries get 503 (nothing recorded): GitHub marks them failed, and the reconciler asks for
them again later. On SIGTERM, readiness turns 503 at once, running jobs get
``PRGATE_SHUTDOWN_GRACE`` seconds to finish, the rest go back to the queue, then the process
exits.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import FrameType

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from prgate.app import pages
from prgate.app.events import installation_id, route
from prgate.app.insightsroutes import add_insights_routes
from prgate.app.intake import Intake
from prgate.app.jobs import ApiCounter, JobContext, give_up, handle
from prgate.app.metrics import Metrics
from prgate.app.reconcile import PassReport, Periodic, Reconciler
from prgate.app.settings import Settings, from_env
from prgate.app.setup import add_setup_routes, setup_response
from prgate.app.setupguard import SetupGuard
from prgate.app.signature import signature_ok
from prgate.app.store import (
    KEEP_RECORDS,
    KEEP_RUNS,
    Delivery,
    Job,
    JobSpec,
    Store,
    StoreError,
    open_store,
)
from prgate.app.worker import WorkerPool, new_owner_id
from prgate.errors import PrgateError
from prgate.github.auth import AppAuth, AppCredentials
from prgate.github.http import ApiSettings
from prgate.llm.session import Service
from prgate.sources.basecache import BaseCache

log = logging.getLogger("prgate.app")

#: Where GitHub sends deliveries.
WEBHOOK_PATH = "/api/github/webhooks"
#: GitHub caps deliveries at 25 MB; anything larger is refused before it is read whole.
MAX_BODY = 25 * 1024 * 1024
#: How long GitHub's answer about the App's credentials is reused by the status page (seconds).
CONNECTION_TTL = 60.0
#: Refused deliveries (bad signatures) are logged at most once per this many seconds, with a
#: count of the ones in between: enough to notice a wrong secret, never a flood.
REFUSED_LOG_INTERVAL = 60.0
#: How long a queue depth read from the store is reused by intake (seconds).
DEPTH_TTL = 0.1
#: What an overloaded App asks GitHub (and any other sender) to wait, in seconds.
OVERLOAD_RETRY_AFTER = 60
#: How often old records are pruned (seconds), and at most how many batches a pass deletes.
PRUNE_INTERVAL = 3600.0
PRUNE_ROUNDS = 50


@dataclass
class AppState:
    """The running App: settings (replaced once the setup page has created the App), the store,
    the worker pool."""

    settings: Settings
    store: Store
    metrics: Metrics
    counter: ApiCounter = field(default_factory=ApiCounter)
    #: Files of base commits already read, shared by every job of this process.
    base_cache: BaseCache = field(default_factory=BaseCache)
    auth: AppAuth | None = None
    #: The AI service (``ANTHROPIC_API_KEY``), shared by the jobs; ``None`` without a key.
    reviewer: Service | None = None
    pool: WorkerPool | None = None
    #: The setup page's one-time code and tokens (see :mod:`prgate.app.setup`).
    setup: SetupGuard = field(default_factory=SetupGuard)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Set from the moment the process is asked to stop: readiness and intake answer 503.
    draining: threading.Event = field(default_factory=threading.Event)
    #: This process's id in the store's leases and locks.
    owner: str = field(default_factory=new_owner_id)
    #: The reconcilers' and the pruning's threads, while they run.
    periodic: list[Periodic] = field(default_factory=list)
    #: Where the last reconcile pass ran out of budget (the next one starts there).
    reconcile_resume: str | None = None
    _depth: tuple[float, int] = (float("-inf"), 0)
    _connection: pages.Connection | None = None
    _refused: int = 0
    _refused_logged: float = float("-inf")
    _depth_lock: threading.Lock = field(default_factory=threading.Lock)

    def api_settings(self) -> ApiSettings:
        def observe(method: str, status: int) -> None:
            self.metrics.observe_api_call(method, status)
            self.counter.add()

        return ApiSettings(
            base_url=self.settings.api_url,
            timeout=self.settings.api_timeout,
            retry_pause=self.settings.api_retry_pause,
            observer=observe,
        )

    def configure(self, settings: Settings) -> None:
        with self.lock:
            self.settings = settings
            if self.reviewer is None and os.environ.get("ANTHROPIC_API_KEY", "").strip():
                # The key is taken from the environment once; the SDK is imported only then.
                from prgate.llm.client import service_from_env

                try:
                    self.reviewer = service_from_env(os.environ)
                except PrgateError as exc:  # a bad ANTHROPIC_BASE_URL: llm rules are skipped
                    log.warning("the LLM reviewer is off: %s", exc)
                    self.reviewer = None
            if settings.app_id and settings.private_key:
                creds = AppCredentials(app_id=settings.app_id, private_key=settings.private_key)
                self.auth = AppAuth(creds, self.api_settings(), slug=settings.app_slug)
            else:
                self.auth = None

    def learn_identity(self) -> None:
        """Ask GitHub for the App's bot login now, if not known; a failure only logs."""
        if self.auth is None:
            return
        try:
            self.auth.bot_login()
        except PrgateError as exc:
            log.warning("the App's bot login is not known yet: %s", exc)

    def refused(self, *, event: str, delivery: str, signed: bool, client: str) -> None:
        """Log a delivery refused for its signature: the first at once, then at most one line
        a minute that counts the others. Only names and counts; never a header's value."""
        now = time.monotonic()
        with self.lock:
            self._refused += 1
            if now - self._refused_logged < REFUSED_LOG_INTERVAL:
                return
            n, self._refused, self._refused_logged = self._refused, 0, now
        why = "a signature that does not match" if signed else "no signature"
        log.warning(
            "refused %d delivery(ies) with %s (the latest: event %s, delivery %s, from %s); "
            "if GitHub sent them, PRGATE_WEBHOOK_SECRET differs from the App's webhook secret",
            n,
            why,
            _printable(event) or "none",
            _printable(delivery) or "none",
            _printable(client),
        )

    def connection(self, *, now: float | None = None) -> pages.Connection:
        """Whether GitHub accepts the App's credentials: asked with ``GET /app`` at most once
        a minute (the status page shows it, and anyone may load that page)."""
        now = time.time() if now is None else now
        with self.lock:
            known = self._connection
            auth = self.auth
        if known is not None and now - known.checked_at < CONNECTION_TTL:
            return known
        if auth is None:
            found = pages.Connection(False, "the App's key is not set", None, now)
        else:
            try:
                with auth.app_http() as http:
                    data = http.json("GET", "/app")
                slug = data.get("slug") if isinstance(data, dict) else None
                found = pages.Connection(True, "", slug if isinstance(slug, str) else None, now)
            except PrgateError as exc:
                found = pages.Connection(False, f"GitHub did not accept it ({exc})", None, now)
                log.warning("GitHub did not accept the App's credentials: %s", exc)
            except Exception as exc:  # a key that does not load, for one
                reason = f"the App's key cannot be used ({type(exc).__name__})"
                found = pages.Connection(False, reason, None, now)
                log.warning("%s", reason)
        with self.lock:
            self._connection = found
        return found

    def job_context(self) -> JobContext:
        auth = self.auth
        if auth is None or not self.settings.app_id:
            raise RuntimeError("the App is not configured")
        return JobContext(
            store=self.store,
            auth=auth,
            app_id=self.settings.app_id,
            enqueue=self.enqueue,
            counter=self.counter,
            observe_conclusion=lambda c: self.metrics.conclusions.labels(conclusion=c).inc(),
            observe_seconds=self.metrics.evaluation_seconds.observe,
            reviewer=self.reviewer,
            observe_llm=self.metrics.observe_llm,
            llm_max_usd_per_day=self.settings.llm_max_usd_per_day,
            still_ours=self.pool.owns if self.pool is not None else None,
            max_fetch_bytes=self.settings.max_fetch_bytes,
            backtest=self.settings.backtest,
            base_cache=self.base_cache,
            rate_low_water=self.settings.rate_low_water,
        )

    def enqueue(self, spec: JobSpec) -> None:
        self.store.enqueue(spec)
        if self.pool is not None:
            self.pool.wake()

    def run_job(self, job: Job) -> str:
        return handle(self.job_context(), job)

    def give_up(self, job: Job, reason: str) -> None:
        if self.auth is not None:
            give_up(self.job_context(), job, reason)

    def cached_queue_depth(self) -> int | None:
        """The queue depth read from the store less than ``DEPTH_TTL`` seconds ago, if any
        (cheap enough for the event loop: no store access)."""
        with self._depth_lock:
            at, depth = self._depth
            return depth if time.monotonic() - at < DEPTH_TTL else None

    def queue_depth(self) -> int:
        """Queued jobs, read from the store at most every ``DEPTH_TTL`` seconds."""
        with self._depth_lock:
            at, depth = self._depth
            now = time.monotonic()
            if now - at < DEPTH_TTL:
                return depth
            depth = self.store.queue_depth()
            self._depth = (now, depth)
        self.metrics.queue_depth.set(depth)
        return depth

    def queued_more(self, n: int) -> None:
        """Count ``n`` jobs just queued into the cached depth (until it is read again)."""
        with self._depth_lock:
            at, depth = self._depth
            self._depth = (at, depth + n)

    def backoff(self, attempt: int) -> float:
        """Seconds before run ``attempt + 1`` of a job that failed: exponential, capped, with
        jitter (so that jobs failed by the same outage do not all come back at once)."""
        s = self.settings
        pause = min(s.retry_max_pause, s.retry_base_pause * 2.0 ** max(0, attempt - 1))
        return pause * random.uniform(0.5, 1.0)

    def reconcile_once(self) -> tuple[PassReport, PassReport] | None:
        """One pass of the reconcilers (``None`` when not configured or another replica runs
        them)."""
        auth = self.auth
        app_id = self.settings.app_id
        if auth is None or not app_id or self.draining.is_set():
            return None
        interval = self.settings.reconcile_interval
        reconciler = Reconciler(
            auth,
            self.store,
            app_id=app_id,
            enqueue=self.enqueue,
            owner=self.owner,
            lock_ttl=max(60.0, interval * 1.5),
            stopping=self.draining.is_set,
            resume=self.reconcile_resume,
        )
        result = reconciler.run_once()
        if result is not None:
            heads, deliveries = result
            self.reconcile_resume = heads.resume
            self.metrics.reconciled.labels(kind="heads").inc(heads.queued)
            self.metrics.reconciled.labels(kind="deliveries").inc(deliveries.redelivered)
        return result

    def prune_once(self, *, now: float | None = None) -> int | None:
        """Delete records past their keeping time (``store.KEEP_RECORDS``, ``KEEP_RUNS``), in
        batches, on one replica at a time; how many rows went (``None``: another replica)."""
        now = time.time() if now is None else now
        if not self.store.try_lock("prune", owner=self.owner, ttl=PRUNE_INTERVAL, now=now):
            return None
        gone = 0
        for _ in range(PRUNE_ROUNDS):
            if self.draining.is_set():
                break
            n = self.store.prune(before=now - KEEP_RECORDS, runs_before=now - KEEP_RUNS)
            gone += n
            if n == 0:
                break
        if gone:
            log.info("pruned %d old record(s) from the store", gone)
        return gone

    def begin_drain(self) -> None:
        """Stop taking deliveries and say so on /readyz (the first thing SIGTERM does)."""
        if not self.draining.is_set():
            log.info("shutting down: deliveries are refused from now on")
        self.draining.set()
        self.metrics.draining.set(1)

    def drain(self, grace: float) -> None:
        """Stop taking deliveries, stop the reconcilers, give running jobs ``grace`` seconds,
        release the rest to the queue."""
        self.begin_drain()
        loops, self.periodic = self.periodic, []
        for loop in loops:
            loop.stop()
        pool, self.pool = self.pool, None
        if pool is not None:
            released = pool.drain(grace)
            if released:
                log.info("%d job(s) did not finish in time and went back to the queue", released)


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    start_workers: bool = True,
    backoff: Callable[[int], float] | None = None,
    reconcile_loop: bool = True,
) -> FastAPI:
    """The App. ``start_workers=False`` leaves jobs in the store (for tests of intake);
    ``reconcile_loop=False`` leaves the reconcilers off whatever the settings say."""
    settings = settings or from_env()
    the_store = store or open_store(settings.database_url, pool_size=settings.workers + 4)
    state = AppState(settings=settings, store=the_store, metrics=Metrics())
    state.configure(settings)
    # Deliveries are recorded by one writer thread, in batches (group commit).
    intake = Intake(the_store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not state.settings.configured:
            where = (
                f"{settings.public_url}/" if settings.public_url else "the page / of this server"
            )
            state.setup.announce(where)
        recovered = the_store.recover()
        if recovered:
            log.info("%d job(s) left running by a stopped process were queued again", recovered)
        if start_workers:
            # The App's bot login, which marks its own report comments: learnt once, here,
            # rather than during the first evaluation (asked again then if GitHub is down now).
            await run_in_threadpool(state.learn_identity)
            pool = WorkerPool(
                the_store,
                state.run_job,
                state.give_up,
                workers=settings.workers,
                on_result=lambda job, result: state.metrics.job_results.labels(
                    kind=job.kind.value, result=result
                ).inc(),
                backoff=backoff or state.backoff,
                lease=settings.job_lease,
                owner=state.owner,
            )
            state.pool = pool
            pool.start()
        if reconcile_loop and settings.reconcile_interval > 0:
            state.periodic.append(
                Periodic(
                    state.reconcile_once, interval=settings.reconcile_interval, name="reconcile"
                )
            )
        state.periodic.append(Periodic(state.prune_once, interval=PRUNE_INTERVAL, name="prune"))
        for loop in state.periodic:
            loop.start()
        try:
            yield
        finally:
            await run_in_threadpool(state.drain, state.settings.shutdown_grace)
            await run_in_threadpool(intake.close)

    app = _PrgateApp(
        title="prgate", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.prgate = state
    app.state.intake = intake

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        if state.draining.is_set():
            return JSONResponse(
                {"ready": False, "problems": ["prgate is shutting down"]}, status_code=503
            )
        problems: list[str] = []
        try:
            await run_in_threadpool(the_store.ping)
        except StoreError as exc:
            problems.append(f"store: {exc}")
        if state.auth is None or not state.settings.webhook_secret:
            problems.append("the App is not configured (see /)")
        else:
            try:
                state.auth.app_jwt()
            except Exception as exc:  # the key does not load
                problems.append(f"credentials: {exc}")
        if problems:
            return JSONResponse({"ready": False, "problems": problems}, status_code=503)
        return JSONResponse({"ready": True})

    @app.get("/metrics")
    async def metrics() -> Response:
        body = await run_in_threadpool(state.metrics.render, the_store.counts)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    depth_reads: list[asyncio.Future[int]] = []  # the read in flight, if any

    async def fresh_depth() -> int:
        """The queue depth read from the store now: one read at a time, shared by the
        deliveries that arrive meanwhile (instead of one thread and one read each)."""
        if not depth_reads:
            read = asyncio.ensure_future(run_in_threadpool(state.queue_depth))
            depth_reads.append(read)

            def done(f: asyncio.Future[int]) -> None:
                depth_reads.clear()
                if not f.cancelled():
                    f.exception()  # seen by its waiters; retrieved here for the ones that left

            read.add_done_callback(done)
        return await asyncio.shield(depth_reads[0])

    @app.post(WEBHOOK_PATH)
    async def webhook(request: Request) -> Response:
        event = request.headers.get("x-github-event", "")
        count = state.metrics.deliveries
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            count.labels(event=event or "unknown", outcome="too_large").inc()
            return _plain(413, "payload too large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                count.labels(event=event or "unknown", outcome="too_large").inc()
                return _plain(413, "payload too large")
            chunks.append(chunk)
        body = b"".join(chunks)
        secret = state.settings.webhook_secret
        if not secret:
            count.labels(event=event or "unknown", outcome="unconfigured").inc()
            return _plain(503, "prgate is not configured yet")
        if not signature_ok(body, request.headers.get("x-hub-signature-256"), secret):
            count.labels(event=event or "unknown", outcome="bad_signature").inc()
            state.refused(
                event=event,
                delivery=request.headers.get("x-github-delivery", ""),
                signed="x-hub-signature-256" in request.headers,
                client=request.client.host if request.client else "unknown",
            )
            return _plain(401, "bad signature")
        if state.draining.is_set():
            count.labels(event=event or "unknown", outcome="draining").inc()
            return _plain(503, "prgate is shutting down; please redeliver", retry_after=30)
        depth = state.cached_queue_depth()
        if depth is None:
            try:
                depth = await fresh_depth()
            except StoreError:
                log.exception("the queue depth could not be read")
                count.labels(event=event or "unknown", outcome="store_failed").inc()
                return _plain(503, "could not store the delivery; please redeliver")
        if depth >= state.settings.queue_limit:
            count.labels(event=event or "unknown", outcome="overloaded").inc()
            return _plain(
                503,
                f"prgate is busy ({depth} jobs queued); please redeliver later",
                retry_after=OVERLOAD_RETRY_AFTER,
            )
        delivery_id = request.headers.get("x-github-delivery", "")
        if not event or not delivery_id or len(delivery_id) > 200:
            count.labels(event=event or "unknown", outcome="malformed").inc()
            return _plain(400, "missing X-GitHub-Event or X-GitHub-Delivery")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
            count.labels(event=event, outcome="malformed").inc()
            return _plain(400, "body is not JSON")
        if not isinstance(payload, dict):
            count.labels(event=event, outcome="malformed").inc()
            return _plain(400, "body is not a JSON object")
        routed = route(event, payload, app_id=state.settings.app_id)
        action = payload.get("action")
        inst = payload.get("installation")
        delivery = Delivery(
            id=delivery_id,
            event=event,
            action=str(action) if isinstance(action, str) else None,
            installation_id=installation_id(inst),
            received_at=time.time(),
        )
        try:
            fresh = await intake.accept(delivery, routed.jobs)
            if fresh and routed.installation is not None:
                note = routed.installation
                await run_in_threadpool(
                    lambda: the_store.record_installation(
                        note.installation_id,
                        account=note.account,
                        action=note.action,
                        repos=note.repos,
                    )
                )
        except StoreError:
            log.exception("delivery %s could not be stored", delivery_id)
            count.labels(event=event, outcome="store_failed").inc()
            return _plain(503, "could not store the delivery; please redeliver")
        if not fresh:
            count.labels(event=event, outcome="duplicate").inc()
            return JSONResponse({"status": "duplicate"}, status_code=200)
        state.queued_more(len(routed.jobs))
        outcome = "queued" if routed.jobs else "ignored"
        count.labels(event=event, outcome=outcome).inc()
        if routed.jobs and state.pool is not None:
            state.pool.wake()
        return JSONResponse(
            {"status": outcome, "jobs": len(routed.jobs), "note": routed.ignored},
            status_code=202,
        )

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> HTMLResponse:
        if not state.settings.configured:
            return setup_response(request, state)
        connection = await run_in_threadpool(state.connection)
        return pages.respond(
            await run_in_threadpool(pages.status_page, state.settings, the_store, connection)
        )

    app.webhook = webhook
    add_setup_routes(app, state)
    add_insights_routes(app, state)
    return app


class _PrgateApp(FastAPI):
    """FastAPI, except that deliveries go straight to their handler: the busiest route skips
    the middleware and routing layers, which cost more than the handler itself."""

    webhook: Callable[[Request], Awaitable[Response]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.webhook
        if (
            handler is None
            or scope["type"] != "http"
            or scope["path"] != WEBHOOK_PATH
            or scope["method"] != "POST"
            or scope.get("root_path")
        ):
            await super().__call__(scope, receive, send)
            return
        try:
            response = await handler(Request(scope, receive))
        except Exception:  # as FastAPI would: a 500, and the error in the log
            log.exception("a delivery could not be handled")
            response = _plain(500, "Internal Server Error")
        await response(scope, receive, send)


def _printable(text: str, limit: int = 80) -> str:
    """A header's value for a log line: printable ASCII only, cut short (it comes from anyone)."""
    return "".join(ch if " " <= ch <= "~" else "?" for ch in text[:limit])


def _plain(status: int, text: str, *, retry_after: int | None = None) -> PlainTextResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return PlainTextResponse(text + "\n", status_code=status, headers=headers)


def serve(host: str, port: int) -> None:
    """``prgate serve``: run the App under uvicorn until it is asked to stop."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app()
    # What start-up loaded lives as long as the process: kept out of the garbage collector's
    # full passes, which would otherwise stall intake for tens of milliseconds under load.
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False)
    DrainingServer(config, app.state.prgate).run()


class DrainingServer(uvicorn.Server):
    """uvicorn's server, except that the first SIGTERM/SIGINT drains before stopping: readiness
    and intake answer 503 at once while running jobs get the grace period; the listener stays
    up meanwhile (so that probes and GitHub get a clear answer), then the server stops. A second
    signal stops it at once."""

    def __init__(self, config: uvicorn.Config, state: AppState) -> None:
        super().__init__(config)
        self._state = state
        self._drainer: threading.Thread | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drainer is not None:
            super().handle_exit(sig, frame)
            return
        self._state.begin_drain()

        def drain_then_stop() -> None:
            try:
                self._state.drain(self._state.settings.shutdown_grace)
            finally:
                self.should_exit = True

        self._drainer = threading.Thread(target=drain_then_stop, name="prgate-drain", daemon=True)
        self._drainer.start()
