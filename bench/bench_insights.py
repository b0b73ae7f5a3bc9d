"""Benchmark: the insights of a busy store, read and computed as the page and the CLI do.

Records ``--runs`` run records (``--repos`` repositories, pull requests of 1 to 6 heads, a few
rules each, a fix commit every 10th pull request) in a SQLite store in a temporary folder, then
times, best of ``--repeat``: reading the window (``runs_since`` + ``fix_commits``), computing the
figures, rendering the page, and the JSON. Prints seconds for each and the page's size.

    python bench/bench_insights.py [--runs 100000] [--repos 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from prgate.app.insights import MAX_RUNS, compute, to_json
from prgate.app.insightspage import render
from prgate.app.sqlite_store import SQLiteStore

RULES = ("paths/forbidden", "paths/protected", "style/ruff-lint", "content/debug", "size/limit")


def fill(store: SQLiteStore, runs: int, repos: int, now: float) -> None:
    rng = random.Random(7)
    made, pr = 0, 0
    db = store._db  # one transaction for the whole fill (the App records one run at a time)
    db.execute("BEGIN")
    while made < runs:
        pr += 1
        repo = f"org/repo-{pr % repos}"
        heads = rng.randint(1, 6)
        start = now - rng.uniform(0, 25 * 86400)
        for h in range(heads):
            green = h == heads - 1 and rng.random() < 0.8
            counts = {} if green else {r: rng.randint(1, 3) for r in rng.sample(RULES, 2)}
            blocking = {r: n for r, n in counts.items() if r.startswith("paths/")}
            approval = {r: n for r, n in counts.items() if r == "paths/protected"}
            at = start + h * 900
            db.execute(
                "INSERT INTO runs (repo, pr, sha, config_sha, conclusion, counts, started_at, "
                "finished_at, timings, api_calls, reason, llm, blocking, awaiting_approval) "
                "VALUES (?, ?, ?, 'c', ?, ?, ?, ?, '{}', 5, NULL, '{}', ?, ?)",
                (
                    repo,
                    pr,
                    f"{pr}-{h}",
                    "success" if green else "failure",
                    json.dumps(counts),
                    at - 3,
                    at,
                    json.dumps(blocking),
                    json.dumps(approval),
                ),
            )
            made += 1
        if pr % 10 == 0 and heads > 1:
            db.execute(
                "INSERT INTO fix_commits (repo, sha, pr, parent, created_at) VALUES (?, ?, ?, ?, ?)",
                (repo, f"{pr}-1", pr, f"{pr}-0", start),
            )
    db.execute("COMMIT")


def best(repeat: int, work: object) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = work()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=MAX_RUNS)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "prgate.db")
        fill(store, args.runs, args.repos, now)
        since = now - 30 * 86400
        read, (runs, fixes) = best(
            args.repeat, lambda: (store.runs_since(since, limit=MAX_RUNS + 1), store.fix_commits())
        )
        computed, figures = best(args.repeat, lambda: compute(runs, fixes, since=since, now=now))
        rendered, page = best(args.repeat, lambda: render(figures, days=30))  # type: ignore[arg-type]
        dumped, text = best(args.repeat, lambda: json.dumps(to_json(figures)))  # type: ignore[arg-type]
        store.close()
    print(f"runs {len(runs)}, fix commits {len(fixes)}, repositories {args.repos}")
    print(f"read the window   {read:.3f} s")
    print(f"compute figures   {computed:.3f} s")
    print(f"render the page   {rendered:.3f} s  ({len(str(page)) / 1024:.0f} KiB)")
    print(f"JSON              {dumped:.3f} s  ({len(str(text)) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
