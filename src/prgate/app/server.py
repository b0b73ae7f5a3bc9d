"""The FastAPI app: webhook intake, health, metrics, the setup and status pages.

Intake verifies the signature first, then records the delivery and the jobs it asks for in
one step, then answers 202. The work happens in the worker pool, never inside the request.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from prgate.app import pages
from prgate.app.events import route
from prgate.app.jobs import ApiCounter, JobContext, give_up, handle
from prgate.app.metrics import Metrics
from prgate.app.settings import Settings, from_env
from prgate.app.signature import signature_ok
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import Delivery, Job, JobSpec, Store, StoreError
from prgate.app.worker import WorkerPool
from prgate.checks import Reviewer
from prgate.errors import PrgateError
from prgate.github.auth import AppAuth, AppCredentials
from prgate.github.http import ApiSettings
from prgate.llm.client import reviewer_from_env

log = logging.getLogger("prgate.app")

#: GitHub caps deliveries at 25 MB; anything larger is refused before it is read whole.
MAX_BODY = 25 * 1024 * 1024


@dataclass
class AppState:
    """The running App: settings (replaced once the setup page has created the App), the store,
    the worker pool."""

    settings: Settings
    store: Store
    metrics: Metrics
    counter: ApiCounter = field(default_factory=ApiCounter)
    auth: AppAuth | None = None
    reviewer: Reviewer | None = None
    pool: WorkerPool | None = None
    setup_states: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def api_settings(self) -> ApiSettings:
        def observe(method: str, status: int) -> None:
            self.metrics.observe_api_call(method, status)
            self.counter.add()

        return ApiSettings(
            base_url=self.settings.api_url,
            timeout=self.settings.api_timeout,
            observer=observe,
        )

    def configure(self, settings: Settings) -> None:
        with self.lock:
            self.settings = settings
            try:
                self.reviewer = reviewer_from_env(os.environ)
            except PrgateError as exc:  # a bad ANTHROPIC_BASE_URL: llm rules report it
                log.warning("the LLM reviewer is off: %s", exc)
                self.reviewer = None
            if settings.app_id and settings.private_key:
                creds = AppCredentials(app_id=settings.app_id, private_key=settings.private_key)
                self.auth = AppAuth(creds, self.api_settings())
            else:
                self.auth = None

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


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    start_workers: bool = True,
    backoff: Callable[[int], float] | None = None,
) -> FastAPI:
    """The App. ``start_workers=False`` leaves jobs in the store (for tests of intake)."""
    settings = settings or from_env()
    the_store = store or SQLiteStore.from_url(settings.database_url)
    state = AppState(settings=settings, store=the_store, metrics=Metrics())
    state.configure(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        recovered = the_store.recover()
        if recovered:
            log.info("%d job(s) left running by a stopped process were queued again", recovered)
        if start_workers:
            pool = WorkerPool(
                the_store,
                state.run_job,
                state.give_up,
                workers=settings.workers,
                on_result=lambda job, result: state.metrics.job_results.labels(
                    kind=job.kind.value, result=result
                ).inc(),
                backoff=backoff or (lambda attempt: 2.0**attempt),
            )
            state.pool = pool
            pool.start()
        try:
            yield
        finally:
            if state.pool is not None:
                state.pool.stop()
                state.pool = None

    app = FastAPI(
        title="prgate", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.prgate = state

    @app.get("/healthz")
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
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

    @app.post("/api/github/webhooks")
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
            return _plain(401, "bad signature")
        delivery_id = request.headers.get("x-github-delivery", "")
        if not event or not delivery_id or len(delivery_id) > 200:
            count.labels(event=event or "unknown", outcome="malformed").inc()
            return _plain(400, "missing X-GitHub-Event or X-GitHub-Delivery")
        try:
            payload = json.loads(body)
        except ValueError:
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
            installation_id=inst.get("id") if isinstance(inst, dict) else None,
            received_at=time.time(),
        )
        try:
            fresh = await run_in_threadpool(the_store.accept, delivery, routed.jobs)
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
            return HTMLResponse(pages.setup_page(str(request.base_url)))
        return HTMLResponse(await run_in_threadpool(pages.status_page, state.settings, the_store))

    pages.add_setup_routes(app, state)
    return app


def _plain(status: int, text: str) -> PlainTextResponse:
    return PlainTextResponse(text + "\n", status_code=status)


def serve(host: str, port: int) -> None:
    """``prgate serve``: run the App under uvicorn until interrupted."""
    import uvicorn

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(create_app(), host=host, port=port, log_level="info", access_log=False)
