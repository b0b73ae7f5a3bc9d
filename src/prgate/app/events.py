"""From a webhook delivery to the jobs it asks for. Pure: no I/O, parses only what it uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prgate.app.store import JobKind, JobSpec

CHECK_NAME = "prgate"
FIX_ACTION = "apply-fixes"

_PR_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review", "closed"})
#: A review given, edited or dismissed may change what approvals cover (``paths/protected``).
_REVIEW_ACTIONS = frozenset({"submitted", "edited", "dismissed"})
_COMMAND = re.compile(r"^\s*/prgate\s+(recheck|fix|explain)\b[ \t]*([^\s]*)", re.MULTILINE)


@dataclass(frozen=True)
class InstallationNote:
    installation_id: int
    account: str
    action: str
    repos: tuple[str, ...]


@dataclass(frozen=True)
class Routed:
    """What a delivery asks for. ``ignored`` says why nothing is done, for the logs."""

    jobs: tuple[JobSpec, ...] = ()
    installation: InstallationNote | None = None
    ignored: str | None = None


def _ignore(why: str) -> Routed:
    return Routed(ignored=why)


def route(event: str, payload: Mapping[str, Any], *, app_id: str | None) -> Routed:
    action = payload.get("action")
    if event == "ping":
        return _ignore("ping")
    if event in ("installation", "installation_repositories"):
        return _installation(payload, str(action or ""))
    installation = _installation_id(payload)
    repo = _repo(payload)
    if installation is None or repo is None:
        return _ignore("no installation or repository in the payload")
    if event == "pull_request":
        return _pull_request(payload, str(action or ""), repo, installation)
    if event == "pull_request_review":
        return _review(payload, str(action or ""), repo, installation)
    if event == "check_suite":
        return _check_suite(payload, str(action or ""), repo, installation, app_id)
    if event == "check_run":
        return _check_run(payload, str(action or ""), repo, installation, app_id)
    if event == "issue_comment":
        return _issue_comment(payload, str(action or ""), repo, installation)
    return _ignore(f"event {event} is not used")


def _installation_id(payload: Mapping[str, Any]) -> int | None:
    inst = payload.get("installation")
    if isinstance(inst, dict) and isinstance(inst.get("id"), int):
        return int(inst["id"])
    return None


def _repo(payload: Mapping[str, Any]) -> str | None:
    repo = payload.get("repository")
    if isinstance(repo, dict) and isinstance(repo.get("full_name"), str):
        return str(repo["full_name"])
    return None


def _pull_request(payload: Mapping[str, Any], action: str, repo: str, inst: int) -> Routed:
    pr = payload.get("pull_request") or {}
    if action == "edited":
        changes = payload.get("changes") or {}
        if "base" not in changes:
            return _ignore("pull request edited without a change of base")
    elif action not in _PR_ACTIONS:
        return _ignore(f"pull_request.{action} is not used")
    if pr.get("state") == "closed" and action != "closed":
        return _ignore("pull request is closed")
    # ``closed``: the head's verdict is recomputed over the pull requests still open on it.
    sha = str((pr.get("head") or {}).get("sha") or "")
    return Routed(jobs=(JobSpec(JobKind.EVALUATE, repo, inst, int(pr["number"]), sha),))


def _review(payload: Mapping[str, Any], action: str, repo: str, inst: int) -> Routed:
    if action not in _REVIEW_ACTIONS:
        return _ignore(f"pull_request_review.{action} is not used")
    pr = payload.get("pull_request") or {}
    if pr.get("state") == "closed" or not isinstance(pr.get("number"), int):
        return _ignore("review of a closed pull request")
    sha = str((pr.get("head") or {}).get("sha") or "")
    return Routed(jobs=(JobSpec(JobKind.EVALUATE, repo, inst, int(pr["number"]), sha),))


def _ours(app: object, app_id: str | None) -> bool:
    return isinstance(app, dict) and app_id is not None and str(app.get("id")) == str(app_id)


def _check_suite(
    payload: Mapping[str, Any], action: str, repo: str, inst: int, app_id: str | None
) -> Routed:
    if action not in ("requested", "rerequested"):
        return _ignore(f"check_suite.{action} is not used")
    suite = payload.get("check_suite") or {}
    if "app" in suite and not _ours(suite.get("app"), app_id):
        return _ignore("check suite of another app")
    sha = str(suite.get("head_sha") or "")
    asked = {"force": True} if action == "rerequested" else {}  # a person pressed "Re-run"
    jobs = tuple(
        JobSpec(JobKind.EVALUATE, repo, inst, int(p["number"]), sha, asked)
        for p in suite.get("pull_requests") or ()
        if isinstance(p, dict) and isinstance(p.get("number"), int)
    )
    if not jobs:
        return _ignore("check suite without an open pull request")
    return Routed(jobs=jobs)


def _check_run(
    payload: Mapping[str, Any], action: str, repo: str, inst: int, app_id: str | None
) -> Routed:
    run = payload.get("check_run") or {}
    if not _ours(run.get("app"), app_id) or run.get("name") != CHECK_NAME:
        return _ignore("check run of another app")
    sha = str(run.get("head_sha") or "")
    prs = [
        int(p["number"])
        for p in run.get("pull_requests") or ()
        if isinstance(p, dict) and isinstance(p.get("number"), int)
    ]
    if not prs:
        return _ignore("check run without a pull request")
    sender = str((payload.get("sender") or {}).get("login") or "")
    if action == "rerequested":
        extra = {"check_run_id": int(run["id"])} if isinstance(run.get("id"), int) else {}
        return Routed(jobs=tuple(JobSpec(JobKind.EVALUATE, repo, inst, n, sha, extra) for n in prs))
    if action == "requested_action":
        ident = (payload.get("requested_action") or {}).get("identifier")
        if ident != FIX_ACTION:
            return _ignore(f"unknown requested action {ident!r}")
        return Routed(
            jobs=(JobSpec(JobKind.FIX, repo, inst, prs[0], sha, {"requested_by": sender}),)
        )
    return _ignore(f"check_run.{action} is not used")


def _issue_comment(payload: Mapping[str, Any], action: str, repo: str, inst: int) -> Routed:
    if action != "created":
        return _ignore(f"issue_comment.{action} is not used")
    issue = payload.get("issue") or {}
    if not issue.get("pull_request"):
        return _ignore("comment on an issue, not a pull request")
    sender = payload.get("sender") or {}
    if sender.get("type") == "Bot":
        return _ignore("comment by a bot")
    body = str((payload.get("comment") or {}).get("body") or "")
    m = _COMMAND.search(body)
    if not m:
        return _ignore("comment without a prgate command")
    number = int(issue["number"])
    login = str(sender.get("login") or "")
    command, arg = m.group(1), m.group(2)
    if command == "recheck":
        return Routed(jobs=(JobSpec(JobKind.EVALUATE, repo, inst, number, "", {"force": True}),))
    if command == "fix":
        return Routed(jobs=(JobSpec(JobKind.FIX, repo, inst, number, "", {"requested_by": login}),))
    return Routed(
        jobs=(
            JobSpec(
                JobKind.EXPLAIN, repo, inst, number, "", {"rule": arg[:200], "requested_by": login}
            ),
        )
    )


def _installation(payload: Mapping[str, Any], action: str) -> Routed:
    inst = payload.get("installation") or {}
    if not isinstance(inst.get("id"), int):
        return _ignore("installation event without an installation")
    account = str((inst.get("account") or {}).get("login") or "")
    repos: list[str] = []
    for key in ("repositories", "repositories_added"):
        for r in payload.get(key) or ():
            if isinstance(r, dict) and isinstance(r.get("full_name"), str):
                repos.append(str(r["full_name"]))
    return Routed(
        installation=InstallationNote(int(inst["id"]), account, action, tuple(repos)),
        ignored=None,
    )
