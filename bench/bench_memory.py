"""Benchmark: peak memory of `prgate serve` judging one very large pull request.

The fake GitHub (`tests/fakegithub`, in this process, on loopback) holds a repository whose PR
changes ``--files`` text files of ``--size`` bytes each (default 3,000 files of 1 MB: GitHub's
cap on a PR's files, each just under prgate's 1 MiB analysis limit). Each file changes one line
(``--added``: the files are new, so the PR's diff holds them whole too). The files share their
contents, so that the fake's git repository stays small; prgate still reads each file on its own.

`prgate serve` runs as a subprocess (SQLite, one worker) and gets the ``pull_request`` webhook;
the figures are read once the `prgate` check run is completed:

- the serve process's peak resident memory (``VmHWM`` from ``/proc/<pid>/status``), and its
  resident memory when idle before the delivery (the App's own footprint); the ``ruff`` and
  parser child processes are not counted;
- the time from the delivery to the completed check run, its conclusion and title;
- the API calls the App made: GraphQL queries (and how many asked for file text), blobs read.

``--max-fetch`` sets ``PRGATE_MAX_FETCH_BYTES``; ``--pythonpath`` runs another copy of prgate
(``git archive <rev> src | tar -x -C /tmp/old`` then ``--pythonpath /tmp/old/src``), to compare.

    python bench/bench_memory.py [--files 3000] [--size 1000000] [--added] [--max-fetch BYTES]
                                 [--pythonpath DIR] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "app"))

from _serve import start_serve
from fakegithub.fake import FakeGitHub
from serving import serve_env

LINE = "a line of plain text in a very large pull request, 0123456789\n"


def text_of(size: int, last: str) -> str:
    """``size`` bytes of text lines, ending with the line ``last``."""
    body = LINE * max((size - len(last)) // len(LINE), 0)
    return body + "x" * max(size - len(body) - len(last), 0) + last


def memory_kib(pid: int) -> dict[str, int]:
    """``VmHWM`` and ``VmRSS`` of process ``pid``, in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=3000, help="files the PR changes")
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes of each file")
    parser.add_argument("--added", action="store_true", help="new files instead of changed ones")
    parser.add_argument("--max-fetch", type=int, help="PRGATE_MAX_FETCH_BYTES for the App")
    parser.add_argument("--pythonpath", help="PYTHONPATH of the App (another copy of prgate)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait at most")
    args = parser.parse_args()

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="prgate-mem-")))
        gh = stack.enter_context(FakeGitHub(validate_responses=False))
        app = gh.add_app(slug="prgate")
        inst = gh.add_installation(app, account="octo-org")
        started = time.monotonic()
        paths = [f"data/part{i:04}.txt" for i in range(args.files)]
        base: dict[str, str] = {"README.md": "widgets\n"}
        if not args.added:
            before = text_of(args.size, "the last line, as it was\n")
            base.update(dict.fromkeys(paths, before))
        repo = gh.create_repo("octo-org/widgets", files=base, installation=inst)
        after = text_of(args.size, "the last line, changed\n")
        pr = gh.open_pull_request(repo, files=dict.fromkeys(paths, after))
        delivery = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=inst)
        sha = gh.head_sha(pr)
        built = time.monotonic() - started

        env = serve_env(
            app,
            f"sqlite:///{tmp / 'prgate.db'}",
            api_url=gh.base_url,
            tmp=tmp,
            PRGATE_WORKERS="1",
        )
        if args.max_fetch is not None:
            env["PRGATE_MAX_FETCH_BYTES"] = str(args.max_fetch)
        if args.pythonpath:
            env["PYTHONPATH"] = args.pythonpath
        serve = start_serve(env, cwd=tmp)
        stack.callback(serve.stop)
        idle = memory_kib(serve.proc.pid)
        gh.clear_requests()

        sent = time.monotonic()
        resp = httpx.post(
            f"{serve.url}/api/github/webhooks",
            content=delivery.body,
            headers=delivery.headers,
            timeout=30,
        )
        if resp.status_code >= 300:
            raise SystemExit(f"the delivery got {resp.status_code}: {resp.text}")
        run = None
        peak = idle
        while time.monotonic() - sent < args.timeout:
            if serve.proc.poll() is not None:
                raise SystemExit(f"prgate serve stopped:\n{serve.log()[-3000:]}")
            peak = memory_kib(serve.proc.pid)
            done = [r for r in gh.check_runs(repo, head_sha=sha) if r.status == "completed"]
            if done:
                run = done[0]
                break
            time.sleep(0.2)
        took = time.monotonic() - sent
        if run is None:
            raise SystemExit(f"no completed check run within {args.timeout:g} s")
        time.sleep(1.0)  # the comment is posted after the check run
        peak = memory_kib(serve.proc.pid)

        queries = [r for r in gh.requests if r.path == "/graphql" and isinstance(r.body, dict)]
        with_text = [r for r in queries if " text" in str(r.body.get("query", ""))]
        blobs = gh.count("GET", r"/git/blobs/")
        total = args.files * args.size
        print(
            f"PR: {args.files:,} {'new' if args.added else 'changed'} files of "
            f"{args.size:,} bytes ({total / 2**20:,.0f} MiB); fake built in {built:.0f} s"
        )
        print(f"cap: PRGATE_MAX_FETCH_BYTES={env.get('PRGATE_MAX_FETCH_BYTES', '(default)')}")
        print(f"prgate serve idle:  VmRSS {idle['VmRSS'] / 1024:,.0f} MiB")
        print(
            f"prgate serve peak:  VmHWM {peak['VmHWM'] / 1024:,.0f} MiB "
            f"(VmRSS at the end {peak['VmRSS'] / 1024:,.0f} MiB)"
        )
        print(f"judged in {took:.1f} s: {run.conclusion}: {run.title}")
        print(
            f"API: {len(queries)} GraphQL queries ({len(with_text)} asking for file text), "
            f"{blobs} blobs read, {len(gh.requests)} calls in all"
        )
        summary = " ".join((run.summary or "").split())
        print(f"summary: {summary[:300]}")


if __name__ == "__main__":
    main()
