"""The setup page: GitHub's App manifest flow, which only the server's operator can finish.

The flow, while the App is not configured:

1. ``GET /`` gives the browser a cookie holding a random nonce (HttpOnly, SameSite=Lax, Secure
   unless plain http is allowed for local development) and shows a form whose hidden CSRF token
   is an HMAC of that nonce. The form asks for the one-time setup code that the server printed in
   its log at start-up, the owner of the App and, unless ``PRGATE_PUBLIC_URL`` says it, the public
   address (``https://`` only). Nothing is taken from the request's ``Host`` header.
2. ``POST /setup/start`` checks the cookie and the CSRF token, the request's ``Origin`` when the
   browser sends one, then the setup code (in constant time; after ``MAX_CODE_ATTEMPTS`` wrong
   codes it is replaced by a new one, printed in the log). It issues a ``state`` token for
   GitHub, bound to this browser's nonce, kept as a hash, valid ``STATE_TTL`` seconds and once;
   at most ``MAX_PENDING`` are kept (see :mod:`prgate.app.setupguard`). The page posts the
   manifest to GitHub.
3. GitHub sends the browser back to ``GET /setup/callback?code=...&state=...``. The token is
   spent whatever happens next; it must be known, fresh and come with the cookie of the browser
   that started. Then the code is exchanged for the App's credentials
   (``POST /app-manifests/{code}/conversions``), saved to a new file only its owner can read,
   and the running App is switched on.

Once the App is configured, the setup routes answer 409 and change nothing, so that a token or
a link kept from before cannot replace the App. Setup state lives in this process: run one
replica while setting up.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import secrets
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from prgate.app.pages import page, respond, web_url
from prgate.app.settings import public_address
from prgate.app.setupguard import STATE_TTL, Spent
from prgate.github.errors import GitHubError
from prgate.github.http import Http

if TYPE_CHECKING:
    from prgate.app.server import AppState

log = logging.getLogger("prgate.app.setup")

#: The App's permissions and events (the same as ``app.yml``; a test keeps them equal).
PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "read",
    "members": "read",
    "merge_queues": "read",
    "metadata": "read",
    "pull_requests": "write",
}
EVENTS = [
    "check_run",
    "check_suite",
    "issue_comment",
    "merge_group",
    "pull_request",
    "pull_request_review",
]
HOMEPAGE = "https://github.com/prgate/prgate"

#: The cookie that ties a setup to the browser that started it.
COOKIE = "prgate_setup"
#: The largest setup form read (its fields are short).
MAX_FORM = 8 * 1024
#: A GitHub account name: letters, digits and single hyphens, at most 39 characters.
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
#: A nonce or token as this page makes them, and GitHub's one-time code.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,200}")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,200}")


def manifest(public_url: str, *, name: str = "prgate") -> dict[str, Any]:
    base = public_url.rstrip("/")
    return {
        "name": name,
        "url": HOMEPAGE,
        "description": "A standards-as-code gate for pull requests, in plain words.",
        "hook_attributes": {"url": f"{base}/api/github/webhooks", "active": True},
        "redirect_url": f"{base}/setup/callback",
        "public": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }


def _nonce(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    return value if _TOKEN.fullmatch(value) else ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


def _say(title: str, *paragraphs: str) -> str:
    return page(title, "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs))


_AGAIN = "Open the setup page again and start over."
_DONE = "prgate is already set up. To connect it to another App, change its settings."


def setup_page(state: AppState, nonce: str) -> str:
    """The form that starts setup: the one-time code, the owner, the address if not set."""
    esc = html.escape
    settings = state.settings
    if settings.public_url:
        where = (
            f"<p>GitHub will send events to <code>{esc(settings.public_url)}</code> "
            "(<code>PRGATE_PUBLIC_URL</code>).</p>"
        )
    else:
        scheme = "http:// or https://" if settings.allow_http else "https://"
        where = (
            "<p><label>Public address of this server, starting with "
            f"<code>{esc(scheme)}</code> (GitHub sends events here):<br>"
            '<input name="url" size="50" required placeholder="https://prgate.example.com">'
            "</label></p>"
        )
    return page(
        "Set up prgate",
        "<p>prgate is running but is not connected to GitHub yet. This creates a GitHub App "
        "for it, with the least permissions it needs, and saves its keys here.</p>"
        '<form method="post" action="/setup/start">'
        f'<input type="hidden" name="csrf" value="{esc(state.setup.csrf_token(nonce))}">'
        "<p><label>Setup code (printed in prgate's log when it started):<br>"
        '<input name="code" size="20" required autocomplete="off"></label></p>'
        f"{where}"
        "<p><label>Organisation that will own the App (empty: your personal account):<br>"
        '<input name="org" size="30"></label></p>'
        '<p><button type="submit">Continue</button></p></form>'
        "<p>Or set <code>PRGATE_APP_ID</code>, <code>PRGATE_PRIVATE_KEY_PATH</code> and "
        "<code>PRGATE_WEBHOOK_SECRET</code> for an App you already have.</p>",
    )


def setup_response(request: Request, state: AppState) -> HTMLResponse:
    """``GET /`` while unconfigured: the form, and the browser's cookie if it has none yet."""
    nonce = _nonce(request) or secrets.token_urlsafe(32)
    resp = respond(setup_page(state, nonce))
    _set_cookie(resp, nonce, request, state)
    return resp


