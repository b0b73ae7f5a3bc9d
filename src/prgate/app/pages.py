"""The pages at ``/``: the setup page (GitHub's App manifest flow) and the status page.

Setup: the page posts the App manifest to GitHub, GitHub sends the browser back to
``/setup/callback?code=...``, and the callback exchanges the code for the App's credentials
(``POST /app-manifests/{code}/conversions``), saves them to a file only its owner can read, and
switches the running App on. Every value shown on a page is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import os
import secrets
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from prgate.app.settings import Settings
from prgate.app.store import Store
from prgate.github.errors import GitHubError
from prgate.github.http import Http

if TYPE_CHECKING:
    from prgate.app.server import AppState

#: The App's permissions and events (the same as ``app.yml``; a test keeps them equal).
PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "read",
    "members": "read",
    "metadata": "read",
    "pull_requests": "write",
}
EVENTS = ["check_run", "check_suite", "issue_comment", "pull_request", "pull_request_review"]
HOMEPAGE = "https://github.com/prgate/prgate"


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


def web_url(api_url: str) -> str:
    """GitHub's web address for an API address (``api.github.com`` or ``host/api/v3``)."""
    parts = urlsplit(api_url)
    if parts.netloc == "api.github.com":
        return "https://github.com"
    path = parts.path.rstrip("/")
    path = path[: -len("/api/v3")] if path.endswith("/api/v3") else path
    return f"{parts.scheme}://{parts.netloc}{path}"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}code{background:#f3f3f3;padding:0 .2rem}table{border-collapse:collapse}"
    "td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}"
)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def setup_page(base_url: str) -> str:
    esc = html.escape
    return _page(
        "Set up prgate",
        "<p>prgate is running but is not connected to GitHub yet. This creates a GitHub App "
        "for it, with the least permissions it needs, and saves its keys here.</p>"
        '<form method="get" action="/setup/start">'
        "<p><label>Public address of this server (GitHub sends events here):<br>"
        f'<input name="url" size="50" value="{esc(base_url)}"></label></p>'
        "<p><label>Organisation that will own the App (empty: your personal account):<br>"
        '<input name="org" size="30"></label></p>'
        '<p><button type="submit">Continue</button></p></form>'
        "<p>Or set <code>PRGATE_APP_ID</code>, <code>PRGATE_PRIVATE_KEY_PATH</code> and "
        "<code>PRGATE_WEBHOOK_SECRET</code> for an App you already have.</p>",
    )


def status_page(settings: Settings, store: Store) -> str:
    """What anyone reaching the server may see: that it runs, and counts. No repository names,
    pull requests or commits: the server faces the internet for GitHub's webhooks."""
    esc = html.escape
    counts = store.counts()
    runs = store.runs(limit=100)
    verdicts: dict[str, int] = {}
    for r in runs:
        verdicts[r.conclusion] = verdicts.get(r.conclusion, 0) + 1
    jobs = ", ".join(f"{esc(k)}: {v}" for k, v in sorted(counts.items()) if v)
    recent = ", ".join(f"{esc(k)}: {v}" for k, v in sorted(verdicts.items()))
    app = f"App id <code>{esc(settings.app_id or '')}</code>"
    if settings.app_slug:
        link = f"{web_url(settings.api_url)}/apps/{settings.app_slug}"
        app += f' (<a href="{esc(link)}">{esc(settings.app_slug)}</a>)'
    return _page(
        "prgate",
        f"<p>Connected to GitHub as {app}.</p>"
        f"<p>Jobs: {jobs or 'none'}.</p>"
        f"<p>Verdicts of the last {len(runs)} runs: {recent or 'none yet'}.</p>"
        "<p>Each pull request's verdict is on its <code>prgate</code> check run.</p>",
    )


def save_credentials(path: Path, data: dict[str, Any]) -> None:
    """Write the App's credentials to ``path``, readable and writable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            fd = -1
            json.dump(data, out)
    finally:
        if fd >= 0:
            os.close(fd)


def add_setup_routes(app: FastAPI, state: AppState) -> None:
    @app.get("/setup/start", response_class=HTMLResponse)
    async def start(request: Request, url: str = "", org: str = "") -> HTMLResponse:
        if state.settings.configured:
            return HTMLResponse(_page("prgate", "<p>prgate is already set up.</p>"), 409)
        public = url.strip() or str(request.base_url)
        if urlsplit(public).scheme not in ("http", "https"):
            return HTMLResponse(
                _page("Set up prgate", "<p>The address must start with https://.</p>"), 400
            )
        token = secrets.token_urlsafe(24)
        state.setup_states.add(token)
        owner = "".join(ch for ch in org if ch.isalnum() or ch in "-_")
        target = web_url(state.settings.api_url)
        target += f"/organizations/{owner}/settings/apps/new" if owner else "/settings/apps/new"
        target += "?" + urlencode({"state": token})
        esc = html.escape
        body = (
            "<p>GitHub will ask you to confirm the new App and its permissions.</p>"
            f'<form method="post" action="{esc(target)}">'
            f'<input type="hidden" name="manifest" value="{esc(json.dumps(manifest(public)))}">'
            '<button type="submit">Create the App on GitHub</button></form>'
        )
        return HTMLResponse(_page("Set up prgate", body))

    @app.get("/setup/callback", response_class=HTMLResponse)
    async def callback(request: Request, code: str = "") -> HTMLResponse:
        given = request.query_params.get("state", "")
        if not code or given not in state.setup_states:
            return HTMLResponse(
                _page("Set up prgate", "<p>This link is not from a setup started here.</p>"), 400
            )
        if not code.replace("-", "").replace("_", "").isalnum() or len(code) > 200:
            return HTMLResponse(_page("Set up prgate", "<p>The code is malformed.</p>"), 400)
        try:
            with Http(state.api_settings(), authorization=None) as http:
                data = http.json("POST", f"/app-manifests/{code}/conversions")
        except GitHubError as exc:
            return HTMLResponse(
                _page(
                    "Set up prgate",
                    f"<p>GitHub did not create the App: {html.escape(str(exc))}</p>",
                ),
                502,
            )
        state.setup_states.discard(given)
        saved = {
            "id": str(data["id"]),
            "slug": str(data.get("slug") or ""),
            "pem": str(data["pem"]),
            "webhook_secret": str(data.get("webhook_secret") or ""),
            "client_id": str(data.get("client_id") or ""),
            "client_secret": str(data.get("client_secret") or ""),
        }
        save_credentials(state.settings.credentials_file, saved)
        state.configure(
            replace(
                state.settings,
                app_id=saved["id"],
                private_key=saved["pem"],
                webhook_secret=saved["webhook_secret"],
                app_slug=saved["slug"] or None,
            )
        )
        install = f"{web_url(state.settings.api_url)}/apps/{saved['slug']}/installations/new"
        esc = html.escape
        return HTMLResponse(
            _page(
                "prgate is set up",
                f"<p>The App <b>{esc(saved['slug'])}</b> was created and its keys were saved to "
                f"<code>{esc(str(state.settings.credentials_file))}</code> (readable by you only)."
                f'</p><p>Next: <a href="{esc(install)}">install it on your repositories</a>.</p>',
            )
        )
