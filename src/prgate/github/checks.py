"""The ``prgate`` check run: started in progress, completed with a verdict, annotations in
batches of 50 (GitHub's limit per request), output within GitHub's size limits. A completed run
is never put back in progress: it is updated in place, or replaced by a run created completed.

GitHub appends the annotations of every update to those the run already has, and none can be
taken back. A run that is judged again (a re-run, a retried job) therefore gets only the
annotations it does not have yet (``still_to_post``); when it holds one the new verdict no
longer makes, the verdict goes on a new run instead.
"""

from __future__ import annotations

from collections import Counter
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
#: The fields that make two annotations the same one.
_ANNOTATION_KEY = ("path", "start_line", "end_line", "annotation_level", "title", "message")


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


@dataclass(frozen=True)
class Started:
    """A check run in progress: its id, its page on GitHub, and how many annotations it holds."""

    id: int
    url: str | None
    annotations: int = 0


def start(
    http: Http,
    repo: str,
    *,
    head_sha: str,
    summary: str = "prgate is reading the change.",
    details_url: str | None = None,
    title: str = "Checking the change",
) -> Started:
    """Create the check run in progress on a commit that has none. A run that exists is never
    put back in progress: it keeps its verdict until the new one is ready."""
    body: dict[str, Any] = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "in_progress",
        "started_at": _now(),
        "output": {"title": title, "summary": summary},
    }
    if details_url:
        body["details_url"] = details_url
    # Never repeated here: a create whose answer was lost may have happened. The job's next
    # attempt looks for the run (``find``) before it creates one.
    data = http.json("POST", f"{repo_path(repo)}/check-runs", json=body)
    return Started(int(data["id"]), _url(data))


@dataclass(frozen=True)
class RunState:
    """A check run as GitHub shows it now."""

    id: int
    url: str | None
    status: str
    conclusion: str | None
    annotations: int

    @property
    def started(self) -> Started:
        return Started(self.id, self.url, self.annotations)


def state(http: Http, repo: str, run_id: int) -> RunState | None:
    """Run ``run_id`` as it is now; ``None`` when it is gone (deleted, or not ours)."""
    try:
        data = http.json("GET", f"{repo_path(repo)}/check-runs/{run_id}")
    except NotFound:
        return None
    status = data.get("status") if isinstance(data, dict) else None
    conclusion = data.get("conclusion") if isinstance(data, dict) else None
    return RunState(
        run_id,
        _url(data),
        str(status or "queued"),
        str(conclusion) if conclusion else None,
        _annotations_count(data),
    )


def create_completed(
    http: Http,
    repo: str,
    *,
    head_sha: str,
    conclusion: str,
    title: str,
    summary: str,
    annotations: Sequence[Mapping[str, Any]] = (),
    actions: Sequence[Action] = (),
) -> Started:
    """A new run that is completed from its first moment (it takes over from a run whose
    annotations no longer hold, without a pending phase); annotations past the first 50 follow
    in updates that leave the conclusion alone."""
    title = fit(title.replace("\n", " "), TITLE_LIMIT, "…")
    summary = fit(summary, SUMMARY_LIMIT)
    batches = _batches(annotations)
    body: dict[str, Any] = {
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": conclusion,
        "started_at": _now(),
        "completed_at": _now(),
        "output": {"title": title, "summary": summary, "annotations": batches[0]},
        "actions": [a.as_json() for a in actions],
    }
    data = http.json("POST", f"{repo_path(repo)}/check-runs", json=body)
    run = Started(int(data["id"]), _url(data), len(batches[0]))
    for batch in batches[1:]:
        http.json(
            "PATCH",
            f"{repo_path(repo)}/check-runs/{run.id}",
            json={"output": {"title": title, "summary": summary, "annotations": batch}},
        )
    return run


def _batches(annotations: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    return [
        list(annotations[i : i + ANNOTATIONS_PER_REQUEST])
        for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
    ] or [[]]


def _url(data: object) -> str | None:
    url = data.get("html_url") if isinstance(data, dict) else None
    return str(url) if isinstance(url, str) else None


def _annotations_count(data: object) -> int:
    output = data.get("output") if isinstance(data, dict) else None
    count = output.get("annotations_count") if isinstance(output, dict) else None
    # Unknown means "maybe some": the caller then reads them.
    return count if isinstance(count, int) and count >= 0 else 1


def posted_annotations(http: Http, repo: str, run_id: int, count: int) -> list[dict[str, Any]]:
    """The annotations run ``run_id`` holds (``count`` of them, as its output said)."""
    found: list[dict[str, Any]] = []
    path = f"{repo_path(repo)}/check-runs/{run_id}/annotations"
    for batch in http.pages(path, "the check run's annotations"):
        found.extend(a for a in batch if isinstance(a, dict))
        if len(found) >= count:
            break
    return found


def _key(annotation: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(annotation.get(k) for k in _ANNOTATION_KEY)


def still_to_post(
    posted: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]] | None:
    """The ``wanted`` annotations a run holding ``posted`` still lacks, in order; ``None`` when
    it holds one that ``wanted`` does not have (it cannot be taken back: use a new run)."""
    left = Counter(_key(a) for a in posted)
    todo: list[Mapping[str, Any]] = []
    for a in wanted:
        k = _key(a)
        if left[k] > 0:
            left[k] -= 1
        else:
            todo.append(a)
    return None if +left else todo


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
    """Conclude the run; annotations go 50 per request, the last batch with the conclusion (so a
    concluded run holds all of them). Returns the number of requests."""
    title = fit(title.replace("\n", " "), TITLE_LIMIT, "…")
    summary = fit(summary, SUMMARY_LIMIT)
    batches = _batches(annotations)
    path = f"{repo_path(repo)}/check-runs/{run_id}"
    # Annotations add up on GitHub: a PATCH that carries some is not repeated blindly (the
    # job's next attempt reads what arrived and sends the rest).
    for batch in batches[:-1]:
        http.json(
            "PATCH",
            path,
            json={"output": {"title": title, "summary": summary, "annotations": batch}},
        )
    last: dict[str, Any] = {
        "status": "completed",
        "conclusion": conclusion,
        "completed_at": _now(),
        "output": {"title": title, "summary": summary, "annotations": batches[-1]},
        "actions": [a.as_json() for a in actions],
    }
    http.json("PATCH", path, json=last, retry=not batches[-1])
    return len(batches)
