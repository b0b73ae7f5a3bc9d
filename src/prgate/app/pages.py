"""The pages at ``/``: the status page, and what every page shares (its frame, its headers).

The setup page and its flow live in :mod:`prgate.app.setup`. Every value shown on a page is
HTML-escaped, and every page is sent with headers that keep it out of caches and frames.
"""

from __future__ import annotations

import base64
import hashlib
import html
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse

from prgate.app.settings import Settings
from prgate.app.store import Store


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


#: The page's one style sheet, allowed by its hash (the pages run no script at all).
_STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()


def respond(
    text: str,
    status: int = 200,
    *,
    form_to: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """``text`` (a page) as an answer that is never cached (the setup pages carry one-time values), never
    shown inside another site's frame (no clickjacking of the setup buttons), sends no address
    on to other sites, and may post forms only to this server and ``form_to`` (an origin)."""
    forms = "'self'" + (f" {form_to}" if form_to else "")
    policy = (
        f"default-src 'none'; style-src '{_STYLE_HASH}'; form-action {forms}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    safe = {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(text, status_code=status, headers=safe | (headers or {}))


@dataclass(frozen=True)
class Connection:
    """Whether GitHub accepted the App's credentials when last asked (``GET /app``)."""

    ok: bool
    #: What went wrong, in words ("" when ``ok``).
    problem: str
    #: The App's slug, as GitHub says.
    slug: str | None
    checked_at: float

    def age(self) -> str:
        seconds = max(0, int(time.time() - self.checked_at))
        return "just now" if seconds < 2 else f"{seconds} seconds ago"


def page(title: str, body: str) -> str:
    """A whole HTML page: ``title`` is escaped here, ``body`` must be escaped by the caller."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def status_page(settings: Settings, store: Store, connection: Connection) -> str:
    """What anyone reaching the server may see: that it runs, whether GitHub accepts its
    credentials (as checked, not assumed), and counts. No repository names, pull requests or
    commits: the server faces the internet for GitHub's webhooks."""
    esc = html.escape
    counts = store.counts()
    runs = store.runs(limit=100)
    verdicts: dict[str, int] = {}
    for r in runs:
        verdicts[r.conclusion] = verdicts.get(r.conclusion, 0) + 1
    jobs = ", ".join(f"{esc(k)}: {v}" for k, v in sorted(counts.items()) if v)
    recent = ", ".join(f"{esc(k)}: {v}" for k, v in sorted(verdicts.items()))
    app = f"App id <code>{esc(settings.app_id or '')}</code>"
    slug = connection.slug or settings.app_slug
    if slug:
        link = f"{web_url(settings.api_url)}/apps/{slug}"
        app += f' (<a href="{esc(link)}">{esc(slug)}</a>)'
    if connection.ok:
        state = f"<p>Connected to GitHub as {app}: GitHub accepted its key {connection.age()}.</p>"
    else:
        state = (
            f"<p><b>Not connected to GitHub</b> as {app}: {esc(connection.problem)} "
            f"(checked {connection.age()}). Pull requests are not judged until this is fixed: "
            "check <code>PRGATE_APP_ID</code>, the private key and "
            "<code>PRGATE_GITHUB_API_URL</code>.</p>"
        )
    return page(
        "prgate",
        state + ""
        f"<p>Jobs: {jobs or 'none'}.</p>"
        f"<p>Verdicts of the last {len(runs)} runs: {recent or 'none yet'}.</p>"
        "<p>Each pull request's verdict is on its <code>prgate</code> check run.</p>",
    )
