"""From a webhook delivery to the jobs it asks for. Pure: no I/O, parses only what it uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prgate.app.commandtext import find_command
from prgate.app.store import JobKind, JobSpec

CHECK_NAME = "prgate"
FIX_ACTION = "apply-fixes"

_PR_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review", "closed"})
#: A review given, edited or dismissed may change what approvals cover (``paths/protected``).
_REVIEW_ACTIONS = frozenset({"submitted", "edited", "dismissed"})
#: A command comment's entry in a ``command`` job's payload: one top-level key per comment, so
#: that the stores' merge of a queued job's payload (shallow) keeps every comment.
COMMENT_KEY = "comment:"


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


#: GitHub numbers pull requests with positive 32-bit integers (GraphQL ``Int``).
_MAX_NUMBER = 2**31 - 1


def _obj(value: object) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one: a signed payload of an odd shape
    is ignored, never a crash."""
    return value if isinstance(value, dict) else {}


def _number(value: object) -> int | None:
    """A pull request's number, or ``None`` when ``value`` is not one (a string, a boolean,
    null, zero, a negative or an out-of-range integer)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_NUMBER:
        return value
    return None


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
    if event == "merge_group":
        return _merge_group(payload, str(action or ""), repo, installation)
    return _ignore(f"event {event} is not used")


def _installation_id(payload: Mapping[str, Any]) -> int | None:
    return installation_id(payload.get("installation"))


def installation_id(inst: object) -> int | None:
    """The id of a payload's ``installation`` object, when it has a valid one."""
    inst_id = _obj(inst).get("id")
    if isinstance(inst_id, int) and not isinstance(inst_id, bool) and 0 < inst_id < 2**63:
        return inst_id
    return None


def _repo(payload: Mapping[str, Any]) -> str | None:
    name = _obj(payload.get("repository")).get("full_name")
    if isinstance(name, str) and name.count("/") == 1 and len(name) <= 300:
        return name
    return None


def _pull_request(payload: Mapping[str, Any], action: str, repo: str, inst: int) -> Routed:
    pr = _obj(payload.get("pull_request"))
    if action == "edited":
        changes = _obj(payload.get("changes"))
        if "base" not in changes:
            return _ignore("pull request edited without a change of base")
    elif action not in _PR_ACTIONS:
        return _ignore(f"pull_request.{action} is not used")
    if pr.get("state") == "closed" and action != "closed":
        return _ignore("pull request is closed")
    number = _number(pr.get("number"))
    if number is None:
        return _ignore("pull request without a valid number")
    # ``closed``: the head's verdict is recomputed over the pull requests still open on it.
    sha = str(_obj(pr.get("head")).get("sha") or "")
    # The event's copy of the pull request: the job confirms it with GitHub in its first query
    # instead of reading the pull request again (see ``github.pullstate``).
    payload = {"pull": event_copy(pr)} if action != "closed" else {}
    return Routed(jobs=(JobSpec(JobKind.EVALUATE, repo, inst, number, sha, payload),))


def event_copy(pr: Mapping[str, Any]) -> dict[str, Any]:
    """What a judgement uses of a webhook's pull request, in the REST shape (small: it is kept
    with the job)."""

    def side(key: str) -> dict[str, Any]:
        branch = _obj(pr.get(key))
        return {
            "sha": branch.get("sha"),
            "ref": branch.get("ref"),
            "repo": {"full_name": _obj(branch.get("repo")).get("full_name")},
        }

    return {
        "number": pr.get("number"),
        "title": pr.get("title") if isinstance(pr.get("title"), str) else "",
        "state": pr.get("state"),
        "draft": pr.get("draft"),
        "changed_files": pr.get("changed_files"),
        "user": {"login": _obj(pr.get("user")).get("login")},
        "labels": [
            {"name": _obj(label).get("name")}
            for label in pr.get("labels") or ()
            if isinstance(label, dict)
        ],
        "head": side("head"),
        "base": side("base"),
    }


def _review(payload: Mapping[str, Any], action: str, repo: str, inst: int) -> Routed:
    if action not in _REVIEW_ACTIONS:
        return _ignore(f"pull_request_review.{action} is not used")
    pr = _obj(payload.get("pull_request"))
    number = _number(pr.get("number"))
    if pr.get("state") == "closed" or number is None:
        return _ignore("review of a closed pull request, or without a valid number")
    sha = str(_obj(pr.get("head")).get("sha") or "")
    return Routed(jobs=(JobSpec(JobKind.EVALUATE, repo, inst, number, sha),))


def _ours(app: object, app_id: str | None) -> bool:
    return isinstance(app, dict) and app_id is not None and str(app.get("id")) == str(app_id)


def _check_suite(
    payload: Mapping[str, Any], action: str, repo: str, inst: int, app_id: str | None
) -> Routed:
    if action not in ("requested", "rerequested"):
        return _ignore(f"check_suite.{action} is not used")
    suite = _obj(payload.get("check_suite"))
    if "app" in suite and not _ours(suite.get("app"), app_id):
        return _ignore("check suite of another app")
    sha = str(suite.get("head_sha") or "")
    asked = {"force": True} if action == "rerequested" else {}  # a person pressed "Re-run"
    jobs = tuple(JobSpec(JobKind.EVALUATE, repo, inst, n, sha, asked) for n in _numbers(suite))
    if not jobs:
        return _ignore("check suite without an open pull request")
    return Routed(jobs=jobs)


