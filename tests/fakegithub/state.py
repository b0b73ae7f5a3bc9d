"""The fake GitHub's state: plain mutable records, guarded by the FakeGitHub's lock."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from fakegithub.gitrepo import GitRepo


@dataclass
class App:
    id: int
    slug: str
    name: str
    client_id: str
    client_secret: str
    webhook_secret: str
    private_key_pem: str
    public_key_pem: str
    owner: str = "octo-org"
    #: Where the fake sends redeliveries asked for through ``POST /app/hook/deliveries/{id}/attempts``.
    webhook_url: str | None = None

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class Installation:
    id: int
    app_id: int
    account: str
    account_type: str = "Organization"
    repository_ids: set[int] = field(default_factory=set)
    permissions: dict[str, str] = field(
        default_factory=lambda: {
            "checks": "write",
            "contents": "write",
            "metadata": "read",
            "pull_requests": "write",
            "issues": "write",
            "members": "read",
        }
    )


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    git: GitRepo
    private: bool = False
    fork_of: Repo | None = None
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin|write|read|none
    #: login -> the name of a custom repository role (its base role is in ``permissions``)
    custom_roles: dict[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def path(self) -> str:
        return str(self.git.path)


@dataclass
class PullRequest:
    id: int
    repo: Repo
    number: int
    title: str
    body: str | None
    author: str
    labels: list[str]
    base_ref: str
    head_ref: str
    head_repo: Repo
    state: str = "open"
    draft: bool = False
    #: When it was merged (``None``: not merged); a merged pull request is closed.
    merged_at: str | None = None
    created_at: str = "2026-01-01T00:00:00Z"
    updated_at: str = "2026-01-01T00:00:00Z"
    #: Once merged: when, the merge commit, and the base branch's tip it was merged onto (what
    #: GitHub keeps showing as the PR's base).
    merged_at: str | None = None
    merge_commit: str | None = None
    merged_base: str | None = None

    @property
    def is_fork(self) -> bool:
        return self.head_repo is not self.repo


@dataclass
class Review:
    """A pull-request review. ``state`` as GitHub's REST API spells it: APPROVED,
    CHANGES_REQUESTED, COMMENTED or DISMISSED."""

    id: int
    pr: PullRequest
    user: str
    state: str
    commit_id: str
    body: str
    submitted_at: str


@dataclass
class CheckRun:
    id: int
    repo: Repo
    app_id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: str | None
    completed_at: str | None
    external_id: str | None
    details_url: str | None
    check_suite_id: int
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    updates: int = 0


@dataclass
class Comment:
    id: int
    repo: Repo
    issue_number: int
    body: str
    user: str
    user_type: str
    created_at: str
    updated_at: str
    app_id: int | None = None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    api_version: str | None
    auth: str | None  # "token" | "jwt" | None
    body: Any


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    remaining: int
    skip: int = 0  # matching requests let through before the first fault


@dataclass
class Chaos:
    """Random faults on a share of the requests (seeded, so that a run can be reproduced)."""

    rate: float
    kinds: tuple[str, ...]  # "502" | "429" | "hang" | "lost"
    rng: random.Random
    method: str | None = None
    pattern: re.Pattern[str] | None = None
    #: How long a hanging answer takes (longer than the client's timeout; always bounded).
    hang_seconds: float = 2.0
    injected: dict[str, int] = field(default_factory=dict)


@dataclass
class HookDelivery:
    """One attempt by the fake to deliver a webhook to an App (as GitHub lists them)."""

    id: int
    guid: str
    app_id: int | None
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    delivered_at: float
    redelivery: bool
    duration: float
    status_code: int
    status: str
    body: bytes = field(repr=False, default=b"")
    headers: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass
class Token:
    token: str
    installation_id: int
    repository_ids: frozenset[int] | None
    permissions: dict[str, str]
    expires_at: float


@dataclass(frozen=True)
class MergeGroup:
    """A merge queue's group, as GitHub makes one: a branch with the queued pull requests'
    changes on top of the target branch."""

    repo: Repo
    head_sha: str
    #: ``refs/heads/gh-readonly-queue/<base>/pr-<number>-<base sha>``
    head_ref: str
    base_sha: str
    #: ``refs/heads/<base>``
    base_ref: str
    prs: tuple[int, ...]


@dataclass
class RateWindow:
    """An installation's primary rate limit, scripted (``FakeGitHub.limit_rate``)."""

    limit: int
    remaining: int
    reset_at: float
    #: Seconds of each next window once this one ends; ``None``: back to unlimited then.
    window: float | None = None
