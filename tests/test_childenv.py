"""The child environment: an allow-list, and the moment multiprocessing's helpers start in it."""

from __future__ import annotations

import os

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
