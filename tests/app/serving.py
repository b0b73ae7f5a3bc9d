"""``python -m prgate serve`` as a real process against the fake GitHub, for the tests that kill,
stop or restart it: the process (:class:`Replica`), its environment, a free loopback port, and a
proxy in front of the fake GitHub that holds chosen requests (:class:`StallingProxy`).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from appharness import World
from fakegithub.state import App
from fakegithub.webhooks import Delivery
from waiting import wait_until

SERVE = [sys.executable, "-m", "prgate", "serve", "--host", "127.0.0.1"]
#: Headers the proxy does not pass on as they came: each hop sets its own.
_REQUEST_HOP = ("host", "content-length", "connection")
_ANSWER_HOP = ("content-length", "transfer-encoding", "connection", "content-encoding")


def passed_through() -> dict[str, str]:
    """What a child ``prgate serve`` keeps of the test's environment: ``PATH``, and
    ``PYTHONPATH`` when set (to run the tests against another copy of the source)."""
    keep = {"PATH": os.environ.get("PATH", "")}
    if os.environ.get("PYTHONPATH"):
        keep["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return keep


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(
    app: App, database_url: str, *, api_url: str, tmp: Path, **settings: str
) -> dict[str, str]:
    """The contract's variables for ``prgate serve`` as ``app`` (its key written into ``tmp``),
    the reconcilers off; ``settings`` adds or overrides variables (``PRGATE_WORKERS="1"``)."""
    key = tmp / "key.pem"
    key.write_text(app.private_key_pem)
    env = {
        "PRGATE_APP_ID": str(app.id),
        "PRGATE_PRIVATE_KEY_PATH": str(key),
        "PRGATE_WEBHOOK_SECRET": app.webhook_secret,
        "PRGATE_GITHUB_API_URL": api_url,
        "PRGATE_DATABASE_URL": database_url,
        "PRGATE_RECONCILE_INTERVAL": "0",  # these tests count the jobs their deliveries make
    }
    return env | settings


def world_env(world: World, *, api_url: str | None = None, **settings: str) -> dict[str, str]:
    """:func:`serve_env` for an appharness world, on the SQLite file ``serve.db`` in its folder."""
    return serve_env(
        world.app,
        f"sqlite:///{world.tmp / 'serve.db'}",
        api_url=api_url or world.gh.base_url,
        tmp=world.tmp,
        **settings,
    )


class Replica:
    """``python -m prgate serve`` as a process of its own, output in ``{cwd}/{name}.log``.

    Started on ``port`` (a free one when not given) and, unless ``wait`` is false, ready when
    made. As a context manager, it is killed at the end if it is still running.
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        cwd: Path,
        name: str,
        port: int | None = None,
        wait: bool = True,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*SERVE, "--port", str(self.port)],
            env={**passed_through(), **env},
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()

    def wait_ready(self) -> None:
        try:
            wait_until(self._ready, f"{self.name} answers /readyz")
        except AssertionError:
            self.kill()
            raise AssertionError(f"{self.name} did not start:\n{self.log()[-3000:]}") from None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def readiness(self) -> int:
        """The status ``/readyz`` answers with, 0 when nothing answers."""
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code
        except httpx.HTTPError:
            return 0

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"prgate serve exited:\n{self.log()[-3000:]}")
        return self.readiness() == 200

    def deliver(self, delivery: Delivery) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/github/webhooks",
            content=delivery.body,
            headers=delivery.headers,
            timeout=10,
        )

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


class StallingProxy:
    """Forwards to ``target``; a request whose path (query left out) matches the regular
    expression ``stall`` is held, and never answered, until :meth:`release`. After that, such
    requests are forwarded like the others.

    ``stalled`` is set when the first request is held, ``stalled_paths`` lists the held ones;
    ``close()`` releases them and stops the proxy.
    """

    def __init__(self, target: str, stall: str) -> None:
        self.target = target
        self.stall = re.compile(stall)
        self.stalled_paths: list[str] = []
        self.stalled = threading.Event()
        self._released = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                if not proxy._released.is_set() and proxy.stall.search(self.path.split("?")[0]):
                    proxy.stalled_paths.append(self.path)
                    proxy.stalled.set()
                    proxy._released.wait(60)
                    self.close_connection = True
                    return  # whoever asked was killed meanwhile, or is told nothing
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _REQUEST_HOP}
                resp = httpx.request(
                    self.command, proxy.target + self.path, content=body, headers=headers
                )
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() not in _ANSWER_HOP:
                        self.send_header(k, v)
                self.send_header("content-length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            do_GET = do_POST = do_PATCH = _forward

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def release(self) -> None:
        """Let the held requests go (unanswered), and forward from now on."""
        self._released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