def _set_cookie(resp: HTMLResponse, nonce: str, request: Request, state: AppState) -> None:
    secure = not state.settings.allow_http or request.url.scheme == "https"
    resp.set_cookie(
        COOKIE, nonce, max_age=3600, path="/", secure=secure, httponly=True, samesite="lax"
    )


async def _form(request: Request) -> dict[str, str] | None:
    """The posted form's fields (the first value of each), ``None`` when it is not a small
    URL-encoded form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=10, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in fields.items() if v}


def save_credentials(path: Path, data: dict[str, Any]) -> None:
    """Write the App's credentials to a new file ``path``, readable and writable by its owner
    only. An existing file (or a link in its place) is never overwritten: ``FileExistsError``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fd = -1
            json.dump(data, out)
    finally:
        if fd >= 0:
            os.close(fd)


def add_setup_routes(app: FastAPI, state: AppState) -> None:
    guard = state.setup

    @app.post("/setup/start", response_class=HTMLResponse)
    async def start(request: Request) -> HTMLResponse:
        title = "Set up prgate"
        if state.settings.configured:
            return respond(_say("prgate", _DONE), 409)
        nonce = _nonce(request)
        form = await _form(request)
        if form is None:
            return respond(_say(title, "The setup form could not be read.", _AGAIN), 400)
        if not nonce or not guard.csrf_ok(nonce, form.get("csrf", "")):
            return respond(
                _say(
                    title,
                    "This form was not opened in this browser, or it is too old.",
                    "Open the setup page again at this server's public address "
                    "(with https://), and start over.",
                ),
                403,
            )
        settings = state.settings
        try:
            public = settings.public_url or public_address(
                form.get("url", ""), allow_http=settings.allow_http
            )
        except ValueError as exc:
            return respond(_say(title, f"The public address cannot be used: {exc}."), 400)
        origin = request.headers.get("origin")
        if origin is not None and origin != _origin(public):
            return respond(
                _say(
                    title,
                    f"Setup must be started from the public address, {public}, because GitHub "
                    "will send your browser back there.",
                    "Open the setup page at that address and start over.",
                ),
                403,
            )
        right = guard.check_code(form.get("code", "")[:64])
        if right is None:
            return respond(
                _say(
                    title,
                    "Too many wrong setup codes. That code no longer works: a new one has "
                    "been printed in prgate's log.",
                ),
                403,
            )
        if not right:
            return respond(
                _say(
                    title,
                    "That setup code is not right. It is in prgate's log, on the line that "
                    "says “one-time setup code”, printed when prgate started.",
                ),
                403,
            )
        owner = form.get("org", "").strip()
        if owner and not _OWNER.fullmatch(owner):
            return respond(
                _say(title, "The organisation's name can hold only letters, digits and -."), 400
            )
        token = guard.issue_state(nonce)
        github = web_url(settings.api_url)
        target = github + (
            f"/organizations/{owner}/settings/apps/new" if owner else "/settings/apps/new"
        )
        target += "?" + urlencode({"state": token})
        esc = html.escape
        body = (
            "<p>GitHub will ask you to confirm the new App and its permissions. It will send "
            f"events to <code>{esc(public)}/api/github/webhooks</code>.</p>"
            f'<form method="post" action="{esc(target)}">'
            f'<input type="hidden" name="manifest" value="{esc(json.dumps(manifest(public)))}">'
            '<button type="submit">Create the App on GitHub</button></form>'
            f"<p>This button works once, in this browser, for {int(STATE_TTL // 60)} minutes.</p>"
        )
        return respond(page(title, body), form_to=_origin(github))

    @app.get("/setup/callback", response_class=HTMLResponse)
    async def callback(request: Request) -> HTMLResponse:
        title = "Set up prgate"
        if state.settings.configured:
            return respond(_say("prgate", _DONE), 409)
        given = request.query_params.get("state", "")
        code = request.query_params.get("code", "")
        spent = guard.spend_state(given, _nonce(request)) if given else Spent.UNKNOWN
        if spent is Spent.EXPIRED:
            return respond(_say(title, "This setup link has expired.", _AGAIN), 400)
        if spent is Spent.OTHER_BROWSER:
            return respond(
                _say(
                    title,
                    "This setup was started in another browser (or its cookie is gone); only "
                    "the browser that started it can finish it.",
                    _AGAIN,
                ),
                403,
            )
        if spent is not Spent.OK:
            return respond(
                _say(title, "This link is not from a setup started here, or it was used.", _AGAIN),
                400,
            )
        if not _CODE.fullmatch(code):
            return respond(_say(title, "GitHub's code in this link is malformed.", _AGAIN), 400)
        status, text = await run_in_threadpool(_finish, state, code)
        resp = respond(text, status)
        if status == 200:
            resp.delete_cookie(COOKIE, path="/")
        return resp


