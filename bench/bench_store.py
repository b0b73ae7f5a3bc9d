"""Benchmark: ``Store.accept()`` (the webhook intake's one database step) on SQLite and PostgreSQL.

Records ``--n`` deliveries, each a ``pull_request`` delivery that enqueues one evaluation (a new
head of one of 200 open PRs, so older queued heads get superseded as in real traffic), from
``--threads`` threads at once, as the App's request handlers do. Prints deliveries per second
and the p50/p99 latency of one ``accept()`` for each backend. PostgreSQL runs in a fresh database
on ``--pg`` (created and dropped here).

    python bench/bench_store.py [--n 2000] [--threads 4] [--pg postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from prgate.app.store import Delivery, JobKind, JobSpec, Store, open_store


def run(store: Store, n: int, threads: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = n // threads
    start = threading.Barrier(threads + 1)

    def work(t: int) -> None:
        mine: list[float] = []
        start.wait()
        for i in range(per_thread):
            k = t * per_thread + i
            delivery = Delivery(
                id=f"{secrets.token_hex(8)}-{k}",
                event="pull_request",
                action="synchronize",
                installation_id=4242,
                received_at=time.time(),
            )
            job = JobSpec(
                kind=JobKind.EVALUATE,
                repo="acme/widgets",
                installation_id=4242,
                pr=k % 200,
                sha=f"{k:040x}",
                payload={"check_run_id": None} if k % 2 else {},
            )
            t0 = time.perf_counter()
            assert store.accept(delivery, [job])
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in pool:
        th.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / wall, q[49] * 1000, q[98] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        rate, p50, p99 = run(store, args.n, args.threads)
        store.close()
    print(f"sqlite    : {rate:7.0f} deliveries/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")

    name = f"prgate_bench_{secrets.token_hex(4)}"
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
        try:
            store = open_store(f"{args.pg}/{name}", pool_size=args.threads + 2)
            rate, p50, p99 = run(store, args.n, args.threads)
            store.close()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    print(f"postgresql: {rate:7.0f} deliveries/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")


if __name__ == "__main__":
    main()
