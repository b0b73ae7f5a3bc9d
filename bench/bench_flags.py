"""Benchmark: what the feature-flags pack costs on a change that touches no function.

Builds a temporary repository of ``--files`` Python modules (254 by default, about 120 lines each,
functions and classes throughout), then a branch that edits one comment in each module: inside a
function body, under its ``def``, for the first half, and at the top of the file for the other.
It times `prgate check` on that change three ways (median of ``--repeat`` runs each):

* ``default``: the packs python-style and hygiene;
* ``+flags``: the same plus feature-flags, with ``flags/guarded`` covering every Python file;
* ``+flags, paths unset``: the same plus feature-flags as it ships (``flags/guarded`` inactive).

and, for reference, a change that edits one statement inside a function of each module (which
must be parsed). It prints the times and the ratios to ``default``.

    python bench/bench_flags.py [--files 254] [--repeat 3]
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

DEFAULT = "packs: [python-style, hygiene]\n"
WITH_FLAGS = """\
packs: [python-style, hygiene, feature-flags]
rules:
  flags/guarded:
    paths: ["**/*.py"]
"""
FLAGS_AS_SHIPPED = "packs: [python-style, hygiene, feature-flags]\n"
CONFIGS = {"default": DEFAULT, "+flags": WITH_FLAGS, "+flags, paths unset": FLAGS_AS_SHIPPED}


def module_text(index: int, *, comment: str = "the payload, as sent", body: str = "3") -> str:
    """A module of about 120 lines; ``comment`` sits under a ``def``, ``body`` in a statement."""
    out = [f'"""Module {index}."""', "", "import json", "", "RETRIES = 3", "", ""]
    out += [
        "def handle(payload, retries=RETRIES):",
        f"    # {comment}",
        "    data = json.loads(payload)",
        f"    limit = {body}",
        "    return data, limit",
        "",
        "",
    ]
    for n in range(10):
        out += [
            f"class Handler{n}:",
            '    """Handles one kind of request."""',
            "",
            "    def run(self, data):",
            "        if data.get('kind') == 'refund':",
            "            return sum(item['price'] for item in data['items'])",
            "        return data",
            "",
            "",
        ]
    out += [f"# end of module {index}"]
    return "\n".join(out) + "\n"


def git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def build(root: Path, files: int) -> None:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for i in range(files):
        path = root / "src" / "shop" / f"module_{i:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(module_text(i))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "branch", "statements")
    # one comment edit per file: under a def in half of them, at the top in the others
    git(root, "checkout", "-qb", "comments")
    for i in range(files):
        path = root / "src" / "shop" / f"module_{i:03d}.py"
        if i % 2 == 0:
            path.write_text(module_text(i, comment="the payload, as the client sent it"))
        else:
            path.write_text(module_text(i).replace(f'"""Module {i}."""', f'"""Module {i}!"""'))
            text = path.read_text().replace("# end of module", "# the end of module")
            path.write_text(text)
    git(root, "commit", "-qam", "comments")
    # one statement edit per file, inside a function
    git(root, "checkout", "-q", "statements")
    for i in range(files):
        path = root / "src" / "shop" / f"module_{i:03d}.py"
        path.write_text(module_text(i, body="4"))
    git(root, "commit", "-qam", "statements")


def time_check(root: Path, head: str, config: Path, repeat: int) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "prgate", "check", str(root), "--base", "main", "--head", head]
    cmd += ["--config", str(config), "--format", "json"]
    times = []
    code = 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        code = done.returncode
        if code not in (0, 1):
            sys.exit(f"prgate check failed ({code}): {done.stderr.decode()[-2000:]}")
    return statistics.median(times), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=254)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="prgate-bench-flags-"))
    try:
        root = work / "repo"
        build(root, args.files)
        configs = {}
        for name, text in CONFIGS.items():
            configs[name] = work / f"{len(configs)}.yml"
            configs[name].write_text(text)
        print(f"{args.files} Python files, median of {args.repeat} runs")
        for head, what in (
            ("comments", "one comment edit per file"),
            ("statements", "one statement edit per file"),
        ):
            print(f"\n{what}:")
            base = 0.0
            for name, config in configs.items():
                seconds, code = time_check(root, head, config, args.repeat)
                base = base or seconds
                print(f"  {name:22} {seconds:6.2f} s  x{seconds / base:4.2f}  exit {code}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
