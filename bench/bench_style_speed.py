"""`prgate check` with both style packs against the bare tools, on a 500-file mixed change.

    python bench/bench_style_speed.py TS_GIT_DIR [--files 500]

The change: 250 TypeScript files from TS_GIT_DIR's HEAD (a fetched repository such as
date-fns) and 250 Python files (this repository's own, copied into several folders), each
edited on one line (base -> head), with the team's formatter settings at base
(`.oxfmtrc.json`, Prettier's default width, which both prgate and the bare oxfmt read).
Prints the median seconds (wall clock, and CPU time of the processes) of three runs of
`prgate check` (packs python-style and web-style) and of the bare tools on the same files
(ruff check, ruff format --check, oxlint, oxfmt --check, one after another), and their ratio;
then `prgate check` with no packs (the fixed cost of reading a change from git and starting
up) and the ratio of what the two packs add on top of it to the bare tools; then the same check
run again in one warm Python process (what `prgate check` costs without starting Python and
importing prgate), and as calls to a running `prgate mcp` server (what an agent that loops
through it waits), with the machine's cores: on few cores the tools' own CPU time, divided by
the cores, bounds how fast any process running them side by side can be.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b",
    "PATH": f"{BIN}:/usr/bin:/bin",
    "HOME": "/tmp",
}


def sh(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True)


def median_time(args: list[list[str]], cwd: Path) -> tuple[float, float]:
    """Median wall-clock seconds and median CPU seconds (user + system, of the processes and
    their children: steadier than wall-clock time on a busy machine) of three runs."""
    runs, cpu = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        for a in args:
            subprocess.run(a, cwd=cwd, env=ENV, capture_output=True, check=False)
        runs.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(runs), statistics.median(cpu)


def warm_time(args: list[str], cwd: Path) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (this process and its children) of three runs of
    ``prgate ARGS`` inside this process, after one run that imports and warms everything."""
    import contextlib
    import io

    from prgate.cli import main as prgate_main

    def once() -> None:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            prgate_main(args)

    here = Path.cwd()
    saved = dict(os.environ)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(ENV)
    try:
        once()
        runs, cpu = [], []
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            own = time.process_time()
            start = time.perf_counter()
            once()
            runs.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            children = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu.append(time.process_time() - own + children)
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(saved)
    return statistics.median(runs), statistics.median(cpu)


def mcp_time(repo: Path, config: Path) -> float:
    """Median wall-clock seconds of three ``check`` calls to one ``prgate mcp`` server (after a
    first call that warms it), as an agent looping through the MCP server waits for them."""
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(
        command=str(BIN / "prgate"), args=["mcp"], cwd=str(repo), env=ENV
    )
    args = {"path": str(repo), "base": "main", "head": "head", "config": str(config)}
    runs: list[float] = []

    async def session() -> None:
        async with Client(params) as client:
            for i in range(4):
                start = time.perf_counter()
                result = await client.call_tool("check", args)
                if i:
                    runs.append(time.perf_counter() - start)
                if result.is_error or "conclusion" not in (result.structured_content or {}):
                    sys.exit("prgate mcp did not judge the change")

    anyio.run(session)
    return statistics.median(runs)


def build(ts_source: str, count: int, repo: Path) -> tuple[list[str], list[str]]:
    repo.mkdir()
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    archive = subprocess.run(
        ["git", f"--git-dir={ts_source}", "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    scratch = repo.parent / "ts"
    scratch.mkdir()
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
    ts = sorted(p for p in scratch.rglob("*.ts") if "node_modules" not in p.parts)[: count // 2]
    py = sorted((ROOT / "src").rglob("*.py"))
    ts_paths, py_paths = [], []
    for p in ts:
        rel = f"web/{p.relative_to(scratch)}"
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(p.read_bytes())
        ts_paths.append(rel)
    for i in range(count - len(ts_paths)):
        src = py[i % len(py)]
        rel = f"py{i // len(py)}/{src.relative_to(ROOT / 'src')}"
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(src.read_bytes())
        py_paths.append(rel)
    # The team's formatter settings, in oxfmt's own file so that the bare oxfmt reads them too:
    # Prettier's default width (date-fns's .prettierrc is `{}`), which oxfmt's default differs from.
    (repo / ".oxfmtrc.json").write_text('{"printWidth": 80}\n')
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "base", cwd=repo)
    sh("git", "checkout", "-qb", "head", cwd=repo)
    for rel in ts_paths:
        with (repo / rel).open("a") as f:
            f.write("export const benchMarker = { a: 1 };\n")
    for rel in py_paths:
        with (repo / rel).open("a") as f:
            f.write("BENCH_MARKER = {'a': 1}\n")
    sh("git", "commit", "-qam", "head", cwd=repo)
    return ts_paths, py_paths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ts_source")
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stylespeed-") as tmp:
        repo = Path(tmp) / "repo"
        ts, py = build(args.ts_source, args.files, repo)
        config = Path(tmp) / "prgate.yml"
        config.write_text("packs: [python-style, web-style]\n")
        prgate = [
            [
                str(BIN / "prgate"),
                "check",
                "--base",
                "main",
                "--head",
                "head",
                "--config",
                str(config),
                "--format",
                "json",
            ]
        ]
        bare = [
            [str(BIN / "ruff"), "check", "--no-cache", "--output-format", "json", *py],
            [str(BIN / "ruff"), "format", "--check", "--no-cache", *py],
            [str(BIN / "oxlint"), "--format", "json", *ts],
            [str(BIN / "oxfmt"), "--check", *ts],
        ]
        first = subprocess.run(prgate[0], cwd=repo, env=ENV, capture_output=True, check=False)
        if first.returncode not in (0, 1) or b'"conclusion"' not in first.stdout:
            sys.exit(f"prgate check did not judge the change: {first.stderr.decode()[:500]}")
        t_prgate, c_prgate = median_time(prgate, repo)
        t_bare, c_bare = median_time(bare, repo)
        t_warm, c_warm = warm_time(prgate[0][1:], repo)
        t_mcp = mcp_time(repo, config)
        config.write_text("packs: []\n")
        t_empty, c_empty = median_time(prgate, repo)
        print(f"{len(ts)} TypeScript + {len(py)} Python files changed")
        print(f"prgate check (python-style, web-style): {t_prgate:.2f}s (cpu {c_prgate:.2f}s)")
        print(
            "bare tools (ruff check, ruff format --check, oxlint, oxfmt --check): "
            f"{t_bare:.2f}s (cpu {c_bare:.2f}s)"
        )
        print(f"ratio: {t_prgate / t_bare:.2f}x (cpu {c_prgate / c_bare:.2f}x)")
        print(
            "prgate check with no packs (reading the change, starting up): "
            f"{t_empty:.2f}s (cpu {c_empty:.2f}s)"
        )
        print(
            "ratio of what the style packs add to the bare tools: "
            f"{(t_prgate - t_empty) / t_bare:.2f}x (cpu {(c_prgate - c_empty) / c_bare:.2f}x)"
        )
        print(
            f"the same check as a call to a running `prgate mcp` (an agent's loop): {t_mcp:.2f}s, "
            f"ratio {t_mcp / t_bare:.2f}x"
        )
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(
            f"the same check in a warm process (no start-up): {t_warm:.2f}s (cpu {c_warm:.2f}s), "
            f"ratio {t_warm / t_bare:.2f}x; on {cores} cores its CPU time alone needs at least "
            f"{c_warm / (cores or 1):.2f}s ({c_warm / (cores or 1) / t_bare:.2f}x the bare tools)"
        )


if __name__ == "__main__":
    main()
