"""An open-loop load generator for prgate's webhook intake, on raw asyncio streams.

Requests are sent at fixed times (``start + i / rate``), whatever the server's pace: a slow
answer does not delay the next request, and each latency is measured from the time the request
was *due*, not from when a connection became free (no coordinated omission). Connections are
kept alive and opened on demand, up to ``max_connections``; a request that finds every
connection busy waits in line and that wait counts in its latency.

Raw streams instead of httpx: on two cores the generator shares the CPU with the server, and a
hand-written HTTP/1.1 exchange costs several times less per request than an httpx client.

Deliveries are realistic: the vendored ``pull_request.opened`` payload, with a PR number, head
sha and ``X-GitHub-Delivery`` of their own, signed with HMAC-SHA256 as GitHub signs them.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import math
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "pull_request.opened.json"
WEBHOOK_PATH = "/api/github/webhooks"


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str = WEBHOOK_PATH


@dataclass(frozen=True)
class Sample:
    #: Seconds from the time the request was due to the end of its answer.
    latency: float
    #: The HTTP status, or 0 when no answer came (connection error, timeout).
    status: int
    #: When the request was due, in seconds from the start of the step.
    due: float = 0.0


@dataclass
class StepResult:
    rate: float
    sent: int
    duration: float
    samples: list[Sample] = field(default_factory=list)
    #: CPU seconds this process (the generator) used during the step.
    generator_cpu: float = 0.0

    @property
    def ok(self) -> list[float]:
        return sorted(s.latency for s in self.samples if s.status == 202)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.status != 202) + (self.sent - len(self.samples))

    @property
    def achieved(self) -> float:
        return len(self.ok) / self.duration if self.duration > 0 else 0.0

    def percentile(self, q: float) -> float:
        values = self.ok
        if not values:
            return math.nan
        index = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
        return values[index]

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for s in self.samples:
            out[s.status] = out.get(s.status, 0) + 1
        return out


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Deliveries:
    """Signed ``pull_request.opened`` deliveries, each for a PR and head commit of its own."""

    def __init__(
        self,
        *,
        secret: str,
        installation_id: int,
        repo: str = "octo-org/widgets",
        host: str = "127.0.0.1",
    ) -> None:
        template: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
        template["installation"] = {"id": installation_id, "node_id": "bench"}
        owner, name = repo.split("/")
        template["repository"]["full_name"] = repo
        template["repository"]["name"] = name
        template["repository"]["owner"]["login"] = owner
        self._template = template
        self._secret = secret
        self._host = host
        self._next = 1

    def raw(self, path: str, port: int) -> bytes:
        """One whole HTTP/1.1 request: a fresh PR number, head sha and delivery id."""
        number = self._next
        self._next += 1
        payload = copy.copy(self._template)
        pull = copy.copy(payload["pull_request"])
        head = copy.copy(pull["head"])
        head["sha"] = os.urandom(20).hex()
        pull["head"] = head
        pull["number"] = number
        payload["pull_request"] = pull
        payload["number"] = number
        body = json.dumps(payload, separators=(",", ":")).encode()
        head_lines = (
            f"POST {path} HTTP/1.1\r\n"
            f"Host: {self._host}:{port}\r\n"
            "User-Agent: GitHub-Hookshot/prgate-bench\r\n"
            "Content-Type: application/json\r\n"
            "X-GitHub-Event: pull_request\r\n"
            f"X-GitHub-Delivery: {uuid.uuid4()}\r\n"
            f"X-Hub-Signature-256: {sign(body, self._secret)}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n"
        )
        return head_lines.encode() + body

    def batch(self, n: int, target: Target) -> list[bytes]:
        return [self.raw(target.path, target.port) for _ in range(n)]


class _Connection:
    def __init__(self, target: Target, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> int:
        """Send one request, read its whole answer; the status, or 0 on failure."""
        try:
            return await asyncio.wait_for(self._exchange(request), self.timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            return 0

    async def _exchange(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.target.host, self.target.port
            )
        assert self.reader is not None
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length: int | None = None
        keep_alive = True
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            if key == "content-length":
                length = int(value.strip())
            elif key == "connection" and value.strip().lower() == "close":
                keep_alive = False
        if length is None:
            raise ValueError("an answer without Content-Length")
        if length:
            await self.reader.readexactly(length)
        if not keep_alive:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _open_loop(
    target: Target,
    requests: Sequence[bytes],
    rate: float,
    *,
    max_connections: int,
    timeout: float,
) -> tuple[list[Sample], float]:
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    samples: list[Sample] = []
    idle = 0
    tasks: list[asyncio.Task[None]] = []

    async def worker() -> None:
        nonlocal idle
        conn = _Connection(target, timeout)
        while True:
            idle += 1
            item = await queue.get()
            idle -= 1
            if item is None:
                conn.close()
                return
            due, raw = item
            status = await conn.exchange(raw)
            samples.append(
                Sample(latency=time.perf_counter() - due, status=status, due=due - start)
            )

    loop = asyncio.get_running_loop()
    for _ in range(min(8, max_connections)):
        tasks.append(loop.create_task(worker()))
    await asyncio.sleep(0)
    start = time.perf_counter()
    interval = 1.0 / rate
    i = 0
    n = len(requests)
    while i < n:
        now = time.perf_counter()
        due = start + i * interval
        if due > now:
            await asyncio.sleep(due - now)
            continue
        while i < n and start + i * interval <= now:
            queue.put_nowait((start + i * interval, requests[i]))
            i += 1
        if queue.qsize() > idle and len(tasks) < max_connections:
            tasks.append(loop.create_task(worker()))
        await asyncio.sleep(0)
    for _ in tasks:
        queue.put_nowait(None)
    await asyncio.gather(*tasks)
    return samples, time.perf_counter() - start


def run_step(
    target: Target,
    requests: Sequence[bytes],
    rate: float,
    *,
    max_connections: int = 256,
    timeout: float = 10.0,
) -> StepResult:
    """Send ``requests`` at ``rate`` per second (open loop) and wait for every answer."""
    cpu = time.process_time()
    samples, duration = asyncio.run(
        _open_loop(target, requests, rate, max_connections=max_connections, timeout=timeout)
    )
    return StepResult(
        rate=rate,
        sent=len(requests),
        duration=duration,
        samples=samples,
        generator_cpu=time.process_time() - cpu,
    )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process on this machine, by process id."""
    out: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() == "postgres":
                out[int(proc.name)] = process_cpu_seconds(int(proc.name))
        except OSError:  # the process ended meanwhile
            continue
    return out


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two :func:`postgres_cpu` readings (processes that started
    meanwhile count whole; processes that ended meanwhile are lost)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
