"""What the App reads, and when: every read before judging, a GitHub fault retried (never a
verdict), links and submodules judged as the CLI judges them, files GitHub marks binary read
whole. The App runs on loopback against the fake GitHub; the CLI on a real git repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from appharness import RunningApp, World, make_world
from fakegithub import FakeGitHub, Gitlink, Symlink
from linkrepos import FileValue, local_repo

from prgate.cli import main

FLAGS_CONFIG = """\
packs: [feature-flags]
rules:
  flags/guarded:
    paths: ["app/features/**"]
  flags/registered:
    registry: config/flags.yml
"""
FLAGGED = (
    "from app import flags\n\n\n"
    "def pay(order):\n"
    '    if flags.enabled("known-flag"):\n'
    "        return order\n"
    "    return None\n"
)


def _flags_world(gh: FakeGitHub, tmp: Path) -> World:
    return make_world(
        gh,
        tmp,
        files={
            ".github/prgate.yml": FLAGS_CONFIG,
            "config/flags.yml": "- known-flag\n",
            "app/__init__.py": "",
            "app/features/__init__.py": "",
        },
    )


def _judge(world: World, files: dict[str, FileValue]) -> tuple[Any, list[Any]]:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files=files)
    with RunningApp(world.settings) as running:
        running.deliver(
            gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
        )
        running.wait_idle()
        jobs = running.store.jobs()
    (run,) = [r for r in gh.check_runs(world.repo) if r.head_sha == gh.head_sha(pr)]
    return run, jobs


def _concluded(gh: FakeGitHub) -> list[str]:
    """Every conclusion the App sent for a check run, in order."""
    out = []
    for r in gh.requests:
        if "/check-runs" in r.path and isinstance(r.body, dict) and r.body.get("conclusion"):
            out.append(str(r.body["conclusion"]))
    return out


# --- a GitHub fault is never a verdict ---------------------------------------------------------


def test_a_502_while_reading_the_flag_registry_retries_the_job(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = _flags_world(fake_github, tmp_path)
    # The first two GraphQL queries (the sizes of the PR's files and the config, then their
    # contents) pass; the read of the registry the config names fails on every try.
    fake_github.fail_next("POST", r"/graphql$", status=502, times=3, skip=2)
    run, jobs = _judge(world, {"app/features/pay.py": FLAGGED})
    assert run.status == "completed"
    assert run.conclusion == "success", (run.title, run.summary)
    assert "could not run the rule" not in f"{run.title}{run.summary}{run.text}"
    assert _concluded(fake_github) == ["success"]  # no failure was ever published
    assert [r.status for r in fake_github.requests if r.path == "/graphql"].count(502) == 3
    (job,) = jobs
    assert job.attempts == 2


def test_a_rate_limit_while_reading_the_flag_registry_defers_the_job(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = _flags_world(fake_github, tmp_path)
    fake_github.fail_next(
        "POST",
        r"/graphql$",
        status=403,
        skip=2,
        headers={"x-ratelimit-remaining": "0", "retry-after": "1"},
        body={"message": "API rate limit exceeded"},
    )
    bad = FLAGGED.replace("known-flag", "unknown-flag")
    run, jobs = _judge(world, {"app/features/pay.py": bad})
    assert run.conclusion == "failure"
    (annotation,) = run.annotations
    assert "`unknown-flag` is not declared" in annotation["message"]
    assert "could not run the rule" not in f"{run.title}{run.summary}{run.text}"
    assert _concluded(fake_github) == ["failure"]
    (job,) = jobs
    assert job.deferrals == 1


def test_a_registry_at_its_default_place_costs_no_extra_query(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    config = FLAGS_CONFIG.replace("registry: config/flags.yml", "registry: feature-flags.yml")
    world = make_world(
        fake_github,
        tmp_path,
        files={
            ".github/prgate.yml": config,
            "feature-flags.yml": "- known-flag\n",
            "app/__init__.py": "",
            "app/features/__init__.py": "",
        },
    )
    run, _ = _judge(world, {"app/features/pay.py": FLAGGED})
    assert run.conclusion == "success", run.summary
    assert fake_github.count("POST", r"^/graphql$") == 2  # the sizes, then the contents


# --- links, submodules and binary files: the App judges as the CLI does ------------------------

LINKS_CONFIG = """\
packs: [feature-flags, hygiene]
rules:
  flags/guarded:
    paths: ["app/features/**"]
  flags/registered:
    level: "off"
  tests/required:
    level: "off"
  size/limit:
    level: "off"
  content/secrets:
    paths: ["config/**"]
"""
LINKS_BASE: dict[str, FileValue] = {
    ".github/prgate.yml": LINKS_CONFIG,
    "app/__init__.py": "",
    "app/features/__init__.py": "",
    "lib/helpers/util.py": "def helper():\n    return 1\n",
    "config/settings.json": '{"name": "x"}\n',
}
AWS_KEY = "AKIA" + "Q3EGRJ7XKPL2VDZM"  # built at run time so this file holds no credential

SCENARIOS: dict[str, dict[str, FileValue]] = {
    "folder link under a guarded folder": {"app/features/plugins": Symlink("../../lib/helpers")},
    "link into a guarded folder": {"lib/shortcut.py": Symlink("../app/features/__init__.py")},
    "submodule under a guarded folder": {"app/features/vendored": Gitlink("5" * 40)},
    "links outside every rule": {
        "docs/guide": Symlink("../lib/helpers"),
        "third_party/lib": Gitlink("6" * 40),
    },
    "a file that was a link": {"lib/helpers/util.py": "def helper():\n    return 2\n"},
    "json with a NUL byte": {
        "config/settings.json": '{"name": "x",\n "aws": "' + AWS_KEY + '"}\n\0\n'
    },
    "python in latin-1": {
        "config/legacy.py": (
            "# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\nKEY = '" + AWS_KEY + "'\n"
        ).encode("latin-1")
    },
}

FAIL_THE_RULE = {
    "folder link under a guarded folder",
    "link into a guarded folder",
    "submodule under a guarded folder",
}


def _cli(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["check", str(root), "--base", "main", "--head", "feature", "--format", "json"])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_app_judges_links_submodules_and_binary_files_as_the_cli(
    fake_github: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    head = SCENARIOS[name]
    base = dict(LINKS_BASE)
    if name == "a file that was a link":
        base["lib/helpers/util.py"] = Symlink("../../app/features/__init__.py")
    cli = _cli(local_repo(tmp_path / "local", base, head), capsys)
    world = make_world(fake_github, tmp_path, files=base)
    run, _ = _judge(world, head)
    app = {
        (a["path"], a["raw_details"].split("\n")[0].removeprefix("Rule: ")) for a in run.annotations
    }
    local = {(f["path"], f["rule"]) for f in cli["findings"] if f["path"] is not None}
    assert app == local
    assert run.conclusion == cli["conclusion"], (name, run.summary, cli["findings"])
    if name in FAIL_THE_RULE:  # how binary files are judged is the checks' business, not this
        assert cli["conclusion"] == "failure", (name, cli)


def test_the_app_reads_the_bytes_of_files_github_marks_binary(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = make_world(fake_github, tmp_path, files=dict(LINKS_BASE))
    head = SCENARIOS["json with a NUL byte"] | SCENARIOS["python in latin-1"]
    fake_github.clear_requests()
    _judge(world, head)
    blobs = [r for r in fake_github.requests if "/git/blobs/" in r.path]
    assert len(blobs) == 2 and all(r.status == 200 for r in blobs)
