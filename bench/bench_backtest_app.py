"""Benchmark: the App's backtest of a pull request that changes prgate's rules.

A repository on the fake GitHub (in this process, on loopback, ``--latency`` seconds added to
every API call) gets ``--merged`` merged pull requests of ``--files`` changed Python files each;
then a pull request that tightens a rule is opened. Printed: the seconds from the delivery to the
pull request's check run being completed, and to the backtest's section being written; the API
calls of the backtest job (by the fake's log, and as the section states them); how many merged
pull requests it replayed. The rules are the default packs (python-style and hygiene: ruff runs).

    python bench/bench_backtest_app.py [--merged 30] [--files 5] [--latency 0.05]
                                       [--max-calls 200]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "app"))

from appharness import RunningApp, make_world
from fakegithub.fake import FakeGitHub

from prgate.app.settings import BacktestLimits

BASE_RULES = "packs: [python-style, hygiene]\nrules:\n  size/limit:\n    level: warning\n"
TIGHT_RULES = "packs: [python-style, hygiene]\nrules:\n  size/limit:\n    max_files: 3\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merged", type=int, default=30)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--max-calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeGitHub(latency=0.0) as gh:
        world = make_world(gh, Path(tmp))
        world.settings = replace(
            world.settings, backtest=BacktestLimits(prs=args.merged, max_calls=args.max_calls)
        )
        gh.push(world.repo, "main", {".github/prgate.yml": BASE_RULES}, message="Rules")
        for i in range(args.merged):
            files = {
                f"app/m{i}_{j}.py": f"def f{j}(x):\n    return x + {j}\n" for j in range(args.files)
            }
            files[f"tests/test_m{i}.py"] = "def test_it():\n    assert True\n"
            pr = gh.open_pull_request(world.repo, head=f"past-{i}", files=files, title=f"Past {i}")
            gh.merge_pull_request(pr)
        gh.latency = args.latency
        with RunningApp(world.settings) as app:
            pr = gh.open_pull_request(
                world.repo, head="tight", files={".github/prgate.yml": TIGHT_RULES}
            )
            hook = gh.webhook(
                "pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst
            )
            gh.clear_requests()
            start = time.monotonic()
            app.deliver(hook)
            head = gh.head_sha(pr)
            checked = written = None
            while written is None and time.monotonic() - start < 600:
                runs = [r for r in gh.check_runs(world.repo) if r.head_sha == head]
                if checked is None and runs and runs[0].status == "completed":
                    checked = time.monotonic() - start
                bodies = [c.body for c in gh.comments(world.repo, pr.number)]
                if bodies and "calls to GitHub of the" in bodies[0]:
                    written = time.monotonic() - start
                time.sleep(0.05)
            app.wait_idle()
        body = gh.comments(world.repo, pr.number)[0].body
        stated = re.search(r"(\d+) calls to GitHub of the (\d+)", body)
        replayed = re.search(r"of the last (\d+) merged pull request", body)
        print(
            f"{args.merged} merged PRs of {args.files + 1} files, {args.latency * 1000:.0f} ms "
            "per API call"
        )
        print(f"check run completed after   {checked:.2f} s" if checked else "check run: timeout")
        print(f"backtest written after      {written:.2f} s" if written else "backtest: timeout")
        print(f"API calls, whole PR (log)   {len(gh.requests)}")
        if stated:
            print(f"backtest calls (stated)     {stated.group(1)} of {stated.group(2)}")
        print(f"merged PRs replayed         {replayed.group(1) if replayed else 0}")
        print("partial result" if "Partial result" in body else "complete result")


if __name__ == "__main__":
    main()
