"""Benchmark: what the overlap lists cost the store per judgement, on SQLite and PostgreSQL.

Fills one repository with ``--open`` open pull requests of ``--files`` changed files each (drawn
from a tree of ``--tree`` files, so that they overlap), plus one pull request of the largest size
kept (3,000 files). Then times, per backend, what one evaluation adds: ``record_pull`` (its files
replaced) and two ``pull_overlaps`` reads (before and after), for a small and for the largest
pull request. Prints the median of ``--rounds`` rounds in milliseconds.

    python bench/bench_overlaps.py [--open 300] [--files 40] [--tree 2000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _pg import fresh_database

from prgate.app.store import Store, open_store
from prgate.coordination import MAX_RECORDED_PATHS

REPO = "octo-org/monorepo"


def fill(store: Store, *, open_prs: int, files: int, tree: int) -> None:
    rng = random.Random(7)
    names = [f"src/pkg_{i // 50}/module_{i}.py" for i in range(tree)]
    for pr in range(1, open_prs + 1):
        paths = rng.sample(names, files)
        store.record_pull(
            REPO, pr, sha=f"s{pr}", title=f"PR {pr}", paths=paths, judged_overlaps=False
        )
    big = [f"src/pkg_{i // 50}/module_{i}.py" for i in range(MAX_RECORDED_PATHS)]
    store.record_pull(REPO, 100_000, sha="big", title="Big", paths=big, judged_overlaps=False)


def median_ms(rounds: int, step: Callable[[int], None]) -> float:
    times = []
    for i in range(rounds):
        t = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def judge_once(store: Store, pr: int, paths: list[str]) -> Callable[[int], None]:
    def step(i: int) -> None:
        store.pull_overlaps(REPO, pr)
        store.record_pull(REPO, pr, sha=f"x{i}", title="T", paths=paths, judged_overlaps=False)
        store.pull_overlaps(REPO, pr)

    return step


def bench(name: str, store: Store, args: argparse.Namespace) -> None:
    fill(store, open_prs=args.open, files=args.files, tree=args.tree)
    small = [
        f"src/pkg_{i // 50}/module_{i}.py" for i in range(0, args.tree, args.tree // args.files)
    ]
    big = [f"src/pkg_{i // 50}/module_{i}.py" for i in range(MAX_RECORDED_PATHS)]
    shared = len(store.pull_overlaps(REPO, 100_000))
    print(
        f"{name:8} small PR ({len(small)} files): "
        f"{median_ms(args.rounds, judge_once(store, 1, small)):7.1f} ms   "
        f"largest PR ({len(big)} files, overlapping {shared} open PRs): "
        f"{median_ms(args.rounds, judge_once(store, 100_000, big)):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--open", type=int, default=300)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--tree", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(
        f"{args.open} open PRs of {args.files} files from a tree of {args.tree} files; "
        "one evaluation's record + 2 reads, median of "
        f"{args.rounds}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            bench("sqlite", store, args)
        finally:
            store.close()
    with fresh_database() as url:
        store = open_store(url)
        try:
            bench("postgres", store, args)
        finally:
            store.close()


if __name__ == "__main__":
    main()
