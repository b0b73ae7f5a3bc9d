"""The ``prgate`` check run: started in progress, completed with a verdict, annotations in
batches of 50 (GitHub's limit per request), output within GitHub's size limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prgate.github.errors import NotFound
from prgate.github.http import Http
from prgate.github.pulls import repo_path

CHECK_NAME = "prgate"
ANNOTATIONS_PER_REQUEST = 50
#: GitHub's limits for a check run's output fields.
TITLE_LIMIT = 255
SUMMARY_LIMIT = 65_535
CUT_NOTE = "(cut for length)"


@dataclass(frozen=True)
class Action:
    label: str  # at most 20 characters
    description: str  # at most 40 characters
    identifier: str  # at most 20 characters

    def as_json(self) -> dict[str, str]:
        return {
            "label": self.label[:20],
            "description": self.description[:40],
            "identifier": self.identifier[:20],
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fit(text: str, limit: int, note: str = CUT_NOTE) -> str:
    """``text`` within ``limit`` characters (counted as UTF-8 bytes, never fewer), cut on a
    line boundary with ``note`` at the end."""
    if len(text.encode("utf-8")) <= limit:
        return text
    budget = limit - len(note.encode("utf-8")) - 2
    kept: list[str] = []
    used = 0
    for line in text.split("\n"):
        cost = len(line.encode("utf-8")) + 1
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    if not kept:  # one enormous line: cut it on a character boundary
        cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
        kept = [cut]
    return "\n".join(kept) + "\n\n" + note


def start(
    http: Http,
    repo: str,
    *,
    head_sha: str,
    run_id: int | None,
    summary: str = "prgate is reading the change.",
    details_url: str | None = None,
) -> tuple[int, str | None]:
    """Create the check run in progress, or put the existing one (same sha) back in progress.

    Returns its id and its page on GitHub."""
    output = {"title": "Checking the change", "summary": summary}
    if run_id is not None:
        try:
            data = http.json(
                "PATCH",
                f"{repo_path(repo)}/check-runs/{run_id}",
                json={"status": "in_progress", "started_at": _now(), "output": output},
                retry=True,  # sets the same state again: safe to repeat
            )
            return run_id, _url(data)
        except NotFound:
            pass  # deleted or not ours: create a new one
    body: dict[str, Any] = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "in_progress",
        "started_at": _now(),
        "output": output,
    }
    if details_url:
        body["details_url"] = details_url
    # Never repeated here: a create whose answer was lost may have happened. The job's next
    # attempt looks for the run (``find``) before it creates one.
    data = http.json("POST", f"{repo_path(repo)}/check-runs", json=body)
    return int(data["id"]), _url(data)


def _url(data: object) -> str | None:
    url = data.get("html_url") if isinstance(data, dict) else None
    return str(url) if isinstance(url, str) else None


def find(http: Http, repo: str, *, head_sha: str, app_id: str | None) -> int | None:
    """The newest ``prgate`` check run of this App on ``head_sha``, if there is one."""
    params: dict[str, str | int] = {"check_name": CHECK_NAME, "filter": "latest", "per_page": 100}
    if app_id:
        params["app_id"] = app_id
    data = http.json("GET", f"{repo_path(repo)}/commits/{head_sha}/check-runs", params=params)
    runs = data.get("check_runs") if isinstance(data, dict) else None
    ids = [int(r["id"]) for r in runs or () if isinstance(r, dict) and r.get("name") == CHECK_NAME]
    return max(ids) if ids else None


def complete(
    http: Http,
    repo: str,
    run_id: int,
    *,
    conclusion: str,
    title: str,
    summary: str,
    annotations: Sequence[Mapping[str, Any]] = (),
    actions: Sequence[Action] = (),
) -> int:
    """Conclude the run; annotations go 50 per request. Returns the number of requests."""
    title = fit(title.replace("\n", " "), TITLE_LIMIT, "…")
    summary = fit(summary, SUMMARY_LIMIT)
    batches = [
        list(annotations[i : i + ANNOTATIONS_PER_REQUEST])
        for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ] or [[]]
    path = f"{repo_path(repo)}/check-runs/{run_id}"
    first: dict[str, Any] = {
        "status": "completed",
        "conclusion": conclusion,
        "completed_at": _now(),
        "output": {"title": title, "summary": summary, "annotations": batches[0]},
        "actions": [a.as_json() for a in actions],
    }
    # Annotations add up on GitHub: a PATCH that carries some is not repeated blindly.
    http.json("PATCH", path, json=first, retry=not batches[0])
    for batch in batches[1:]:
        http.json(
            "PATCH",
            path,
            json={"output": {"title": title, "summary": summary, "annotations": batch}},
        )
    return len(batches)
