"""The fake GitHub's state: plain mutable records, guarded by the FakeGitHub's lock."""

from __future__ import annotations

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
    created_at: str = "2026-01-01T00:00:00Z"
    updated_at: str = "2026-01-01T00:00:00Z"

    @property
    def is_fork(self) -> bool:
        return self.head_repo is not self.repo


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


@dataclass
class Token:
    token: str
    installation_id: int
    repository_ids: frozenset[int] | None
    permissions: dict[str, str]
    expires_at: float
