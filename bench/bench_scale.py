"""Benchmark: an hour of pushes under GitHub's rate limit, in compressed time.

The fake GitHub (in this process, on loopback) adds ``--latency`` seconds (50 ms) to every API
call and holds the installation to ``--budget`` calls per "hour" (``limit_rate``: answers carry
what is left and when it resets; a call past it is refused with 403). One repository has
``--prs`` open pull requests of ``--files`` changed Python files each; ``--pushes`` pushes
(each changes one file of one pull request, chosen at random, seeded) are spread evenly over the
hour, each followed by its ``synchronize`` delivery, sent to ``--replicas`` `prgate serve`
processes round-robin (``--workers`` each) sharing one PostgreSQL database. The hour lasts
``--hour`` seconds of real time: the budget and the pushes are compressed together, the
latency is not. ``PRGATE_RATE_LIMIT_LOW_WATER`` is scaled with the budget (100 of 5,000).

Printed: calls to GitHub per judged head (installation calls; the App's own calls for tokens
apart), heads judged within the hour and after it, pushes superseded before they were judged
(a newer push to the same pull request came first: no run is made for them), p50/p95 from
delivery to completed check run, the refusals (403) and the "waiting for the rate limit" notes,
the store's growth (rows and bytes), and whether every head with a run has exactly one, completed,
and every pull request's last head has one.

    python bench/bench_scale.py [--prs 200] [--pushes 2000] [--budget 5000] [--hour 3600]
                                [--replicas 3] [--workers 2] [--files 5] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _pg import fresh_database
from _serve import Serve, app_env, start_serve
from bench_e2e import Watcher, module
from fakegithub.fake import FakeGitHub

from prgate.app.ratewait import WAITING_TITLE


def quantile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def _kind(method: str, path: str) -> str:
    """A call's kind: its method and path with numbers and shas left out."""
    tail = "/".join(
        "*" if part.isdigit() or len(part) == 40 else part for part in path.split("/")[3:]
    )
    return f"{method} {tail or path}"


