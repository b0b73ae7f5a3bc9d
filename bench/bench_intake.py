"""Benchmark: how many signed deliveries per second `prgate serve` acknowledges in time.

Starts `prgate serve` as a subprocess (SQLite in a temporary folder, then PostgreSQL on a fresh
database `prgate_bench_<random>` on 127.0.0.1:5432, dropped afterwards) and sends it realistic
signed `pull_request.opened` deliveries (each for a PR and head commit of its own, so every one
creates a job) with the project's open-loop load generator (`bench/_loadgen.py`), stepping the
rate up. Prints, per backend, a table of target rate, achieved rate, p50 and p99 latency,
errors, and the CPU used by the server and by the generator, then the highest rate whose p99 is
under 100 ms with no error.

Keeping the workers out of the measurement: `PRGATE_WORKERS` cannot be 0, so the server runs
one worker against a GitHub that never answers (a loopback socket that accepts connections and
says nothing). The worker's first job waits for the API timeout (15 s), so jobs pile up in the
queue during the measurement instead of being drained. `PRGATE_QUEUE_LIMIT` is set very high
so that backpressure does not answer 503, and reconcilers are off.

The generator shares the machine's cores with the server: its own CPU is printed per step, with
the server's and PostgreSQL's (all `postgres` processes), each as a share of one core.

    python bench/bench_intake.py [--backends sqlite,postgresql] [--rates 100,200,400,600,800,1000]
                                 [--seconds 5]
"""

from __future__ import annotations

import argparse
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _loadgen import (
    Deliveries,
    StepResult,
    Target,
    cpu_since,
    postgres_cpu,
    process_cpu_seconds,
    run_step,
)
from _pg import fresh_database
from _serve import start_serve
from fakegithub.fake import generate_key_pair

P99_GOAL = 0.100
INSTALLATION_ID = 4242


@contextmanager
def silent_github() -> Iterator[str]:
    """A loopback "GitHub" that accepts connections and never answers; its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def measure(
    database_url: str, *, rates: list[float], seconds: float, tmp: Path, name: str
) -> list[tuple[StepResult, float]]:
    secret = secrets.token_hex(16)
    private_pem, _public = generate_key_pair()
    gen = Deliveries(secret=secret, installation_id=INSTALLATION_ID)
    rows: list[tuple[StepResult, float]] = []
    with silent_github() as api_url:
        server = start_serve(
            {
                "PRGATE_APP_ID": "1",
                "PRGATE_PRIVATE_KEY": private_pem,
                "PRGATE_WEBHOOK_SECRET": secret,
                "PRGATE_GITHUB_API_URL": api_url,
                "PRGATE_DATABASE_URL": database_url,
                "PRGATE_WORKERS": "1",
                "PRGATE_QUEUE_LIMIT": "100000000",
                "PRGATE_RECONCILE_INTERVAL": "0",
            },
            cwd=tmp,
            name=name,
        )
        try:
            target = Target("127.0.0.1", server.port)
            warm = run_step(target, gen.batch(200, target), 100)
            if warm.errors:
                raise SystemExit(
                    f"{name}: the warm-up got errors {warm.statuses()}:\n{server.log()[-2000:]}"
                )
            failures_in_a_row = 0
            for rate in rates:
                requests = gen.batch(int(rate * seconds), target)
                before = process_cpu_seconds(server.proc.pid)
                db_before = postgres_cpu()
                step = run_step(target, requests, rate)
                server_cpu = process_cpu_seconds(server.proc.pid) - before
                db_cpu = cpu_since(db_before, postgres_cpu())
                rows.append((step, server_cpu))
                print_row(step, server_cpu, db_cpu)
                failures_in_a_row = 0 if passes(step) else failures_in_a_row + 1
                if failures_in_a_row >= 2:
                    break
                time.sleep(1.0)
        finally:
            server.stop()
    return rows


def passes(step: StepResult) -> bool:
    return step.errors == 0 and step.percentile(0.99) < P99_GOAL


def print_header(title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'rate/s':>7} {'achieved/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'errors':>6} {'server CPU':>10} {'gen CPU':>8} {'PG CPU':>7}"
    )


def print_row(step: StepResult, server_cpu: float, db_cpu: float) -> None:
    extra = "" if not step.errors else f"  statuses {step.statuses()}"
    print(
        f"{step.rate:7.0f} {step.achieved:10.0f} {step.percentile(0.5) * 1000:8.1f} "
        f"{step.percentile(0.99) * 1000:8.1f} {step.percentile(1.0) * 1000:8.1f} "
        f"{step.errors:6d} {server_cpu / step.duration:9.0%} "
        f"{step.generator_cpu / step.duration:7.0%} {db_cpu / step.duration:7.0%}{extra}",
        flush=True,
    )


def answer(rows: list[tuple[StepResult, float]]) -> str:
    """The highest rate that met the goal, and any lower rate that did not (a stall)."""
    passed = [step.rate for step, _cpu in rows if passes(step)]
    if not passed:
        return "no rate met p99 < 100 ms with no error"
    best = max(passed)
    text = f"highest rate with p99 < 100 ms and no error: {best:.0f} deliveries/s"
    missed = [
        f"{step.rate:.0f}/s (p99 {step.percentile(0.99) * 1000:.0f} ms, {step.errors} errors)"
        for step, _cpu in rows
        if step.rate < best and not passes(step)
    ]
    if missed:
        text += "; but a lower rate missed the goal: " + ", ".join(missed)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rates", default="100,200,400,600,800,1000")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each step")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    answers: list[str] = []
    for backend in args.backends.split(","):
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prgate-intake-")))
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'prgate.db'}"
            elif backend == "postgresql":
                url = stack.enter_context(fresh_database())
            else:
                raise SystemExit(f"unknown backend {backend!r} (sqlite or postgresql)")
            print_header(f"{backend}: {args.seconds:.0f} s per step, open loop")
            rows = measure(url, rates=rates, seconds=args.seconds, tmp=tmp, name=backend)
            answers.append(f"{backend}: {answer(rows)}")
    print()
    for line in answers:
        print(line)


if __name__ == "__main__":
    main()
