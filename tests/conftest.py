"""Fixtures shared by more than one folder of tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llm.fakeanthropic import FakeAnthropic


@pytest.fixture
def fake_api() -> Iterator[FakeAnthropic]:
    """The fake Anthropic Messages API, on loopback for one test (the AI reviewer's and the
    App's tests)."""
    with FakeAnthropic() as fake:
        yield fake
