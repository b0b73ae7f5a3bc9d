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


@pytest.fixture(autouse=True)
def _not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests behave the same on a laptop and on a CI machine that sets ``CI=true`` (which
    changes what `prgate check` does with an empty change); tests of that set it themselves."""
    monkeypatch.delenv("CI", raising=False)
