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
from typing import IO

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
