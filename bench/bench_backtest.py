"""Benchmark: `prgate rules backtest`, in changes judged per second.

Either builds a temporary repository whose history holds ``--changes`` typical pull requests
(a few Python files each, about 60 changed lines, half merged with a merge commit, half squashed),
or clones ``--repo`` (a path or URL of a real repository, for example a snapshot of
pallets/flask) into a temporary folder. Then runs `prgate rules backtest --last N --format json`
as a child process with a proposal that differs from the base's config (so each change is judged
twice), and prints wall time, changes per second and the child's peak memory. Each figure is the
median of ``--repeat`` runs.

    python bench/bench_backtest.py [--changes 40] [--repeat 3]
    python bench/bench_backtest.py --repo /work/.mirror/pallets+flask/repo --last 50
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
#: The proposal: the three packs, with stricter levels than the defaults.
PROPOSAL = """\
packs: [python-style, safe-zones, hygiene]
rules:
  paths/forbidden:
    paths: [".github/workflows/**", "infra/**"]
  content/debug:
    level: error
  tests/required:
    level: error
"""
BASE_CONFIG = "packs: [python-style, hygiene]\n"


def git(root: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(root),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return done.stdout.decode()


def module_text(index: int, lines: int) -> str:
    out = ["import json", "", ""]
    n = 0
    while len(out) < lines:
        out += [
            f"def handler_{index}_{n}(payload):",
            "    data = json.loads(payload)",
            "    print(data)" if (index + n) % 11 == 0 else "    return data",
            "",
            "",
        ]
        n += 1
    return "\n".join(out) + "\n"


def build_repo(root: Path, changes: int) -> None:
    """A history of ``changes`` typical PRs: 3 source files of ~20 lines and, mostly, a test."""
    git(root, "init", "-q", "-b", "main")
    (root / ".github").mkdir()
    (root / ".github" / "prgate.yml").write_text(BASE_CONFIG)
    (root / "src").mkdir()
    (root / "tests").mkdir()
    (root / "src" / "__init__.py").write_text("")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "First commit")
    for i in range(changes):
        merged = i % 2 == 0
        if merged:
            git(root, "checkout", "-q", "-b", f"pr-{i}")
        for j in range(3):
            (root / "src" / f"mod_{i}_{j}.py").write_text(module_text(i * 3 + j, 20))
        if i % 5:
            (root / "tests" / f"test_{i}.py").write_text(f"def test_{i}():\n    assert True\n")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"Change {i}")
        if merged:
            git(root, "checkout", "-q", "main")
            git(
                root,
                "merge",
                "-q",
                "--no-ff",
                f"pr-{i}",
                "-m",
                f"Merge pull request #{i} from x/pr-{i}",
                "-m",
                f"Change {i}",
            )
    (root / "proposal.yml").write_text(PROPOSAL)


def run_once(root: Path, last: int) -> tuple[float, int, float]:
    """Seconds, changes judged, and the child's peak memory in MiB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(BIN / "prgate"),
            "rules",
            "backtest",
            "--config",
            str(root / "proposal.yml"),
            "--last",
            str(last),
            "--format",
            "json",
        ],
        cwd=root,
        capture_output=True,
        check=False,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"backtest failed ({done.returncode}): {done.stderr.decode()}")
    n = len(json.loads(done.stdout)["changes"])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return took, n, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--repo", help="clone this repository instead of building one")
    parser.add_argument("--last", type=int, default=None, help="default: --changes")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    last = args.last or args.changes
    tmp = Path(tempfile.mkdtemp(prefix="prgate-bench-backtest-"))
    try:
        root = tmp / "repo"
        if args.repo:
            subprocess.run(["git", "clone", "-q", args.repo, str(root)], check=True)
            (root / "proposal.yml").write_text(PROPOSAL)
            what = f"{args.repo} at {git(root, 'rev-parse', '--short', 'HEAD').strip()}"
        else:
            root.mkdir()
            build_repo(root, args.changes)
            what = f"a built history of {args.changes} typical PRs"
        runs = [run_once(root, last) for _ in range(args.repeat)]
        took = statistics.median(r[0] for r in runs)
        n = runs[0][1]
        print(f"repository: {what}")
        print(f"changes replayed: {n} (each judged by the base's config and the proposal)")
        print(f"wall time: {took:.2f} s (median of {args.repeat})")
        print(f"changes per second: {n / took:.1f}")
        print(f"peak memory of the child: {max(r[2] for r in runs):.0f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
