"""Fixtures for the GitHub access layer's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakegithub.fake import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        yield gh
