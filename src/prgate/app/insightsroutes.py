"""The operator's insights page, ``GET /insights``, and its sign-in link, ``GET /insights/login``.

Only the operator sees the page (see :mod:`prgate.app.operator`): without
``PRGATE_OPERATOR_TOKEN`` it is off (403), and without a valid session cookie or bearer token it
answers 401 with a page that says how to get in, and no figures.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from prgate.app import insightspage
from prgate.app.insights import DEFAULT_DAYS, gather
from prgate.app.operator import COOKIE, COOKIE_PATH, LINK_TTL, SESSION_TTL, Operator
from prgate.app.pages import page
from prgate.app.store import StoreError

if TYPE_CHECKING:
    from prgate.app.server import AppState

#: The longest window the page shows, in days (the store keeps runs 180 days).
MAX_DAYS = 366

_OFF = (
    "The insights page is off: it opens only for the operator, who is whoever holds "
    "<code>PRGATE_OPERATOR_TOKEN</code>, and that setting is not set on this server."
)
_SIGN_IN = (
    "This page is for the operator only. On the machine where prgate runs, with the same "
    "settings, run <code>prgate insights --link</code> and open the link it prints (valid five "
    "minutes, once). Scripts may send <code>Authorization: Bearer</code> with the operator token."
)
_BAD_LINK = (
    "This sign-in link cannot be used: it has expired, was used already, or was made with "
    "another operator token. Make a new one with <code>prgate insights --link</code>."
)


def _days(raw: str | None) -> int:
    if raw is None or not raw.isdigit():
        return DEFAULT_DAYS
    return max(1, min(MAX_DAYS, int(raw)))


def add_insights_routes(app: FastAPI, state: AppState) -> None:
    operator = Operator(state.settings.operator_token)
    app.state.operator = operator

    def refused(status: int, text: str) -> HTMLResponse:
        body = page("prgate insights", f"<p>{text}</p>")
        return insightspage.respond(body, status)

    def spent_everywhere(nonce: str) -> bool:
        """Spend a sign-in link's ``nonce`` in the store, where every replica sees it: a named
        lock with an owner of its own, held until the link has expired. ``False`` when another
        replica spent it (or the store cannot say: the link is refused)."""
        try:
            return state.store.try_lock(
                f"insights-link:{nonce}",
                owner=secrets.token_hex(16),
                ttl=LINK_TTL + 120,
                now=time.time(),
            )
        except StoreError:
            return False

    @app.get("/insights", response_class=HTMLResponse)
    async def insights(request: Request) -> Response:
        if not operator.enabled:
            return refused(403, _OFF)
        if not (
            operator.session_ok(request.cookies.get(COOKIE))
            or operator.bearer_ok(request.headers.get("authorization"))
        ):
            return refused(401, _SIGN_IN)
        days = _days(request.query_params.get("days"))
        figures = await run_in_threadpool(gather, state.store, now=time.time(), days=days)
        return insightspage.respond(insightspage.render(figures, days=days))

    @app.get("/insights/login")
    async def login(request: Request) -> Response:
        if not operator.enabled:
            return refused(403, _OFF)
        nonce = operator.spend_ticket(request.query_params.get("ticket", ""))
        if nonce is None or not await run_in_threadpool(spent_everywhere, nonce):
            return refused(401, _BAD_LINK)
        answer = insightspage.respond("", 303, headers={"Location": "/insights"})
        answer.set_cookie(
            COOKIE,
            operator.new_session(),
            max_age=int(SESSION_TTL),
            path=COOKIE_PATH,
            secure=not state.settings.allow_http,
            httponly=True,
            samesite="strict",
        )
        return answer
