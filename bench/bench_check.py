"""Benchmark: `prgate check` on a large change, against bare ruff on the same files.

Builds a temporary repository with a large change (by default 500 Python files and about 40,000
changed lines, a few files under a feature-flagged folder), then prints for `prgate check` with all
four built-in packs: wall time, peak memory, and the ratio to running bare `ruff check` plus
`ruff format --check` over the same files. Each figure is the median of ``--repeat`` runs.

    python bench/bench_check.py [--files 500] [--lines 80] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CONFIG = """\
packs: [python-style, safe-zones, feature-flags, hygiene]
rules:
  flags/guarded:
    paths: ["src/shop/features/**"]
  flags/registered:
    registry: flags.yml
"""


def module_text(index: int, lines: int, *, flagged: bool) -> str:
    """A plausible module of about ``lines`` lines with a few problems in it."""
    out = ["import os", "import json", "from shop import flags", "", ""]
    n = 0
    while len(out) < lines:
        out += [
            f"def handler_{index}_{n}(payload, retries=3):",
            '    """Handle one request."""',
            "    data = json.loads(payload)",
            "    if data.get('kind') == 'refund':",
            "        total = sum(item['price'] for item in data['items'])",
            "        return {'total': total, 'retries': retries}",
            "    print('unexpected payload', data)" if n % 7 == 0 else "    return data",
            "",
            "",
        ]
        n += 1
    if flagged:
        out += [
            "def new_checkout(cart):",
            "    if not flags.enabled('new-checkout'):",
            "        return None",
            "    return len(cart)",
            "",
        ]
    return "\n".join(out) + "\n"


def git(root: Path, *args: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(root),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def build_repo(root: Path, files: int, lines: int) -> list[Path]:
    git(root, "init", "-q", "-b", "main")
    (root / ".github").mkdir()
    (root / ".github" / "prgate.yml").write_text(CONFIG)
    (root / "flags.yml").write_text("flags: [new-checkout]\n")
    paths = []
    for i in range(files):
        folder = "features" if i % 25 == 0 else f"pkg{i % 10}"
        path = root / "src" / "shop" / folder / f"module_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        paths.append(path)
        if i % 2 == 0:  # half the files exist on main and are modified by the change
            path.write_text(module_text(i, lines // 4, flagged=False))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "change")
    for i, path in enumerate(paths):
        path.write_text(module_text(i, lines, flagged=i % 25 == 0))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a large change")
    return paths


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB) of ``cmd`` and the processes it waited for."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{cmd[0]} failed with {code}: {err}")
    return wall, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--lines", type=int, default=80, help="lines per file at head")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="prgate-bench-"))
    try:
        paths = build_repo(root, args.files, args.lines)
        rel = [str(p.relative_to(root)) for p in paths]
        size = sum(p.stat().st_size for p in paths)
        changed = sum(len(p.read_text().splitlines()) for p in paths)
        prgate = [str(BIN / "prgate"), "check", "--base", "main", "--head", "change"]
        prgate += ["--format", "json"]
        ruff = str(BIN / "ruff")
        lint = [ruff, "check", "--no-cache", "--exit-zero", "--isolated", *rel]
        fmt = [ruff, "format", "--check", "--no-cache", "--isolated", *rel]
        pack = "E4,E7,E9,F,B,T100,T201,T203"
        lint_pack = [ruff, "check", "--no-cache", "--exit-zero", "--isolated", "--select", pack]
        lint_pack += rel

        empty = [str(BIN / "prgate"), "check", "--base", "change", "--head", "change"]
        no_flags_config = root.parent / f"{root.name}-no-flags.yml"
        no_flags_config.write_text("packs: [python-style, safe-zones, hygiene]\n")
        no_flags = [*prgate, "--config", str(no_flags_config)]
        results: dict[str, list[float]] = {
            "prgate": [],
            "ruff": [],
            "ruff_pack": [],
            "empty": [],
            "no_flags": [],
        }
        peaks: list[int] = []
        for _ in range(args.repeat):
            wall, peak = timed(prgate, root)
            results["prgate"].append(wall)
            peaks.append(peak)
            results["ruff"].append(timed(lint, root)[0] + timed(fmt, root)[0])
            results["ruff_pack"].append(timed(lint_pack, root)[0] + timed(fmt, root)[0])
            results["empty"].append(timed(empty, root)[0])
            results["no_flags"].append(timed(no_flags, root)[0])

        med = {k: statistics.median(v) for k, v in results.items()}
        print(f"change: {len(paths)} Python files, {changed} changed lines, {size / 1e6:.2f} MB")
        print(
            f"prgate check (4 built-in packs): {med['prgate']:.2f} s wall (median of {args.repeat})"
        )
        print(f"peak memory (prgate and its child processes): {max(peaks) / 1024:.0f} MB")
        print(f"bare ruff check + ruff format --check (ruff defaults): {med['ruff']:.2f} s")
        print(f"bare ruff check ({pack}) + ruff format --check: {med['ruff_pack']:.2f} s")
        print(f"ratio prgate / bare ruff (defaults): {med['prgate'] / med['ruff']:.2f}")
        print(f"ratio prgate / bare ruff (pack selection): {med['prgate'] / med['ruff_pack']:.2f}")
        print(f"prgate check on an empty change (start-up, config, packs): {med['empty']:.2f} s")
        print(f"prgate check without the feature-flags pack (no libcst): {med['no_flags']:.2f} s")
        beyond = (med["prgate"] - med["empty"]) / med["ruff"]
        print(f"ratio of prgate's time beyond start-up to bare ruff (defaults): {beyond:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        (root.parent / f"{root.name}-no-flags.yml").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