def _finish(state: AppState, code: str) -> tuple[int, str]:
    """Exchange GitHub's ``code`` for the App's credentials, save them and switch the App on;
    the answer's status and page. One at a time, and never once configured."""
    title = "Set up prgate"
    with state.setup.finishing:
        if state.settings.configured:
            return 409, _say("prgate", _DONE)
        path = state.settings.credentials_file
        if path.exists() or path.is_symlink():
            return 409, _say(
                title,
                f"{path} already exists, so prgate did not ask GitHub for a new App. "
                "Move that file away (or set PRGATE_APP_ID and the other settings), then "
                "restart prgate.",
            )
        try:
            with Http(state.api_settings(), authorization=None) as http:
                data = http.json("POST", f"/app-manifests/{code}/conversions")
            saved = {
                "id": str(data["id"]),
                "slug": str(data.get("slug") or ""),
                "pem": str(data["pem"]),
                "webhook_secret": str(data.get("webhook_secret") or ""),
                "client_id": str(data.get("client_id") or ""),
                "client_secret": str(data.get("client_secret") or ""),
            }
        except GitHubError as exc:
            log.warning("GitHub did not convert the App manifest (status %s)", exc.status)
            answered = f" (it answered {exc.status})" if exc.status else ""
            return 502, _say(
                title,
                f"GitHub did not create the App{answered}. GitHub's link works once and for "
                "a short time only.",
                _AGAIN,
            )
        except (KeyError, TypeError, AttributeError):
            log.warning("GitHub's answer to the manifest conversion held no App credentials")
            return 502, _say(title, "GitHub's answer did not hold the App's keys.", _AGAIN)
        try:
            save_credentials(path, saved)
        except OSError as exc:
            log.warning("the App's credentials could not be saved to %s: %s", path, exc.strerror)
            return 500, _say(
                title,
                f"GitHub created the App {saved['slug'] or saved['id']}, but prgate could not "
                f"save its keys to {path} ({exc.strerror or 'error'}). Delete that App in "
                "GitHub's settings, make the folder writable, and start over.",
            )
        state.configure(
            replace(
                state.settings,
                app_id=saved["id"],
                private_key=saved["pem"],
                webhook_secret=saved["webhook_secret"],
                app_slug=saved["slug"] or None,
            )
        )
        state.setup.close()
    log.info("the App %s was created and its credentials were saved to %s", saved["id"], path)
    install = f"{web_url(state.settings.api_url)}/apps/{saved['slug']}/installations/new"
    esc = html.escape
    return 200, page(
        "prgate is set up",
        f"<p>The App <b>{esc(saved['slug'])}</b> was created and its keys were saved to "
        f"<code>{esc(str(path))}</code> (readable by you only).</p>"
        f'<p>Next: <a href="{esc(install)}">install it on your repositories</a>.</p>',
    )
