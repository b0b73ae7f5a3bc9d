"""The insights page: the figures of :mod:`prgate.app.insights` as HTML with charts drawn on the
server (inline SVG), from the jinja2 template ``templates/insights.html.j2``.

Every value is escaped by the template (repository names and rule ids come from outside). The
page loads nothing: no script, no font, no image; its one style sheet is allowed by its hash in
the Content-Security-Policy, which forbids everything else.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import jinja2
from fastapi.responses import HTMLResponse

from prgate.app.insights import Insights, RepoFigures, duration, number, timestamp

#: The most pull requests listed per repository (the newest by number).
MAX_PULLS_SHOWN = 50
#: The rules chart: its width, the labels' column, and each rule's row.
CHART_WIDTH = 640
LABEL_WIDTH = 220
ROW_HEIGHT = 26
BAR_HEIGHT = 10
#: The rounds chart: its height and each bucket's column.
ROUNDS_HEIGHT = 160
ROUNDS_COLUMN = 60

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}"
    "td.n,th.n{text-align:right}svg{display:block;margin:.5rem 0}"
    "svg text{font:12px system-ui,sans-serif;fill:#222}.fired{fill:#5b7db1}"
    ".blocked{fill:#c0392b}.rounds{fill:#2e8b57}.axis{stroke:#999}"
    "h2{margin-top:2.5rem;border-bottom:2px solid #ddd}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'none'; script-src 'none'; "
    "font-src 'none'; connect-src 'none'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Bar:
    """One rectangle of a chart, with what it shows."""

    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


#: The longest rule id drawn whole in the chart's labels (the table and tooltips show all).
MAX_LABEL = 30


@dataclass(frozen=True)
class RuleRow:
    rule: str
    #: The rule id as the chart draws it (cut short past ``MAX_LABEL`` characters).
    label: str
    y: float
    fired: Bar
    blocked: Bar


@dataclass(frozen=True)
class RoundsColumn:
    label: str
    x: float
    bar: Bar


def _scale(value: int, top: int, room: float) -> float:
    return round(room * value / top, 1) if top > 0 else 0.0


def rule_rows(repo: RepoFigures) -> list[RuleRow]:
    """The rules chart's rows: per rule, a bar for the runs it fired in and one for the runs it
    blocked, on one scale."""
    room = CHART_WIDTH - LABEL_WIDTH - 40
    top = max((r.fired for r in repo.rules), default=0)
    rows = []
    for i, r in enumerate(repo.rules):
        y = i * ROW_HEIGHT + 4
        rows.append(
            RuleRow(
                rule=r.rule,
                label=r.rule if len(r.rule) <= MAX_LABEL else r.rule[: MAX_LABEL - 1] + "…",
                y=y,
                fired=Bar(LABEL_WIDTH, y, _scale(r.fired, top, room), BAR_HEIGHT, r.fired, "fired"),
                blocked=Bar(
                    LABEL_WIDTH,
                    y + BAR_HEIGHT + 1,
                    _scale(r.blocked, top, room),
                    BAR_HEIGHT,
                    r.blocked,
                    "blocked",
                ),
            )
        )
    return rows


def rounds_columns(repo: RepoFigures) -> list[RoundsColumn]:
    """The rounds chart's columns: pull requests green after 1, 2, 3, 4, 5 or more heads."""
    counts = repo.rounds_histogram()
    room = ROUNDS_HEIGHT - 40
    top = max(counts, default=0)
    columns = []
    for i, n in enumerate(counts):
        label = f"{i + 1}+" if i == len(counts) - 1 else str(i + 1)
        height = _scale(n, top, room)
        x = 30 + i * ROUNDS_COLUMN
        bar = Bar(x, ROUNDS_HEIGHT - 20 - height, ROUNDS_COLUMN - 16, height, n, label)
        columns.append(RoundsColumn(label, x, bar))
    return columns


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("prgate.app", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["duration"] = duration
        env.filters["number"] = number
        env.filters["when"] = lambda epoch: timestamp(epoch) or "—"
        _ENV = env
    return _ENV


def render(insights: Insights, *, days: int | None) -> str:
    """The insights page."""
    repos = [
        {
            "figures": r,
            "rows": rule_rows(r),
            "chart_height": max(1, len(r.rules)) * ROW_HEIGHT + 8,
            "columns": rounds_columns(r),
            "pulls": sorted(r.pulls, key=lambda p: -p.pr)[:MAX_PULLS_SHOWN],
        }
        for r in insights.repos
    ]
    return (
        _env()
        .get_template("insights.html.j2")
        .render(
            style=STYLE,
            insights=insights,
            days=days,
            repos=repos,
            max_pulls=MAX_PULLS_SHOWN,
            chart_width=CHART_WIDTH,
            label_width=LABEL_WIDTH,
            bar_height=BAR_HEIGHT,
            rounds_height=ROUNDS_HEIGHT,
            rounds_width=30 + 5 * ROUNDS_COLUMN,
        )
    )


def respond(text: str, status: int = 200, *, headers: dict[str, str] | None = None) -> HTMLResponse:
    """``text`` with the insights page's headers: never cached, never framed, nothing loaded."""
    return HTMLResponse(text, status_code=status, headers=HEADERS | (headers or {}))
