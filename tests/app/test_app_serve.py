"""`prgate serve` as a real process with the contract's variables; killed mid-job, restarted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from appharness import World

from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import JobState

BAD = "import os\n\n\ndef add(a, b):\n    return a + b\n"


class StallingProxy:
    """Forwards to the fake GitHub; holds requests whose path contains ``stall`` until released."""

    def __init__(self, target: str, stall: str) -> None:
        self.target = target
        self.stall = stall
        self.stalled = threading.Event()
        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                if proxy.stall in self.path and not proxy.release.is_set():
                    proxy.stalled.set()
                    proxy.release.wait(30)
                    self.close_connection = True
                    return  # the process was killed meanwhile: nobody is listening
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                resp = httpx.request(
                    self.command, proxy.target + self.path, content=body, headers=headers
                )
                self.send_response(resp.status_code)
                for k, v in resp.headers.items():
                    if k.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "content-encoding",
                    ):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            do_GET = do_POST = do_PATCH = _forward

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(world: World, api_url: str, port: int) -> subprocess.Popen[bytes]:
    key = world.tmp / "key.pem"
    key.write_text(world.app.private_key_pem)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PRGATE_APP_ID": str(world.app.id),
        "PRGATE_PRIVATE_KEY_PATH": str(key),
        "PRGATE_WEBHOOK_SECRET": world.app.webhook_secret,
        "PRGATE_GITHUB_API_URL": api_url,
        "PRGATE_DATABASE_URL": f"sqlite:///{world.tmp / 'serve.db'}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "prgate", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=world.tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.communicate()[0].decode(errors="replace"))


def _wait(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_killed_mid_job_then_restarted_finishes_the_job_once(world: World, tmp_path: Path) -> None:
    gh, repo = world.gh, world.repo
    proxy = StallingProxy(gh.base_url, "/files")
    port = _free_port()
    proc = _serve(world, proxy.url, port)
    try:
        pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
        d = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        resp = httpx.post(
            f"http://127.0.0.1:{port}/api/github/webhooks", content=d.body, headers=d.headers
        )
        assert resp.status_code == 202
        assert proxy.stalled.wait(30)
        (run,) = gh.check_runs(repo)
        assert run.status == "in_progress"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        store = SQLiteStore(world.tmp / "serve.db")
        (job,) = store.jobs()
        assert job.state is JobState.RUNNING
        store.close()
        proxy.release.set()
        proc = _serve(world, proxy.url, port)
        _wait(lambda: gh.check_runs(repo)[0].status == "completed")
        _wait(lambda: len(gh.comments(repo, pr.number)) == 1)
        (run,) = gh.check_runs(repo)
        assert run.conclusion == "failure"
        assert len(gh.comments(repo, pr.number)) == 1
        assert gh.count("POST", r"/check-runs$") == 1
        # A redelivery to the restarted process does no work twice.
        again = httpx.post(
            f"http://127.0.0.1:{port}/api/github/webhooks", content=d.body, headers=d.headers
        )
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
    finally:
        proc.terminate()
        try:
            out = proc.communicate(timeout=15)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0].decode(errors="replace")
        proxy.close()
    assert world.app.webhook_secret not in out
    assert "BEGIN" not in out and "ghs_" not in out