def store_size(url: str) -> tuple[dict[str, int], int]:
    """Rows per table of prgate's store, and the database's bytes."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall()
        ]
        rows = {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
        size = int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    return rows, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prs", type=int, default=200)
    parser.add_argument("--pushes", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=5000, help="calls per hour")
    parser.add_argument("--hour", type=float, default=3600.0, help="real seconds of one hour")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--files", type=int, default=5, help="changed files per PR")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--drain", type=float, default=0.0, help="real seconds after the hour")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    low_water = max(1, round(100 * args.budget / 5000))
    drain = args.drain or args.hour

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prgate-scale-")))
        gh = stack.enter_context(FakeGitHub(validate_responses=False))
        app = gh.add_app(slug="prgate")
        inst = gh.add_installation(app, account="octo-org")
        base = {f"pkg/mod_{j}.py": f"VALUE_{j} = {j}\n" for j in range(args.files)}
        base["pkg/__init__.py"] = ""
        base[".github/prgate.yml"] = "packs: [python-style, hygiene]\n"
        repo = gh.create_repo("octo-org/widgets", files=base, installation=inst)
        prs = [
            gh.open_pull_request(
                repo,
                head=f"feature-{i}",
                files={f"pkg/mod_{j}.py": module(i, j) for j in range(args.files)},
            )
            for i in range(args.prs)
        ]
        url = stack.enter_context(fresh_database("prgate_scale"))
        env = app_env(
            app,
            url,
            api_url=gh.base_url,
            tmp=tmp,
            workers=args.workers,
            PRGATE_RATE_LIMIT_LOW_WATER=str(low_water),
        )
        replicas: list[Serve] = []
        for n in range(args.replicas):
            replica = start_serve(env, cwd=tmp, name=f"replica-{n}")
            stack.callback(replica.stop)
            replicas.append(replica)
        client = stack.enter_context(httpx.Client(timeout=30))
        watcher = Watcher(gh, repo)
        stack.callback(watcher.stop)
        rows_before, bytes_before = store_size(url)
        gh.clear_requests()
        gh.latency = args.latency
        start = time.perf_counter()
        gh.limit_rate(
            inst,
            remaining=args.budget,
            reset_at=time.time() + args.hour,
            limit=args.budget,
            window=args.hour,
        )
        sent: dict[str, float] = {}
        last_head: dict[int, str] = {}
        for n in range(args.pushes):
            due = start + n * args.hour / args.pushes
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pr = rng.choice(prs)
            before = gh.head_sha(pr)
            j = rng.randrange(args.files)
            sha = gh.push(repo, pr.head_ref, {f"pkg/mod_{j}.py": module(pr.number * 1000 + n, j)})
            d = gh.webhook(
                "pull_request", "synchronize", repo=repo, pr=pr, before=before, installation=inst
            )
            resp = client.post(
                f"{replicas[n % len(replicas)].url}/api/github/webhooks",
                content=d.body,
                headers=d.headers,
            )
            if resp.status_code != 202:
                print(f"push {n}: the delivery got {resp.status_code}")
            sent[sha] = time.perf_counter()
            last_head[pr.number] = sha
        hour_end = start + args.hour
        pushing = time.perf_counter() - start
        finals = set(last_head.values())
        watcher.wait(sorted(finals), max(1.0, hour_end + drain - time.perf_counter()))
        done = dict(watcher.done)
        rows_after, bytes_after = store_size(url)
        runs = [r for r in gh.check_runs(repo) if r.name == "prgate"]
        requests = list(gh.requests)

    by_head = Counter(r.head_sha for r in runs)
    judged = [r for r in runs if r.status == "completed" and r.conclusion != "cancelled"]
    in_hour = [r for r in judged if done.get(r.head_sha, math.inf) <= hour_end]
    latencies = [
        done[s] - t for s, t in sent.items() if s in done and s in {r.head_sha for r in judged}
    ]
    app_calls = [r for r in requests if r.auth == "token"]
    refused = sum(1 for r in requests if r.status == 403)
    notes = sum(
        1
        for r in requests
        if r.method == "POST"
        and r.path.endswith("/check-runs")
        and isinstance(r.body, dict)
        and (r.body.get("output") or {}).get("title") == WAITING_TITLE
    )
    one_each = all(by_head[s] == 1 for s in by_head) and all(r.status == "completed" for r in runs)
    finals_ok = all(by_head.get(s) == 1 and s in done for s in finals)
    print(
        f"{args.pushes} pushes over {args.prs} PRs of {args.files} files, in an hour of "
        f"{args.hour:g} s (pushing took {pushing:.0f} s); budget {args.budget} calls per hour, "
        f"low-water mark {low_water}; {args.replicas} replicas x {args.workers} workers on "
        f"PostgreSQL; {args.latency * 1000:.0f} ms per call."
    )
    print(
        f"heads judged: {len(in_hour)} within the hour, {len(judged)} in all "
        f"(+{drain:g} s); pushes superseded before judging: {len(sent) - len(by_head)}"
    )
    per_head = len(app_calls) / len(judged) if judged else math.nan
    print(
        f"calls: {len(app_calls)} by the installation ({per_head:.2f} per judged head), "
        f"{len(requests) - len(app_calls)} by the App for tokens; refused (403): {refused}; "
        f"'waiting for the rate limit' notes: {notes}"
    )
    kinds = Counter(_kind(r.method, r.path) for r in app_calls)
    print("installation calls by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    print(
        f"delivery to completed check: p50 {quantile(latencies, 0.5):.1f} s, p95 "
        f"{quantile(latencies, 0.95):.1f} s (real seconds; x{3600 / args.hour:g} for the "
        "hour's time)"
    )
    grown = {t: rows_after.get(t, 0) - rows_before.get(t, 0) for t in rows_after}
    print(
        f"store: +{(bytes_after - bytes_before) / 1024:.0f} KiB; rows: "
        + ", ".join(f"{t} +{n}" for t, n in grown.items() if n)
    )
    print(
        f"every head with a run has exactly one, completed: {one_each}; every PR's last head "
        f"has its one completed run: {finals_ok} ({len(finals)} heads)"
    )


if __name__ == "__main__":
    main()
