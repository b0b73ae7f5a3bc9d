"""``prgate serve`` as a subprocess for the benchmarks: started, waited on, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Serve:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    log_file: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log_file.close()


def app_env(
    app: Any, database_url: str, *, api_url: str, tmp: Path, workers: int, **settings: str
) -> dict[str, str]:
    """The variables for `prgate serve` as the fake GitHub's ``app`` (its key written into
    ``tmp``), reconciling off and no queue limit; ``settings`` adds more."""
    key = tmp / "key.pem"
    key.write_text(app.private_key_pem)
    return {
        "PRGATE_APP_ID": str(app.id),
        "PRGATE_PRIVATE_KEY_PATH": str(key),
        "PRGATE_WEBHOOK_SECRET": app.webhook_secret,
        "PRGATE_GITHUB_API_URL": api_url,
        "PRGATE_DATABASE_URL": database_url,
        "PRGATE_WORKERS": str(workers),
        "PRGATE_RECONCILE_INTERVAL": "0",
        "PRGATE_QUEUE_LIMIT": "100000",
        **settings,
    }


def start_serve(env: dict[str, str], *, cwd: Path, name: str = "serve") -> Serve:
    """``python -m prgate serve`` on a free loopback port, once ``/readyz`` answers 200.

    ``env`` holds the ``PRGATE_*`` settings; only ``PATH`` is passed on besides. Output goes to a
    file in ``cwd`` (a pipe nobody reads would stall the server under load).
    """
    port = free_port()
    log_path = cwd / f"{name}.log"
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prgate", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={"PATH": os.environ.get("PATH", ""), **env},
        cwd=cwd,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    server = Serve(proc=proc, port=port, log_path=log_path, log_file=log_file)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"prgate serve did not become ready:\n{server.log()[-3000:]}")
