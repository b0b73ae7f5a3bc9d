"""A stateful fake GitHub for prgate's tests (REST + GraphQL over real HTTP on loopback).

Start it with ``with FakeGitHub() as gh:`` (or the ``fake_github`` fixture from
``fakegithub.plugin``); ``gh.base_url`` is the REST root and ``gh.graphql_url`` the GraphQL
endpoint. Repositories are real bare git repositories in a temporary folder. See README.md in
this folder for the whole API: setting up apps, installations, repositories and pull requests,
inspecting check runs, comments and the request log, injecting faults, and building signed
webhook deliveries from the vendored @octokit/webhooks-examples payloads.
"""

from __future__ import annotations

from fakegithub.fake import FakeGitHub, generate_key_pair
from fakegithub.gitrepo import Gitlink, GitRepo, Symlink
from fakegithub.state import (
    App,
    CheckRun,
    Comment,
    HookDelivery,
    Installation,
    LoggedRequest,
    PullRequest,
    Repo,
    Token,
)
from fakegithub.webhooks import Delivery, load_example, sign

__all__ = [
    "App",
    "CheckRun",
    "Comment",
    "Delivery",
    "FakeGitHub",
    "GitRepo",
    "Gitlink",
    "HookDelivery",
    "Installation",
    "LoggedRequest",
    "PullRequest",
    "Repo",
    "Symlink",
    "Token",
    "generate_key_pair",
    "load_example",
    "sign",
]