def _check_run(
    payload: Mapping[str, Any], action: str, repo: str, inst: int, app_id: str | None
) -> Routed:
    run = _obj(payload.get("check_run"))
    if not _ours(run.get("app"), app_id) or run.get("name") != CHECK_NAME:
        return _ignore("check run of another app")
    sha = str(run.get("head_sha") or "")
    prs = _numbers(run)
    if not prs:
        return _ignore("check run without a pull request")
    sender = str(_obj(payload.get("sender")).get("login") or "")
    if action == "rerequested":
        run_id = run.get("id")
        ok = isinstance(run_id, int) and not isinstance(run_id, bool)
        extra = {"check_run_id": run_id} if ok else {}
        return Routed(jobs=tuple(JobSpec(JobKind.EVALUATE, repo, inst, n, sha, extra) for n in prs))
    if action == "requested_action":
        ident = _obj(payload.get("requested_action")).get("identifier")
        if ident != FIX_ACTION:
            return _ignore(f"unknown requested action {ident!r}")
        return Routed(
            jobs=(JobSpec(JobKind.FIX, repo, inst, prs[0], sha, {"requested_by": sender}),)
        )
    return _ignore(f"check_run.{action} is not used")


def _issue_comment(payload: Mapping[str, Any], action: str, repo: str, inst: int) -> Routed:
    """A ``/prgate`` command becomes a ``command`` job, which decides who may ask for what
    (that takes asking GitHub) and runs each comment's command once. Only a new comment
    counts: an edited one is not asked again."""
    if action != "created":
        return _ignore(f"issue_comment.{action} is not used")
    issue = _obj(payload.get("issue"))
    if not issue.get("pull_request"):
        return _ignore("comment on an issue, not a pull request")
    sender = _obj(payload.get("sender"))
    if sender.get("type") == "Bot":
        return _ignore("comment by a bot")
    comment = _obj(payload.get("comment"))
    found = find_command(str(comment.get("body") or ""))
    if found is None:
        return _ignore("comment without a prgate command")
    number = _number(issue.get("number"))
    if number is None:
        return _ignore("comment on a pull request without a valid number")
    comment_id = comment.get("id")
    if not isinstance(comment_id, int) or isinstance(comment_id, bool) or comment_id <= 0:
        return _ignore("comment without a valid id")
    login = sender.get("login")
    if not isinstance(login, str) or not login:
        return _ignore("comment without a sender")
    author = _obj(issue.get("user")).get("login")
    entry = {
        "command": found.name,
        "arg": found.arg,
        "by": login[:100],
        "author": author[:100] if isinstance(author, str) else "",
    }
    spec = JobSpec(JobKind.COMMAND, repo, inst, number, "", {f"{COMMENT_KEY}{comment_id}": entry})
    return Routed(jobs=(spec,))


#: A merge queue's branch: ``gh-readonly-queue/<base branch>/pr-<number>-<base sha>``.
_QUEUE_REF = re.compile(r"^(?:refs/heads/)?gh-readonly-queue/.+/pr-([0-9]{1,10})-[0-9a-f]{40}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
#: Why GitHub destroys a merge group.
_DESTROYED = frozenset({"merged", "invalidated", "dequeued"})


def queue_pr(head_ref: str) -> int | None:
    """The pull request a merge group was made for, from its branch's name (``None`` when the
    name does not say)."""
    found = _QUEUE_REF.match(head_ref)
    return _number(int(found.group(1))) if found else None


def _merge_group(payload: Mapping[str, Any], action: str, repo: str, inst: int) -> Routed:
    """A merge queue's group asks for checks on its head commit (``checks_requested``), judged
    by the rules of its target branch as they are at the group's base commit; ``destroyed``
    drops a group's queued judging, or concludes a check run still in progress. Both are one
    ``merge_group`` job per head commit, so a ``destroyed`` that arrives while the judging is
    still queued is folded into it (the store merges the payloads)."""
    if action not in ("checks_requested", "destroyed"):
        return _ignore(f"merge_group.{action} is not used")
    group = _obj(payload.get("merge_group"))
    head, base = group.get("head_sha"), group.get("base_sha")
    if not (isinstance(head, str) and _SHA.match(head)):
        return _ignore("merge group without a valid head commit")
    head_ref = group.get("head_ref")
    head_ref = head_ref[:300] if isinstance(head_ref, str) else ""
    number = queue_pr(head_ref) or 0
    if action == "destroyed":
        reason = payload.get("reason")
        why = reason if isinstance(reason, str) and reason in _DESTROYED else "removed"
        return Routed(
            jobs=(JobSpec(JobKind.MERGE_GROUP, repo, inst, number, head, {"destroyed": why}),)
        )
    if not (isinstance(base, str) and _SHA.match(base)):
        return _ignore("merge group without a valid base commit")
    base_ref = group.get("base_ref")
    target = base_ref.removeprefix("refs/heads/")[:255] if isinstance(base_ref, str) else ""
    asked = {"base_sha": base, "base_ref": target, "head_ref": head_ref}
    return Routed(jobs=(JobSpec(JobKind.MERGE_GROUP, repo, inst, number, head, asked),))


def _numbers(obj: Mapping[str, Any]) -> list[int]:
    """The valid numbers of the pull requests listed in a check suite or run."""
    listed = obj.get("pull_requests")
    found = (_number(_obj(p).get("number")) for p in listed) if isinstance(listed, list) else ()
    return [n for n in found if n is not None]


def _installation(payload: Mapping[str, Any], action: str) -> Routed:
    inst = _obj(payload.get("installation"))
    inst_id = installation_id(inst)
    if inst_id is None:
        return _ignore("installation event without an installation")
    account = str(_obj(inst.get("account")).get("login") or "")
    repos: list[str] = []
    for key in ("repositories", "repositories_added"):
        for r in payload.get(key) or ():
            if isinstance(r, dict) and isinstance(r.get("full_name"), str):
                repos.append(str(r["full_name"]))
    return Routed(
        installation=InstallationNote(inst_id, account, action, tuple(repos)),
        ignored=None,
    )
