"""The child environment: an allow-list, and the moment multiprocessing's helpers start in it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from prgate.childenv import child_env, scrubbed_environ


def test_only_allowed_variables_reach_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_MESSAGES", "C")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x" * 36)
    monkeypatch.setenv("SOME_NEW_SERVICE_PASSWORD", "hunter2-but-longer")
    env = child_env({"HOME": "/nowhere"}, keep=("GIT_CONFIG_GLOBAL",))
    assert env["HOME"] == "/nowhere" and env["LC_MESSAGES"] == "C"
    assert env["PATH"] == os.environ["PATH"]
    assert "GITHUB_TOKEN" not in env and "SOME_NEW_SERVICE_PASSWORD" not in env


def test_the_process_environment_is_scrubbed_only_while_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x" * 36)
    before = dict(os.environ)
    with scrubbed_environ():
        assert "GITHUB_TOKEN" not in os.environ
        assert os.environ["PATH"] == before["PATH"]
    assert dict(os.environ) == before


def test_a_fork_server_that_died_is_started_again_without_the_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from multiprocessing import forkserver

    from prgate.checks.flagplan import DEFAULT_FUNCTIONS
    from prgate.checks.flagsandbox import Limits, scan_isolated
    from prgate.checks.flagscan import FileScan, ScanJob

    token = "ghp_" + "Q" * 36
    monkeypatch.setenv("GITHUB_TOKEN", token)
    jobs = [ScanJob("def f():\n    go()\n", ((1, 2),), DEFAULT_FUNCTIONS)]
    assert isinstance(scan_isolated(jobs, limits=Limits(workers=1))[0], FileScan)
    first = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert isinstance(first, int)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _state(first) not in ("Z", "X", "") and time.monotonic() < deadline:
        time.sleep(0.01)

    assert isinstance(scan_isolated(jobs, limits=Limits(workers=1))[0], FileScan)
    second = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert second != first
    environ = Path(f"/proc/{second}/environ").read_bytes()
    assert b"PATH=" in environ
    assert token.encode() not in environ and b"GITHUB_TOKEN" not in environ


def _state(pid: int) -> str:
    """A process's state letter (``Z``: dead, not yet reaped), ``""`` when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
