"""FakeGitHub: the state, the test-facing helpers, and the server's lifecycle.

See README.md next to this file for the API. The HTTP handlers live in ``handlers.py``.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fakegithub.gitrepo import FileValue, GitRepo
from fakegithub.locks import StateLock
from fakegithub.state import (
    App,
    Chaos,
    CheckRun,
    Comment,
    Fault,
    HookDelivery,
    Installation,
    LoggedRequest,
    MergeGroup,
    PullRequest,
    RateWindow,
    Repo,
    Review,
    Token,
)
from fakegithub.webhooks import Delivery, build_delivery


def generate_key_pair() -> tuple[str, str]:
    """A fresh RSA key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


_KEY_CACHE: list[tuple[str, str]] = []
# Ids are unique across every FakeGitHub of the process: clients (githubkit among them) cache
# installation tokens by (app id, installation id), and a token of an earlier fake must not match.
_IDS = itertools.count(1001)


def _cached_key_pair() -> tuple[str, str]:
    # Key generation costs ~50-100 ms; tests reuse one pair per process unless asked otherwise.
    if not _KEY_CACHE:
        _KEY_CACHE.append(generate_key_pair())
    return _KEY_CACHE[0]


class FakeGitHub:
    """A stateful fake of GitHub's REST + GraphQL API over real HTTP on loopback."""

    def __init__(
        self, *, validate_responses: bool = True, root: Path | None = None, latency: float = 0.0
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fakegithub-")
            root = Path(self._tmp.name)
        self.root = root
        self.validate_responses = validate_responses
        #: Guards the state: ``with lock:`` to change it, ``with lock.shared():`` to read it.
        self.lock = StateLock()
        #: Guards the request log, rate-limit counters and schema errors (appended by readers).
        self.log_lock = threading.Lock()
        #: Guards ``faults`` and ``chaos``.
        self.fault_lock = threading.Lock()
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.repos: dict[str, Repo] = {}
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.check_runs_by_id: dict[int, CheckRun] = {}
        self.comments_by_id: dict[int, Comment] = {}
        self.tokens: dict[str, Token] = {}
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.schema_errors: list[str] = []
        self.manifest_codes: dict[str, dict[str, Any]] = {}
        self.rate_used: dict[str, int] = {}
        self.check_suites: dict[tuple[str, str, int], int] = {}
        #: Scripted primary rate limits by installation id (``limit_rate``), under ``log_lock``.
        self.rate_windows: dict[int, RateWindow] = {}
        #: Pull-request reviews by id (``add_review``).
        self.reviews_by_id: dict[int, Review] = {}
        #: ``org/team-slug`` (lower case) -> logins (lower case) of its active members.
        self.teams: dict[str, set[str]] = {}
        #: Seconds added to every answer (the server keeps answering other requests meanwhile).
        self.latency = latency
        self.chaos: Chaos | None = None
        self.stopping = False
        self.hook_log: list[HookDelivery] = []
        self._senders: list[threading.Thread] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeGitHub is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.base_url}/graphql"

    def start(self) -> FakeGitHub:
        from fakegithub.handlers import build_asgi_app

        self.stopping = False
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        self._sock: socket.socket | None = sock
        config = uvicorn.Config(
            build_asgi_app(self),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fakegithub", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("FakeGitHub's server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        for sender in list(self._senders):
            sender.join(timeout=10)
        self._senders.clear()
        with self.fault_lock:
            self.chaos = None
            self.stopping = True  # hanging answers end at once
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        self._port = None
        with self.lock:
            for repo in self.repos.values():
                repo.git.close()
        if getattr(self, "_sock", None) is not None:
            assert self._sock is not None
            self._sock.close()
            self._sock = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def next_id(self) -> int:
        return next(_IDS)

    # ------------------------------------------------------------------ apps & installations
    def add_app(
        self,
        *,
        slug: str = "prgate",
        name: str | None = None,
        webhook_secret: str | None = None,
        owner: str = "octo-org",
        fresh_key: bool = False,
    ) -> App:
        private, public = generate_key_pair() if fresh_key else _cached_key_pair()
        with self.lock:
            app_id = self.next_id()
            app = App(
                id=app_id,
                slug=slug,
                name=name or slug,
                client_id=f"Iv1.{secrets.token_hex(8)}",
                client_secret=secrets.token_hex(20),
                webhook_secret=webhook_secret or secrets.token_hex(16),
                private_key_pem=private,
                public_key_pem=public,
                owner=owner,
            )
            self.apps[app_id] = app
            return app

    def add_installation(
        self, app: App, *, account: str = "octo-org", account_type: str = "Organization"
    ) -> Installation:
        with self.lock:
            inst = Installation(
                id=self.next_id(), app_id=app.id, account=account, account_type=account_type
            )
            self.installations[inst.id] = inst
            return inst

    def add_manifest_code(self, code: str, *, manifest: Mapping[str, Any] | None = None) -> None:
        """Make ``code`` exchangeable once at ``POST /app-manifests/{code}/conversions``."""
        with self.lock:
            self.manifest_codes[code] = dict(manifest or {})

    def issue_token(
        self,
        installation: Installation,
        *,
        repository_ids: frozenset[int] | None = None,
        ttl: float = 3600.0,
    ) -> Token:
        with self.lock:
            token = Token(
                token=f"ghs_{secrets.token_urlsafe(27)[:36]}",
                installation_id=installation.id,
                repository_ids=repository_ids,
                permissions=dict(installation.permissions),
                expires_at=time.time() + ttl,
            )
            self.tokens[token.token] = token
            return token

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = time.time() - 1

    # ------------------------------------------------------------------ repositories
    def create_repo(
        self,
        full_name: str,
        *,
        files: Mapping[str, FileValue] | None = None,
        default_branch: str = "main",
        installation: Installation | None = None,
        private: bool = False,
        fork_of: Repo | None = None,
    ) -> Repo:
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository name must be owner/name, not {full_name!r}")
        with self.lock:
            if full_name.lower() in self.repos:
                raise ValueError(f"{full_name} exists already")
            path = self.root / "repos" / owner / f"{name}.git"
            git = GitRepo.init(path, default_branch=default_branch)
            if fork_of is not None:
                git.git(
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    str(fork_of.git.path),
                    "+refs/heads/*:refs/heads/*",
                )
            elif files is not None:
                git.commit_files(f"refs/heads/{default_branch}", files, "Initial commit")
            if fork_of is not None and files:
                git.commit_files(f"refs/heads/{default_branch}", files, "Fork changes")
            repo = Repo(
                id=self.next_id(),
                owner=owner,
                name=name,
                default_branch=default_branch,
                git=git,
                private=private,
                fork_of=fork_of,
            )
            self.repos[full_name.lower()] = repo
            if installation is not None:
                installation.repository_ids.add(repo.id)
            return repo

    def repo(self, full_name: str) -> Repo:
        with self.lock.shared():
            return self.repos[full_name.lower()]

    def repo_by_id(self, repo_id: int) -> Repo | None:
        with self.lock.shared():
            return next((r for r in self.repos.values() if r.id == repo_id), None)

    def install_repo(self, installation: Installation, repo: Repo) -> None:
        with self.lock:
            installation.repository_ids.add(repo.id)

    def push(
        self,
        repo: Repo,
        branch: str,
        files: Mapping[str, FileValue],
        *,
        message: str = "Update",
        parent: str | None = None,
        author: str | None = None,
        committer: str | None = None,
    ) -> str:
        """Commit ``files`` on ``branch`` (created from the default branch if new); the new sha.

        ``author``/``committer`` are GitHub logins (the commit carries their no-reply e-mail, so
        that GitHub's lists name them); by default the commit is the fake builder's."""
        with self.lock:
            ref = f"refs/heads/{branch}"
            if parent is None:
                parent = repo.git.ref_sha(ref) or repo.git.ref_sha(
                    f"refs/heads/{repo.default_branch}"
                )
            who = _person(author) if author else ("Fake Builder", "builder@example.com")
            sha = repo.git.commit_files(
                ref,
                files,
                message,
                parent=parent,
                when=1_700_000_000 + self.next_id(),
                author=who,
                committer=_person(committer) if committer else who,
            )
            self._sync_pull_refs()
            return sha

    def branch_head(self, repo: Repo, branch: str) -> str | None:
        with self.lock.shared():
            return repo.git.ref_sha(f"refs/heads/{branch}")

    def files_at(self, repo: Repo, rev: str) -> dict[str, bytes]:
        with self.lock.shared():
            return repo.git.files_at(rev)

    def commit_parents(self, repo: Repo, sha: str) -> list[str]:
        with self.lock.shared():
            return list(repo.git.commit_info(sha).parents)

    def commit_message(self, repo: Repo, sha: str) -> str:
        with self.lock.shared():
            return repo.git.commit_info(sha).message

    def set_permission(
        self, repo: Repo, login: str, permission: str, *, custom_role: str | None = None
    ) -> None:
        """``login``'s role on ``repo``; ``custom_role`` names a custom repository role built
        on ``permission`` (GitHub then answers that name as ``role_name``)."""
        if permission not in ("admin", "maintain", "write", "triage", "read", "none"):
            raise ValueError(permission)
        with self.lock:
            repo.permissions[login] = permission
            if custom_role is None:
                repo.custom_roles.pop(login, None)
            else:
                repo.custom_roles[login] = custom_role

    # ------------------------------------------------------------------ pull requests
    def open_pull_request(
        self,
        repo: Repo,
        *,
        head: str = "feature",
        files: Mapping[str, FileValue] | None = None,
        base: str | None = None,
        title: str = "A change",
        body: str | None = "What this change does.",
        author: str = "builder",
        labels: list[str] | None = None,
        fork_owner: str | None = None,
        draft: bool = False,
    ) -> PullRequest:
        """Open a PR from ``head`` (in ``repo``, or in a fork owned by ``fork_owner``).

        ``files`` are committed on the head branch first (branching from the base branch when the
        head branch does not exist yet).
        """
        with self.lock:
            base = base or repo.default_branch
            head_repo = repo
            if fork_owner is not None:
                fork_name = f"{fork_owner}/{repo.name}"
                head_repo = self.repos.get(fork_name.lower()) or self.create_repo(
                    fork_name, fork_of=repo, default_branch=repo.default_branch
                )
            if files is not None or head_repo.git.ref_sha(f"refs/heads/{head}") is None:
                start = head_repo.git.ref_sha(f"refs/heads/{head}") or head_repo.git.ref_sha(
                    f"refs/heads/{base}"
                )
                head_repo.git.commit_files(
                    f"refs/heads/{head}",
                    files or {},
                    title,
                    parent=start,
                    when=1_700_000_000 + self.next_id(),
                )
            number = 1 + max(
                (n for (name, n) in self.pulls if name == repo.full_name.lower()), default=0
            )
            pr = PullRequest(
                id=self.next_id(),
                repo=repo,
                number=number,
                title=title,
                body=body,
                author=author,
                labels=list(labels or []),
                base_ref=base,
                head_ref=head,
                head_repo=head_repo,
                draft=draft,
            )
            self.pulls[(repo.full_name.lower(), number)] = pr
            self._sync_pull_refs()
            return pr

    def pull(self, repo: Repo, number: int) -> PullRequest | None:
        with self.lock.shared():
            return self.pulls.get((repo.full_name.lower(), number))

    def head_sha(self, pr: PullRequest) -> str:
        with self.lock.shared():
            sha = pr.head_repo.git.ref_sha(f"refs/heads/{pr.head_ref}")
            if sha is None:
                sha = pr.repo.git.ref_sha(f"refs/pull/{pr.number}/head")
            if sha is None:
                raise RuntimeError(f"PR #{pr.number} has no head")
            return sha

    def base_sha(self, pr: PullRequest) -> str:
        with self.lock.shared():
            if pr.merged_base is not None:
                return pr.merged_base
            sha = pr.repo.git.ref_sha(f"refs/heads/{pr.base_ref}")
            if sha is None:
                raise RuntimeError(f"PR #{pr.number} has no base branch {pr.base_ref}")
            return sha

    def change_base(self, pr: PullRequest, base: str) -> None:
        """Retarget the PR at another base branch (what a ``pull_request.edited`` reports)."""
        with self.lock:
            if pr.repo.git.ref_sha(f"refs/heads/{base}") is None:
                raise ValueError(f"{pr.repo.full_name} has no branch {base}")
            pr.base_ref = base

    def merge_pull_request(self, pr: PullRequest) -> str:
        """Merge the PR with a merge commit on its base branch (GitHub's "Create a merge
        commit"): the base gets the PR's changes, the PR is closed and merged. The merge
        commit's sha."""
        with self.lock:
            git = pr.repo.git
            base = self.base_sha(pr)
            head = self.head_sha(pr)
            fork_point = git.merge_base(base, head) or base
            changes: dict[str, FileValue] = {}
            for d in git.diff(fork_point, head):
                if d.previous_filename and d.status == "renamed":
                    changes[d.previous_filename] = None
                changes[d.filename] = (
                    None if d.status == "removed" else git.read_file(head, d.filename)
                )
            tree = git.build_tree(git.tree_of(base), changes)
            when = 1_700_000_000 + self.next_id()
            message = f"Merge pull request #{pr.number} from {pr.head_ref}\n\n{pr.title}"
            who = ("Fake Builder", "builder@example.com", when)
            sha = git.commit(tree, [base, head], message, author=who)
            git.update_ref(f"refs/heads/{pr.base_ref}", sha)
            now = _iso(time.time())
            pr.state = "closed"
            pr.merged_at = now
            pr.updated_at = now
            pr.merge_commit = sha
            pr.merged_base = base
            self._sync_pull_refs()
            return sha

    def close_pull_request(self, pr: PullRequest) -> None:
        """Close the PR without merging it (what a ``pull_request.closed`` reports)."""
        with self.lock:
            pr.state = "closed"
            pr.updated_at = _iso(time.time())

    def reopen_pull_request(self, pr: PullRequest) -> None:
        """Open a closed PR again (what a ``pull_request.reopened`` reports)."""
        with self.lock:
            pr.state = "open"
            pr.updated_at = _iso(time.time())

    def add_label(self, pr: PullRequest, label: str) -> None:
        with self.lock:
            if label not in pr.labels:
                pr.labels.append(label)

    def remove_label(self, pr: PullRequest, label: str) -> None:
        with self.lock:
            if label in pr.labels:
                pr.labels.remove(label)

    # ------------------------------------------------------------------ reviews and teams
    def add_review(
        self,
        pr: PullRequest,
        user: str,
        state: str = "APPROVED",
        *,
        commit: str | None = None,
        body: str = "",
    ) -> Review:
        """``user`` reviews ``pr`` (on its current head unless ``commit`` is given)."""
        if state not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED"):
            raise ValueError("a review is submitted as APPROVED, CHANGES_REQUESTED or COMMENTED")
        sha = commit or self.head_sha(pr)
        with self.lock:
            review = Review(
                id=self.next_id(),
                pr=pr,
                user=user,
                state=state,
                commit_id=sha,
                body=body,
                submitted_at=_iso(time.time()),
            )
            self.reviews_by_id[review.id] = review
            return review

    def dismiss_review(self, review: Review) -> None:
        """As a maintainer dismissing it: the review's state becomes DISMISSED."""
        with self.lock:
            review.state = "DISMISSED"

    def reviews(self, pr: PullRequest) -> list[Review]:
        with self.lock.shared():
            return sorted(
                (r for r in self.reviews_by_id.values() if r.pr is pr), key=lambda r: r.id
            )

    def add_team_member(self, team: str, login: str) -> None:
        """Make ``login`` an active member of ``org/team-slug``."""
        with self.lock:
            self.teams.setdefault(team.lower(), set()).add(login.lower())

    def login_for_email(self, email: str) -> str | None:
        """The GitHub user a commit e-mail belongs to: no-reply addresses
        (``[id+]login@users.noreply.github.com``) and the fake builder's ``builder@example.com``."""
        local, _, domain = email.partition("@")
        if domain == "users.noreply.github.com":
            return local.split("+", 1)[-1] or None
        if email == "builder@example.com":
            return "builder"
        return None

    def queue_merge_group(
        self, prs: list[PullRequest], *, rebase: bool = False, base: str | None = None
    ) -> MergeGroup:
        """What GitHub's merge queue makes for the last of ``prs`` queued behind the others:
        from the base branch's tip, one commit per pull request with its change (squashed,
        ``title (#N)``; or, with ``rebase``, under the pull request's own head commit message),
        on the branch ``gh-readonly-queue/<base>/pr-<N>-<base sha>``. The base branch stays."""
        with self.lock:
            repo = prs[-1].repo
            base = base or prs[-1].base_ref
            base_sha = repo.git.ref_sha(f"refs/heads/{base}")
            if base_sha is None:
                raise ValueError(f"{repo.full_name} has no branch {base}")
            ref = f"refs/heads/gh-readonly-queue/{base}/pr-{prs[-1].number}-{base_sha}"
            tip = base_sha
            for pr in prs:
                head = self.head_sha(pr)
                start = repo.git.merge_base(self.base_sha(pr), head) or base_sha
                changes: dict[str, FileValue] = {}
                for d in repo.git.diff(start, head):
                    if d.previous_filename is not None and d.status == "renamed":
                        changes[d.previous_filename] = None
                    gone = d.status == "removed"
                    changes[d.filename] = None if gone else repo.git.read_file(head, d.filename)
                message = (
                    repo.git.commit_info(head).message if rebase else f"{pr.title} (#{pr.number})"
                )
                tip = repo.git.commit_files(
                    ref, changes, message, parent=tip, when=1_700_000_000 + self.next_id()
                )
            return MergeGroup(
                repo=repo,
                head_sha=tip,
                head_ref=ref,
                base_sha=base_sha,
                base_ref=f"refs/heads/{base}",
                prs=tuple(pr.number for pr in prs),
            )

    def _sync_pull_refs(self) -> None:
        """Keep refs/pull/N/head in each base repo at its PR's head (fetching from forks)."""
        for pr in self.pulls.values():
            sha = pr.head_repo.git.ref_sha(f"refs/heads/{pr.head_ref}")
            if sha is None:
                continue
            if pr.repo.git.ref_sha(f"refs/pull/{pr.number}/head") == sha:
                continue
            if pr.is_fork and pr.repo.git.object_type(sha) is None:
                pr.repo.git.git(
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    str(pr.head_repo.git.path),
                    f"+refs/heads/{pr.head_ref}:refs/pull/{pr.number}/head",
                )
            else:
                pr.repo.git.update_ref(f"refs/pull/{pr.number}/head", sha)

    # ------------------------------------------------------------------ inspection
    def check_runs(self, repo: Repo, *, head_sha: str | None = None) -> list[CheckRun]:
        with self.lock.shared():
            return [
                r
                for r in self.check_runs_by_id.values()
                if r.repo is repo and (head_sha is None or r.head_sha == head_sha)
            ]

    def comments(self, repo: Repo, number: int) -> list[Comment]:
        with self.lock.shared():
            return [
                c
                for c in self.comments_by_id.values()
                if c.repo is repo and c.issue_number == number
            ]

    def add_comment(
        self, repo: Repo, number: int, body: str, *, user: str = "builder", app: App | None = None
    ) -> Comment:
        """A comment written by a person (not through the API), or by ``app``'s bot."""
        with self.lock:
            now = _iso(time.time())
            comment = Comment(
                id=self.next_id(),
                repo=repo,
                issue_number=number,
                body=body,
                user=app.bot_login if app is not None else user,
                user_type="Bot" if app is not None else "User",
                created_at=now,
                updated_at=now,
                app_id=app.id if app is not None else None,
            )
            self.comments_by_id[comment.id] = comment
            return comment

    def count(self, method: str | None = None, path_regex: str = "") -> int:
        """How many logged requests match ``method`` (None = any) and ``path_regex``."""
        pattern = re.compile(path_regex)
        with self.log_lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper()) and pattern.search(r.path)
            )

    def clear_requests(self) -> None:
        with self.log_lock:
            self.requests.clear()

    # ------------------------------------------------------------------ rate limits
    def limit_rate(
        self,
        installation: Installation,
        *,
        remaining: int,
        reset_at: float,
        limit: int | None = None,
        window: float | None = None,
    ) -> None:
        """Script the installation's primary rate limit: its tokens' answers carry
        ``x-ratelimit-remaining`` counting down from ``remaining`` and ``x-ratelimit-reset`` at
        ``reset_at``; a call with nothing left is answered 403 "API rate limit exceeded" (no
        effect). At ``reset_at`` a new window of ``limit`` calls and ``window`` seconds begins,
        or, without ``window``, the script ends."""
        with self.log_lock:
            self.rate_windows[installation.id] = RateWindow(
                limit=limit if limit is not None else remaining,
                remaining=remaining,
                reset_at=reset_at,
                window=window,
            )

    def rate_remaining(self, installation: Installation) -> int | None:
        """What is left of the scripted rate limit of ``installation`` (``None``: none)."""
        with self.log_lock:
            w = self.rate_windows.get(installation.id)
            return w.remaining if w is not None else None

    # ------------------------------------------------------------------ faults
    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        skip: int = 0,
    ) -> None:
        """Answer the next ``times`` requests matching (method, path regex) with this response,
        after letting ``skip`` of them through."""
        with self.fault_lock:
            self.faults.append(
                Fault(
                    method=method.upper(),
                    pattern=re.compile(path_regex),
                    status=status,
                    headers=dict(headers or {}),
                    body=body if body is not None else {"message": f"Injected {status}"},
                    remaining=times,
                    skip=skip,
                )
            )

    def inject_faults(
        self,
        rate: float,
        *,
        kinds: tuple[str, ...] = ("502", "429", "hang"),
        seed: int = 0,
        method: str | None = None,
        path_regex: str | None = None,
        hang_seconds: float = 2.0,
    ) -> None:
        """Answer a share ``rate`` of the requests (matching ``method``/``path_regex`` when
        given) with a fault picked at random from ``kinds`` (see README). ``rate=0`` stops it."""
        unknown = set(kinds) - {"502", "429", "hang", "lost"}
        if unknown or not kinds:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0.0 <= rate <= 1.0 or not 0.0 < hang_seconds <= 30.0:
            raise ValueError("rate must be within 0..1 and hang_seconds within 0..30")
        with self.fault_lock:
            if rate == 0.0:
                self.chaos = None
                return
            self.chaos = Chaos(
                rate=rate,
                kinds=tuple(kinds),
                rng=random.Random(seed),
                method=method.upper() if method else None,
                pattern=re.compile(path_regex) if path_regex else None,
                hang_seconds=hang_seconds,
            )

    def clear_faults(self) -> None:
        """Stop random faults and drop pending ``fail_next`` faults."""
        with self.fault_lock:
            self.chaos = None
            self.faults.clear()

    def faults_injected(self) -> dict[str, int]:
        """How many random faults of each kind were answered so far."""
        with self.fault_lock:
            return dict(self.chaos.injected) if self.chaos is not None else {}

    # ------------------------------------------------------------------ webhook deliveries
    def set_webhook_url(self, app: App, url: str | None) -> None:
        """Where redeliveries of ``app``'s webhooks are sent."""
        with self.lock:
            app.webhook_url = url

    def deliver(self, delivery: Delivery, url: str, *, timeout: float = 10.0) -> HookDelivery:
        """POST ``delivery`` to ``url`` as GitHub would, and record the attempt (listed by
        ``GET /app/hook/deliveries``)."""
        return self._send(delivery.body, delivery.headers, url, timeout=timeout, redelivery=False)

    def record_delivery(
        self,
        delivery: Delivery,
        *,
        status_code: int,
        status: str | None = None,
        redelivery: bool = False,
    ) -> HookDelivery:
        """Record an attempt without sending it (e.g. the App was down: ``status_code=0``)."""
        return self._record(
            delivery.body,
            delivery.headers,
            status_code=status_code,
            status=status or _status_text(status_code),
            duration=0.0,
            redelivery=redelivery,
        )

    def hook_deliveries(self, app: App | None = None) -> list[HookDelivery]:
        with self.lock.shared():
            return [d for d in self.hook_log if app is None or d.app_id == app.id]

    def wait_redeliveries(self, timeout: float = 10.0) -> None:
        """Until every redelivery asked for so far has been attempted."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                pending = [t for t in self._senders if t.is_alive()]
                self._senders = pending
            if not pending:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("redeliveries are still being sent")
            pending[0].join(left)

    def redeliver(self, hook: HookDelivery) -> None:
        """Send ``hook`` again to its App's webhook URL, in the background (as GitHub does
        after ``POST /app/hook/deliveries/{id}/attempts``)."""
        app = self.apps.get(hook.app_id or -1)
        url = app.webhook_url if app is not None else None

        def send() -> None:
            if url is None:
                self._record(
                    hook.body,
                    hook.headers,
                    status_code=0,
                    status="no URL",
                    duration=0.0,
                    redelivery=True,
                )
                return
            self._send(hook.body, hook.headers, url, timeout=10.0, redelivery=True)

        thread = threading.Thread(target=send, name="fakegithub-redeliver", daemon=True)
        with self.lock:
            self._senders.append(thread)
        thread.start()

    def _send(
        self,
        body: bytes,
        headers: Mapping[str, str],
        url: str,
        *,
        timeout: float,
        redelivery: bool,
    ) -> HookDelivery:
        import httpx

        started = time.monotonic()
        try:
            resp = httpx.post(url, content=body, headers=dict(headers), timeout=timeout)
            code, text = resp.status_code, _status_text(resp.status_code)
        except httpx.TimeoutException:
            code, text = 0, "timed out"
        except httpx.HTTPError:
            code, text = 0, "failed to connect"
        return self._record(
            body,
            headers,
            status_code=code,
            status=text,
            duration=time.monotonic() - started,
            redelivery=redelivery,
        )

    def _record(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        status_code: int,
        status: str,
        duration: float,
        redelivery: bool,
    ) -> HookDelivery:
        import json

        lower = {k.lower(): v for k, v in headers.items()}
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        inst = payload.get("installation")
        inst_id = inst.get("id") if isinstance(inst, dict) else None
        repo = payload.get("repository")
        target = lower.get("x-github-hook-installation-target-id", "")
        action = payload.get("action")
        with self.lock:
            hook = HookDelivery(
                id=self.next_id(),
                guid=lower.get("x-github-delivery", ""),
                app_id=int(target) if target.isdigit() else None,
                event=lower.get("x-github-event", ""),
                action=action if isinstance(action, str) else None,
                installation_id=inst_id if isinstance(inst_id, int) else None,
                repository_id=repo.get("id") if isinstance(repo, dict) else None,
                delivered_at=time.time(),
                redelivery=redelivery,
                duration=round(duration, 3),
                status_code=status_code,
                status=status,
                body=body,
                headers=dict(headers),
            )
            self.hook_log.append(hook)
            return hook

    # ------------------------------------------------------------------ webhooks
    def webhook(
        self,
        event: str,
        action: str | None,
        *,
        installation: Installation | None = None,
        repo: Repo | None = None,
        pr: PullRequest | None = None,
        sender: str | None = None,
        secret: str | None = None,
        **extra: Any,
    ) -> Delivery:
        """A signed delivery of ``event``/``action`` patched with this fake's state (see README)."""
        with self.lock:
            return build_delivery(
                self,
                event,
                action,
                installation=installation,
                repo=repo,
                pr=pr,
                sender=sender,
                secret=secret,
                extra=extra,
            )


def _status_text(code: int) -> str:
    if 200 <= code < 300:
        return "OK"
    if code == 0:
        return "failed to connect"
    return f"Invalid HTTP Response: {code}"


def _person(login: str) -> tuple[str, str]:
    return (login, f"{login}@users.noreply.github.com")


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
