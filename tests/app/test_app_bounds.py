"""Bounded resources and private files: what a PR makes the App read is decided from sizes
before any contents travel, a PR past the per-PR budget fails closed in plain words, and the
SQLite database is readable by its owner only. The App runs on loopback against the fake GitHub;
the CLI on a real git repository."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from appharness import RunningApp, World, make_world
from fakegithub import FakeGitHub
from linkrepos import local_repo

from prgate.cli import main

BASE = {"app/__init__.py": "", "tests/test_x.py": "x = 1\n"}
#: A text file of 1.5 MiB: over the 1 MiB analysis limit, judged by `content/secrets`.
BIG = "a plain line of text that goes on\n" * (48 * 1024)


def _judge(world: World, files: dict[str, Any]) -> Any:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files=files)
    with RunningApp(world.settings) as running:
        gh.clear_requests()
        running.deliver(
            gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
        )
        running.wait_idle()
    (run,) = [r for r in gh.check_runs(world.repo) if r.head_sha == gh.head_sha(pr)]
    return run


def _text_asked_for(gh: FakeGitHub, path: str) -> list[str]:
    """The GraphQL selections that asked GitHub for the text of ``path`` (any revision)."""
    asked = []
    for r in gh.requests:
        if r.path != "/graphql" or not isinstance(r.body, dict):
            continue
        for line in str(r.body.get("query", "")).splitlines():
            if f':{path}"' in line and " text" in line:
                asked.append(line.strip())
    return asked


def _concluded(gh: FakeGitHub) -> list[str]:
    return [
        str(r.body["conclusion"])
        for r in gh.requests
        if "/check-runs" in r.path and isinstance(r.body, dict) and r.body.get("conclusion")
    ]


def test_a_file_over_the_analysis_limit_is_never_fetched_and_judged_as_the_cli_does(
    fake_github: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = {"data/notes.txt": BIG, "app/core.py": "X = 1\n", "tests/test_x.py": "x = 2\n"}
    world = make_world(fake_github, tmp_path, files=BASE)
    run = _judge(world, head)

    # Its size was asked for; its contents never were, in any form.
    assert any("data/notes.txt" in str(r.body) for r in fake_github.requests if r.body)
    assert _text_asked_for(fake_github, "data/notes.txt") == []
    assert fake_github.count("GET", r"/git/blobs/") == 0
    assert fake_github.count("GET", r"/contents/data/notes\.txt") == 0
    # The small files were read as before.
    assert _text_asked_for(fake_github, "app/core.py")

    root = local_repo(tmp_path / "local", BASE, head)
    main(["check", str(root), "--base", "main", "--head", "feature", "--format", "json"])
    cli = json.loads(capsys.readouterr().out)
    local = {(f["path"], f["rule"]) for f in cli["findings"]}
    app = {
        (a["path"], a["raw_details"].split("\n")[0].removeprefix("Rule: ")) for a in run.annotations
    }
    big = {(p, rule) for p, rule in local if p == "data/notes.txt"}
    assert big and big <= app  # the same rules say it is too large to read
    (message,) = {f["message"] for f in cli["findings"] if f["path"] == "data/notes.txt"}
    assert "larger than 1 MiB" in message
    assert any("larger than 1 MiB" in a["message"] for a in run.annotations)
    assert run.conclusion == ("failure" if cli["conclusion"] == "failure" else "success")


def test_a_pull_request_past_the_budget_fails_closed_before_its_files_are_read(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = make_world(fake_github, tmp_path, files=BASE)
    world = replace(world, settings=replace(world.settings, max_fetch_bytes=1024 * 1024))
    chunk = "some words on a line\n" * (20 * 1024)  # 420 KiB: each under the per-file limit
    files = {f"docs/part{i}.txt": chunk for i in range(3)}
    run = _judge(world, files)

    assert run.status == "completed" and run.conclusion == "failure"
    said = f"{run.title}\n{run.summary}\n{run.text}"
    assert "too big to judge" in said, said
    assert "1 MiB it reads for one pull request" in said
    assert "Split it into smaller pull requests" in said
    assert "This pull request is too big to judge" in said
    assert "Push again" not in said  # pushing the same change again would not help
    assert _concluded(fake_github) == ["failure"]  # never a success on the way
    for i in range(3):
        assert _text_asked_for(fake_github, f"docs/part{i}.txt") == []
    assert fake_github.count("GET", r"/git/blobs/") == 0


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in sorted(folder.glob("prgate.db*"))}


def test_the_database_and_its_side_files_are_readable_by_their_owner_only(
    world: World,
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "X = 1\n"})
    with _umask(0o022), RunningApp(world.settings) as running:
        running.deliver(
            gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
        )
        running.wait_idle()
        assert running.store.runs()  # written: the write-ahead log and its index are there
        modes = _modes(world.tmp)
    assert set(modes) == {"prgate.db", "prgate.db-wal", "prgate.db-shm"}
    assert modes == dict.fromkeys(modes, 0o600)


def test_an_older_database_open_to_others_is_made_private_when_the_app_starts(
    world: World,
) -> None:
    # As an earlier prgate left them under a umask of 022: the database, and a rollback
    # journal (empty: nothing to roll back) from a crash.
    for name in ("prgate.db", "prgate.db-journal"):
        (world.tmp / name).touch(mode=0o644)
        os.chmod(world.tmp / name, 0o644)
    with _umask(0o022), RunningApp(world.settings) as running:
        running.wait_idle()
        modes = _modes(world.tmp)
    assert {"prgate.db", "prgate.db-wal", "prgate.db-shm"} <= set(modes)
    assert modes == dict.fromkeys(modes, 0o600)
