"""``prgate insights``: the insights of the App's store, as text or JSON, and the operator's
sign-in link to the insights page (``--link``).

It reads the store ``PRGATE_DATABASE_URL`` names, as ``prgate serve`` does (default
``sqlite:///prgate.db`` in the working directory).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from prgate.errors import PrgateError

if TYPE_CHECKING:
    from prgate.app.insights import Insights
    from prgate.app.store import Store

FORMATS = ("text", "json")


class InsightsError(PrgateError):
    """The insights cannot be read (no store, a store that cannot be opened)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "insights",
        help="what the App's runs say: rules that fire and block, rounds until green",
        description="Per repository and rule: how often each rule fired, blocked, was fixed by "
        "a fix commit and needed an approval; per pull request: heads judged until green and "
        "the time from the first failing check to the passing one. Reads the App's store "
        "(PRGATE_DATABASE_URL, as prgate serve).",
        epilog="examples:\n  prgate insights                    the last 30 days, as text\n"
        "  prgate insights --format json --days 90\n"
        "  prgate insights --link             a one-time sign-in link to the insights page\n\n"
        "exit codes: 0 done, 2 could not (no store, or it cannot be read)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument(
        "--days", type=_days, default=30, metavar="N", help="the last N days (0: all kept)"
    )
    parser.add_argument("--repo", metavar="OWNER/NAME", help="one repository only")
    parser.add_argument(
        "--link",
        action="store_true",
        help="print a one-time sign-in link to the insights page (needs PRGATE_OPERATOR_TOKEN)",
    )
    parser.add_argument(
        "--url", metavar="URL", help="the server's address for --link (default PRGATE_PUBLIC_URL)"
    )


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError("N must be a whole number of days (0: all kept)")
    return int(text)


def main(args: argparse.Namespace) -> int:
    """``prgate insights``: prints, then 0 (a :class:`PrgateError` when it cannot)."""
    sys.stdout.write(run(args))
    return 0


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> str:
    """What ``prgate insights`` prints."""
    env = os.environ if env is None else env
    if args.link:
        return link(env, url=args.url) + "\n"
    from prgate.app.insights import gather, to_json
    from prgate.app.store import StoreError

    store = _open(env)
    try:
        figures = gather(store, now=time.time(), days=args.days or None, repo=args.repo)
    except StoreError as exc:
        raise InsightsError(f"the App's store could not be read: {exc}") from None
    finally:
        store.close()
    if args.format == "json":
        return json.dumps(to_json(figures), indent=2) + "\n"
    return as_text(figures, days=args.days or None)


def _open(env: Mapping[str, str]) -> Store:
    from pathlib import Path

    from prgate.app.settings import DEFAULT_DATABASE_URL
    from prgate.app.store import StoreError, open_store

    url = env.get("PRGATE_DATABASE_URL") or DEFAULT_DATABASE_URL
    if url.lower().startswith("sqlite:"):
        from prgate.app.sqlite_store import database_path

        try:
            path = Path(database_path(url))
        except ValueError as exc:
            raise InsightsError(str(exc)) from None
        if not path.is_file():
            raise InsightsError(
                f"there is no prgate store at {path}: run prgate insights in the folder where "
                "prgate serve runs, or set PRGATE_DATABASE_URL as it is set for prgate serve"
            )
    try:
        return open_store(url, pool_size=1)
    except StoreError as exc:
        raise InsightsError(f"the App's store could not be opened: {exc}") from None


def link(env: Mapping[str, str], *, url: str | None) -> str:
    """A one-time sign-in link to the insights page, from the operator token in ``env``."""
    from prgate.app.operator import login_link
    from prgate.app.settings import MIN_OPERATOR_TOKEN, public_address

    token = (env.get("PRGATE_OPERATOR_TOKEN") or "").strip()
    if len(token) < MIN_OPERATOR_TOKEN:
        raise InsightsError(
            "PRGATE_OPERATOR_TOKEN is not set (or shorter than "
            f"{MIN_OPERATOR_TOKEN} characters): set it to the same value as for prgate serve"
        )
    raw = url or env.get("PRGATE_PUBLIC_URL") or ""
    if not raw.strip():
        raise InsightsError(
            "say where the server is: --url https://prgate.example.com, or PRGATE_PUBLIC_URL"
        )
    allow_http = (env.get("PRGATE_ALLOW_INSECURE_HTTP") or "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
    try:
        base = public_address(raw, allow_http=allow_http)
    except ValueError as exc:
        raise InsightsError(f"the server's address: {exc}") from None
    return login_link(token, base)


def as_text(insights: Insights, *, days: int | None) -> str:
    """The insights as a person reads them in a terminal."""
    from prgate.app.insights import duration, number, timestamp

    window = f"the last {days} days (since {timestamp(insights.since)})" if days else "all kept"
    lines = [
        f"prgate insights, {window}: {insights.runs} judged runs in "
        f"{len(insights.repos)} repositories"
    ]
    if insights.truncated:
        lines.append("Only the newest runs of the window are counted: there were more.")
    head = ("rule", "fired", "findings", "blocked", "PRs", "fixed by fix commit", "approval")
    for r in insights.repos:
        lines += [
            "",
            f"{_printable(r.repo)}: {r.runs} runs of {r.pull_requests} pull requests, "
            f"{r.green} green; median heads until green {number(r.median_rounds_to_green)}, "
            f"median time from the first failing check to green "
            f"{duration(r.median_seconds_to_green)}",
        ]
        rows = [head] + [
            (
                _printable(f.rule),
                str(f.fired),
                str(f.findings),
                str(f.blocked),
                str(f.pull_requests),
                str(f.fixed_by_fix_commit),
                str(f.needed_approval),
            )
            for f in r.rules
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        for row in rows:
            cells = [row[0].ljust(widths[0])] + [
                c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
            ]
            lines.append("  " + "  ".join(cells).rstrip())
        for p in r.pulls:
            if p.green:
                state = f"green after {p.rounds_to_green} head(s)"
                if p.seconds_to_green is not None:
                    state += f", {duration(p.seconds_to_green)} after the first failing check"
            else:
                state = f"not green yet ({p.heads} head(s) judged)"
            lines.append(f"  #{p.pr}: {state}")
    return "\n".join(lines) + "\n"


def _printable(text: str) -> str:
    """``text`` without control characters (a rule id comes from a repository's config)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
