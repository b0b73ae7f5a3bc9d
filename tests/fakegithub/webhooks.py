"""Webhook deliveries built from the vendored @octokit/webhooks-examples payloads.

A vendored example is loaded, patched with the fake's ids, names, shas and sender, serialised
once (those exact bytes are what is signed and sent) and signed with HMAC-SHA256.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fakegithub.fake import FakeGitHub
    from fakegithub.state import CheckRun, Installation, PullRequest, Repo

WEBHOOKS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


@dataclass(frozen=True)
class Delivery:
    event: str
    action: str | None
    delivery_id: str
    body: bytes
    headers: dict[str, str]
    payload: dict[str, Any]


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def sign_sha1(body: bytes, secret: str) -> str:
    """The legacy ``X-Hub-Signature`` header value (GitHub still sends it alongside)."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def example_names() -> list[str]:
    return sorted(p.stem for p in WEBHOOKS_DIR.glob("*.json"))


@cache
def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((WEBHOOKS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def load_example(event: str, action: str | None) -> dict[str, Any]:
    """A deep copy of the vendored example for ``event`` (and ``action``)."""
    name = f"{event}.{action}" if action else event
    if not (WEBHOOKS_DIR / f"{name}.json").exists():
        raise ValueError(f"no vendored webhook example for {name}")
    return copy.deepcopy(_load(name))


def build_delivery(
    fake: FakeGitHub,
    event: str,
    action: str | None,
    *,
    installation: Installation | None,
    repo: Repo | None,
    pr: PullRequest | None,
    sender: str | None,
    secret: str | None,
    extra: dict[str, Any],
) -> Delivery:
    from fakegithub import handlers as h

    payload = load_example(event, action)
    if pr is not None and repo is None:
        repo = pr.repo
    if installation is None and repo is not None:
        installation = next(
            (i for i in fake.installations.values() if repo.id in i.repository_ids), None
        )
    app = (
        fake.apps.get(installation.app_id) if installation else next(iter(fake.apps.values()), None)
    )
    sender_login = sender or (pr.author if pr else "builder")
    payload["sender"] = {**payload.get("sender", {}), **h.user_obj(fake, sender_login)}

    if repo is not None and "repository" in payload:
        payload["repository"] = {**payload["repository"], **h.repo_obj(fake, repo)}
    if installation is not None and event not in ("installation", "installation_repositories"):
        payload["installation"] = {
            "id": installation.id,
            "node_id": base64.b64encode(f"Installation{installation.id}".encode()).decode(),
        }
    if repo is not None and "organization" in payload:
        payload["organization"] = {
            **payload["organization"],
            "login": repo.owner,
            "id": h._stable_id(repo.owner),
        }

    if event == "pull_request":
        _patch_pull_request(fake, payload, pr, action, extra)
    elif event == "pull_request_review":
        _patch_pull_request_review(fake, payload, pr, extra)
    elif event == "check_suite":
        _patch_check_suite(fake, payload, repo, pr, app, extra)
    elif event == "check_run":
        _patch_check_run(fake, payload, extra.get("check_run"), repo, pr, extra)
    elif event == "issue_comment":
        _patch_issue_comment(fake, payload, repo, pr, sender_login, extra)
    elif event in ("installation", "installation_repositories"):
        _patch_installation(fake, payload, installation, extra)
    elif event == "merge_group":
        _patch_merge_group(fake, payload, extra)
    elif event == "ping":
        if app is not None:
            payload["hook"] = {**payload.get("hook", {}), "type": "App", "app_id": app.id}
        if repo is None:
            payload.pop("repository", None)
    for key, value in extra.get("payload_overrides", {}).items():
        payload[key] = value

    body = json.dumps(payload, separators=(",", ":")).encode()
    key = secret if secret is not None else (app.webhook_secret if app else "")
    delivery_id = str(extra.get("delivery_id") or uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/fake",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-GitHub-Hook-ID": "1",
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": str(app.id if app else 0),
        "X-Hub-Signature": sign_sha1(body, key),
        "X-Hub-Signature-256": sign(body, key),
    }
    return Delivery(event, action, delivery_id, body, headers, payload)


def _patch_pull_request(
    fake: FakeGitHub,
    payload: dict[str, Any],
    pr: PullRequest | None,
    action: str | None,
    extra: dict[str, Any],
) -> None:
    from fakegithub import handlers as h

    if pr is None:
        raise ValueError("pull_request deliveries need pr=")
    payload["number"] = pr.number
    payload["pull_request"] = {**payload["pull_request"], **h.pull_obj(fake, pr)}
    if action == "synchronize":
        payload["before"] = extra.get("before", payload.get("before"))
        payload["after"] = fake.head_sha(pr)
    if action in ("labeled", "unlabeled"):
        name = extra.get("label") or (pr.labels[-1] if pr.labels else "label")
        payload["label"] = h._label_obj(fake, pr.repo, name)
    if action == "edited":
        payload["changes"] = extra.get(
            "changes", {"base": {"ref": {"from": "develop"}, "sha": {"from": fake.base_sha(pr)}}}
        )


def _patch_pull_request_review(
    fake: FakeGitHub, payload: dict[str, Any], pr: PullRequest | None, extra: dict[str, Any]
) -> None:
    from fakegithub import handlers as h

    review = extra.get("review")
    if pr is None or review is None:
        raise ValueError(
            "pull_request_review deliveries need pr= and review= (a Review of the fake)"
        )
    payload["pull_request"] = {**payload["pull_request"], **h.pull_obj(fake, pr, simple=True)}
    obj = h.review_obj(fake, review)
    obj["state"] = review.state.lower()  # webhooks spell the state in lower case
    payload["review"] = {**payload["review"], **obj}


def _minimal_pulls(fake: FakeGitHub, pr: PullRequest | None) -> list[dict[str, Any]]:
    if pr is None:
        return []
    base_url = fake.base_url
    return [
        {
            "id": pr.id,
            "number": pr.number,
            "url": f"{base_url}/repos/{pr.repo.full_name}/pulls/{pr.number}",
            "head": {
                "ref": pr.head_ref,
                "sha": fake.head_sha(pr),
                "repo": {
                    "id": pr.head_repo.id,
                    "name": pr.head_repo.name,
                    "url": f"{base_url}/repos/{pr.head_repo.full_name}",
                },
            },
            "base": {
                "ref": pr.base_ref,
                "sha": fake.base_sha(pr),
                "repo": {
                    "id": pr.repo.id,
                    "name": pr.repo.name,
                    "url": f"{base_url}/repos/{pr.repo.full_name}",
                },
            },
        }
    ]


def _patch_check_suite(
    fake: FakeGitHub,
    payload: dict[str, Any],
    repo: Repo | None,
    pr: PullRequest | None,
    app: Any,
    extra: dict[str, Any],
) -> None:
    from fakegithub import handlers as h

    head_sha = extra.get("head_sha") or (fake.head_sha(pr) if pr else None)
    suite = payload["check_suite"]
    suite_id = fake.next_id()
    if repo is not None and head_sha and app is not None:
        suite_id = fake.check_suites.setdefault(
            (repo.full_name.lower(), head_sha, app.id), suite_id
        )
    suite.update(
        {
            "id": suite_id,
            "head_sha": head_sha,
            "head_branch": pr.head_ref if pr else None,
            "pull_requests": _minimal_pulls(fake, pr),
            "after": head_sha,
        }
    )
    if app is not None:
        suite["app"] = {**suite.get("app", {}), **h.app_obj(fake, app)}


def _patch_check_run(
    fake: FakeGitHub,
    payload: dict[str, Any],
    run: CheckRun | None,
    repo: Repo | None,
    pr: PullRequest | None,
    extra: dict[str, Any],
) -> None:
    from fakegithub import handlers as h

    if run is None:
        raise ValueError("check_run deliveries need check_run= (a CheckRun of the fake)")
    example_suite = payload["check_run"].get("check_suite", {})
    obj = h.check_run_obj(fake, run)
    obj["check_suite"] = {
        **example_suite,
        "id": run.check_suite_id,
        "head_sha": run.head_sha,
        "head_branch": pr.head_ref if pr else None,
        "pull_requests": _minimal_pulls(fake, pr),
        "app": obj["app"],
    }
    if pr is not None and not obj["pull_requests"]:
        obj["pull_requests"] = _minimal_pulls(fake, pr)
    payload["check_run"] = {**payload["check_run"], **obj}
    if "requested_action" in payload or extra.get("requested_action"):
        payload["requested_action"] = {"identifier": extra.get("requested_action", "apply-fixes")}


def _patch_issue_comment(
    fake: FakeGitHub,
    payload: dict[str, Any],
    repo: Repo | None,
    pr: PullRequest | None,
    sender: str,
    extra: dict[str, Any],
) -> None:
    from fakegithub import handlers as h

    if pr is None or repo is None:
        raise ValueError("issue_comment deliveries need pr=")
    api = f"{fake.base_url}/repos/{repo.full_name}"
    html = f"https://github.com/{repo.full_name}/pull/{pr.number}"
    issue = payload["issue"]
    issue.update(
        {
            "number": pr.number,
            "title": pr.title,
            "body": pr.body,
            "state": pr.state,
            "user": h.user_obj(fake, pr.author),
            "labels": [h._label_obj(fake, repo, n) for n in pr.labels],
            "url": f"{api}/issues/{pr.number}",
            "html_url": html,
            "pull_request": {
                "url": f"{api}/pulls/{pr.number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": pr.merged_at,
            },
        }
    )
    permission = repo.permissions.get(sender, "admin" if sender == repo.owner else "none")
    association = {"admin": "OWNER", "maintain": "MEMBER", "write": "COLLABORATOR"}.get(
        permission, "CONTRIBUTOR" if sender == pr.author else "NONE"
    )
    comment_id = extra.get("comment_id") or fake.next_id()
    payload["comment"] = {
        **payload["comment"],
        "id": comment_id,
        "body": extra.get("comment_body", "/prgate recheck"),
        "user": h.user_obj(fake, sender),
        "author_association": association,
        "url": f"{api}/issues/comments/{comment_id}",
        "html_url": f"{html}#issuecomment-{comment_id}",
        "issue_url": f"{api}/issues/{pr.number}",
    }


def _patch_installation(
    fake: FakeGitHub,
    payload: dict[str, Any],
    installation: Installation | None,
    extra: dict[str, Any],
) -> None:
    from fakegithub import handlers as h

    if installation is None:
        raise ValueError("installation deliveries need installation=")
    payload["installation"] = {**payload["installation"], **h.installation_obj(fake, installation)}
    repos = [r for r in fake.repos.values() if r.id in installation.repository_ids]

    def short(r: Repo) -> dict[str, Any]:
        return {
            "id": r.id,
            "node_id": base64.b64encode(f"Repository{r.id}".encode()).decode(),
            "name": r.name,
            "full_name": r.full_name,
            "private": r.private,
        }

    if "repositories" in payload or payload.get("action") in ("created", "deleted"):
        payload["repositories"] = [short(r) for r in repos]
    if "repositories_added" in payload:
        added = extra.get("repositories_added", repos)
        payload["repositories_added"] = [short(r) for r in added]
        payload["repositories_removed"] = []
        payload["repository_selection"] = "selected"


def _patch_merge_group(fake: FakeGitHub, payload: dict[str, Any], extra: dict[str, Any]) -> None:
    from fakegithub import handlers as h

    group = extra.get("group")
    if group is None:
        raise ValueError("merge_group deliveries need group= (a MergeGroup of the fake)")
    commit = h.git_commit_obj(fake, group.repo, group.head_sha)
    payload["merge_group"] = {
        **payload["merge_group"],
        "head_sha": group.head_sha,
        "head_ref": group.head_ref,
        "base_sha": group.base_sha,
        "base_ref": group.base_ref,
        "head_commit": {
            **payload["merge_group"].get("head_commit", {}),
            "id": group.head_sha,
            "tree_id": commit["tree"]["sha"],
            "message": commit["message"],
        },
    }
    if "reason" in extra:
        payload["reason"] = extra["reason"]
