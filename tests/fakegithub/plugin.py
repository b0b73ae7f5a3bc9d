"""pytest fixture: put ``pytest_plugins = ["fakegithub.plugin"]`` in a conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakegithub.fake import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A started FakeGitHub, one per test, stopped and cleaned up afterwards."""
    with FakeGitHub() as gh:
        yield gh
