"""Fixtures for the App's tests: the fake GitHub and the App running on loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from appharness import RunningApp, World, make_world
from fakegithub.fake import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        yield gh


@pytest.fixture
def world(fake_github: FakeGitHub, tmp_path: Path) -> World:
    return make_world(fake_github, tmp_path)


@pytest.fixture
def running(world: World) -> Iterator[RunningApp]:
    with RunningApp(world.settings) as app:
        yield app
