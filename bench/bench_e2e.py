"""Benchmark: PRs judged per minute by `prgate serve` against a fake GitHub with latency.

The fake GitHub (`tests/fakegithub`, in this process, on loopback) adds ``--latency`` seconds
(default 50 ms) to every API call. A repository gets ``--prs`` pull requests of ``--files``
changed Python files each (default 20; a few lint findings per file, as a typical PR has), and
`prgate serve` runs as one replica (SQLite, and PostgreSQL) or three replicas sharing one
PostgreSQL database (`prgate_bench_<random>` on 127.0.0.1:5432, dropped afterwards). Each
replica has ``--workers`` workers.

Two phases per setup, deliveries sent to the replicas round-robin:

- light load: ``--light`` PRs, one delivery every ``--gap`` seconds; the time from sending the
  delivery to the `prgate` check run being completed (read from the fake's state, not through
  the API and its latency), p50 and p95;
- burst: ``--prs`` deliveries sent at once; PRs judged per minute (PRs / time from the first
  delivery to the last completed check run), and the same p50 and p95 under that load.

Also printed, as a share of one core during the burst (everything shares the machine's cores):
the CPU of the replicas (with the ``ruff`` each job runs), of this process with its git commands
(the fake GitHub and the poller, and the fake's long-lived ``git cat-file`` readers), of the
PostgreSQL backends serving the benchmark's database, and of the whole machine (whatever else
runs on it included, so a busy machine shows); and the median time a job spends in each step
(from the store's runs). Every wait is bounded (``--timeout`` per phase).

    python bench/bench_e2e.py [--setups sqlite:1,postgresql:1,postgresql:3] [--prs 60]
                              [--light 10] [--files 20] [--latency 0.05] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _loadgen import cpu_since, process_cpu_seconds
from _pg import fresh_database
from _serve import Serve, app_env, start_serve
from fakegithub.fake import FakeGitHub
from fakegithub.state import Repo
from fakegithub.webhooks import Delivery


def module(pr: int, index: int) -> str:
    """A changed module of about 40 lines, with an unused import and a long line."""
    lines = ["import os", "import json", "", ""]
    for n in range(6):
        lines += [
            f"def handler_{pr}_{index}_{n}(payload, retries=3):",
            '    """Handle one request."""',
            "    data = json.loads(payload)",
            "    if data.get('kind') == 'refund':",
            "        return {'total': sum(i['price'] for i in data['items']), 'n': retries}",
            "    return data",
            "",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Setup:
    backend: str
    replicas: int

    @property
    def label(self) -> str:
        return f"{self.backend} x{self.replicas}"


@dataclass
class Phase:
    sent: dict[str, float]
    done: dict[str, float]
    wall: float

    def latencies(self) -> list[float]:
        return sorted(self.done[s] - t for s, t in self.sent.items() if s in self.done)

    def quantile(self, q: float) -> float:
        values = self.latencies()
        if not values:
            return math.nan
        return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]

    @property
    def per_minute(self) -> float:
        return len(self.latencies()) / self.wall * 60 if self.wall > 0 else 0.0


class Watcher:
    """Polls the fake's state for completed `prgate` check runs; when each was first seen."""

    def __init__(self, gh: FakeGitHub, repo: Repo) -> None:
        self.gh = gh
        self.repo = repo
        self.done: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter()
            for run in self.gh.check_runs(self.repo):
                if run.name == "prgate" and run.status == "completed":
                    self.done.setdefault(run.head_sha, now)
            time.sleep(0.01)

    def wait(self, shas: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(s in self.done for s in shas):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and of its children that ended (a replica
    and the ``ruff`` it runs for each job)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def live_children() -> set[int]:
    """Process ids of this process's children still running."""
    out: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            out.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def own_cpu_seconds(replicas: set[int]) -> float:
    """CPU of this process (the fake GitHub, the poller) and of its git commands: those that
    ended, and the long-lived ``git cat-file`` readers (the replicas, also children, are left
    out: they are not reaped before the end)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + children.ru_utime + children.ru_stime
    for pid in live_children() - replicas:
        try:
            total += tree_cpu_seconds(pid)
        except OSError:  # it ended meanwhile (and is counted once reaped)
            continue
    return total


def database_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of the PostgreSQL processes serving the database of ``url`` (its
    connections' backends; other databases on the server, other users' load, are left out)."""
    if not url.startswith("postgresql"):
        return {}
    name = url.rsplit("/", 1)[1]
    out: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if f" {name} " in f" {title} ":
                out[int(proc.name)] = process_cpu_seconds(int(proc.name))
        except OSError:  # the process ended meanwhile
            continue
    return out


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling, since boot (``/proc/stat``)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def job_seconds(url: str) -> dict[str, float]:
    """Median seconds of the recorded runs: in all, and per step (fetch, config, evaluate...)."""
    sql = "SELECT started_at, finished_at, timings FROM runs"
    if url.startswith("sqlite:///"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            rows = [(a, b, json.loads(t)) for a, b, t in db.execute(sql)]
    else:
        with psycopg.connect(url) as conn:
            rows = [
                (a, b, t if isinstance(t, dict) else json.loads(t))
                for a, b, t in conn.execute(sql).fetchall()
            ]
    if not rows:
        return {}
    out = {"job": statistics.median(b - a for a, b, _t in rows)}
    for step in sorted({k for _a, _b, t in rows for k in t}):
        out[step] = statistics.median(float(t.get(step, 0.0)) for _a, _b, t in rows)
    return out


def deliver(client: httpx.Client, replica: Serve, delivery: Delivery) -> tuple[str, float]:
    """Send ``delivery``; the PR's head sha and when it was sent."""
    sha = str(delivery.payload["pull_request"]["head"]["sha"])
    sent = time.perf_counter()
    resp = client.post(
        f"{replica.url}/api/github/webhooks", content=delivery.body, headers=delivery.headers
    )
    if resp.status_code != 202:
        raise SystemExit(f"a delivery got {resp.status_code}: {resp.text}")
    return sha, sent


def run_setup(setup: Setup, args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prgate-e2e-")))
        gh = stack.enter_context(FakeGitHub(validate_responses=False, latency=args.latency))
        app = gh.add_app(slug="prgate")
        inst = gh.add_installation(app, account="octo-org")
        base = {f"pkg/mod_{j}.py": f"VALUE_{j} = {j}\n" for j in range(args.files)}
        base["pkg/__init__.py"] = ""
        repo = gh.create_repo("octo-org/widgets", files=base, installation=inst)
        total = args.light + args.prs
        prs = [
            gh.open_pull_request(
                repo,
                head=f"feature-{i}",
                files={f"pkg/mod_{j}.py": module(i, j) for j in range(args.files)},
            )
            for i in range(total)
        ]
        # Built before any clock starts: building takes the fake's lock and runs git.
        deliveries = [
            gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=inst) for pr in prs
        ]
        if setup.backend == "sqlite":
            url = f"sqlite:///{tmp / 'prgate.db'}"
        else:
            url = stack.enter_context(fresh_database())
        env = app_env(app, url, api_url=gh.base_url, tmp=tmp, workers=args.workers)
        replicas: list[Serve] = []
        for n in range(setup.replicas):
            replica = start_serve(env, cwd=tmp, name=f"replica-{n}")
            stack.callback(replica.stop)
            replicas.append(replica)
        client = stack.enter_context(httpx.Client(timeout=10))
        watcher = Watcher(gh, repo)
        stack.callback(watcher.stop)

        # Light load: one delivery every --gap seconds.
        light: dict[str, float] = {}
        start = time.perf_counter()
        for i, delivery in enumerate(deliveries[: args.light]):
            pause = start + i * args.gap - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sha, sent = deliver(client, replicas[i % len(replicas)], delivery)
            light[sha] = sent
        if not watcher.wait(list(light), args.timeout):
            print(f"{setup.label}: light load did not finish within {args.timeout:.0f} s")
        light_phase = Phase(sent=light, done=dict(watcher.done), wall=0.0)

        # Burst: every delivery at once.
        replica_pids = {r.proc.pid for r in replicas}
        cpu_before = [tree_cpu_seconds(r.proc.pid) for r in replicas]
        own_before = own_cpu_seconds(replica_pids)
        pg_before = database_cpu(url)
        machine_before = machine_busy_seconds()
        burst: dict[str, float] = {}
        for i, delivery in enumerate(deliveries[args.light :]):
            sha, sent = deliver(client, replicas[i % len(replicas)], delivery)
            burst[sha] = sent
        first = min(burst.values())
        finished = watcher.wait(list(burst), args.timeout)
        done = dict(watcher.done)
        last = max((done[s] for s in burst if s in done), default=first)
        wall = last - first
        replica_cpu = sum(
            tree_cpu_seconds(r.proc.pid) - b for r, b in zip(replicas, cpu_before, strict=True)
        )
        own_cpu = own_cpu_seconds(replica_pids) - own_before
        pg_cpu = cpu_since(pg_before, database_cpu(url))
        machine_cpu = machine_busy_seconds() - machine_before
        burst_phase = Phase(sent=burst, done=done, wall=wall)
        calls = len(gh.requests) / total
        if not finished:
            print(f"{setup.label}: the burst did not finish within {args.timeout:.0f} s")
        steps = job_seconds(url)
        conclusions = statistics.mode(
            [r.conclusion for r in gh.check_runs(repo) if r.name == "prgate"]
        )

    print(
        f"{setup.label:<15} {light_phase.quantile(0.5):7.2f} {light_phase.quantile(0.95):7.2f}"
        f" {len(burst_phase.latencies()):>4}/{len(burst):<4} {burst_phase.per_minute:8.0f}"
        f" {burst_phase.quantile(0.5):7.2f} {burst_phase.quantile(0.95):7.2f}"
        f" {share(replica_cpu, wall):>8} {share(own_cpu, wall):>7} {share(pg_cpu, wall):>7}"
        f" {share(machine_cpu, wall):>8} {calls:6.1f}  {conclusions}",
        flush=True,
    )
    print(
        f"{'':<15} median seconds per job: " + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()),
        flush=True,
    )


def share(cpu: float, wall: float) -> str:
    """CPU seconds over the burst's wall time, as a share of one core."""
    return f"{cpu / wall:.0%}" if wall > 0 else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", default="sqlite:1,postgresql:1,postgresql:3")
    parser.add_argument("--prs", type=int, default=60, help="PRs in the burst")
    parser.add_argument("--light", type=int, default=10, help="PRs under light load")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between light deliveries")
    parser.add_argument("--files", type=int, default=20, help="changed files per PR")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API call")
    parser.add_argument("--workers", type=int, default=2, help="PRGATE_WORKERS per replica")
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait per phase")
    args = parser.parse_args()
    setups = []
    for item in args.setups.split(","):
        backend, _, count = item.partition(":")
        if backend not in ("sqlite", "postgresql"):
            raise SystemExit(f"unknown backend {backend!r} (sqlite or postgresql)")
        if backend == "sqlite" and int(count or 1) != 1:
            raise SystemExit("the SQLite store serves one replica only")
        setups.append(Setup(backend, int(count or 1)))
    print(
        f"{args.files} files per PR, {args.latency * 1000:.0f} ms per API call, "
        f"{args.workers} workers per replica; light load: {args.light} PRs, one per "
        f"{args.gap:g} s; burst: {args.prs} PRs at once. Times in seconds, delivery to "
        "completed check run."
    )
    print(
        f"CPU during the burst, as a share of one core ({os.cpu_count()} cores: "
        f"{os.cpu_count() or 1:.0%} is all of them): the replicas with their ruff runs, the fake "
        "GitHub with its git and the poller, PostgreSQL, and the whole machine."
    )
    print(
        f"{'setup':<15} {'light':>7} {'light':>7} {'burst':>9} {'burst':>8} {'burst':>7} "
        f"{'burst':>7} {'replica':>8} {'fake':>7} {'pg':>7} {'machine':>8} {'calls':>6}"
    )
    print(
        f"{'':<15} {'p50':>7} {'p95':>7} {'done':>9} {'PRs/min':>8} {'p50':>7} {'p95':>7} "
        f"{'CPU':>8} {'CPU':>7} {'CPU':>7} {'CPU':>8} {'/PR':>6}  verdict"
    )
    for setup in setups:
        run_setup(setup, args)


if __name__ == "__main__":
    main()
