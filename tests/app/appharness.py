"""Test harness: prgate's App served by uvicorn on loopback, pointed at the fake GitHub."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from fakegithub.fake import FakeGitHub
from fakegithub.state import App, Installation, PullRequest, Repo
from fakegithub.webhooks import Delivery

from prgate.app.server import create_app
from prgate.app.settings import Settings
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import JobState


@dataclass
class World:
    gh: FakeGitHub
    app: App
    inst: Installation
    repo: Repo
    settings: Settings
    tmp: Path


def make_world(gh: FakeGitHub, tmp: Path, *, files: dict[str, Any] | None = None) -> World:
    app = gh.add_app(slug="prgate")
    inst = gh.add_installation(app, account="octo-org")
    repo = gh.create_repo(
        "octo-org/widgets",
        files=files
        or {
            "app/__init__.py": "",
            "app/core.py": "def add(a, b):\n    return a + b\n",
            "tests/test_core.py": "from app.core import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
        },
        installation=inst,
    )
    # The default author of the fake's pull requests pushed their branch to this repository,
    # so they may push (as on GitHub); the fixes they ask for are pushed.
    gh.set_permission(repo, "builder", "write")
    settings = Settings(
        app_id=str(app.id),
        private_key=app.private_key_pem,
        webhook_secret=app.webhook_secret,
        api_url=gh.base_url,
        database_url=f"sqlite:///{tmp / 'prgate.db'}",
        credentials_file=tmp / "prgate-app.json",
        workers=2,
        api_timeout=10.0,
        reconcile_interval=0,  # the reconcilers' own tests turn them on
    )
    return World(gh=gh, app=app, inst=inst, repo=repo, settings=settings, tmp=tmp)


def comment_delivery(
    world: World, pr: PullRequest, body: str, *, sender: str = "builder"
) -> Delivery:
    """The ``issue_comment`` webhook for a new comment ``body`` by ``sender`` on ``pr``."""
    return world.gh.webhook(
        "issue_comment",
        "created",
        repo=world.repo,
        pr=pr,
        comment_body=body,
        sender=sender,
        installation=world.inst,
    )


def fix_click(world: World, pr: PullRequest, run: Any, *, sender: str = "builder") -> Delivery:
    """The ``check_run`` webhook for ``sender`` pressing "Apply fixes" on ``run``."""
    return world.gh.webhook(
        "check_run",
        "requested_action",
        repo=world.repo,
        pr=pr,
        check_run=run,
        requested_action="apply-fixes",
        installation=world.inst,
        sender=sender,
    )


class RunningApp:
    """The App under uvicorn in a thread, on a free loopback port."""

    def __init__(
        self, settings: Settings, *, start_workers: bool = True, store: SQLiteStore | None = None
    ) -> None:
        self.settings = settings
        self.store = store or SQLiteStore.from_url(settings.database_url)
        self.asgi = create_app(
            settings, store=self.store, start_workers=start_workers, backoff=lambda _n: 0.05
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RunningApp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.asgi, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the App did not start")
            time.sleep(0.01)
        self._sock = sock
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.store.close()

    def deliver(self, delivery: Any, **overrides: str) -> httpx.Response:
        headers = dict(delivery.headers)
        headers.update(overrides)
        return httpx.post(
            f"{self.url}/api/github/webhooks", content=delivery.body, headers=headers, timeout=10
        )

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10)

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Until no job is queued (and due within a few seconds) or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.store.jobs()
            busy = [j for j in jobs if j.state is JobState.RUNNING or (j.state is JobState.QUEUED)]
            due = self.store.next_due()
            if not busy or (
                all(j.state is JobState.QUEUED for j in busy)
                and due is not None
                and due > time.time() + 5
            ):
                return
            time.sleep(0.05)
        raise AssertionError(f"jobs still busy: {self.store.jobs()}")
