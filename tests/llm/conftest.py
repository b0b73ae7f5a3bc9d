"""Fixtures for the AI reviewer's tests (the fake Messages API, ``fake_api``, is in
``tests/conftest.py``: the App's tests use it too)."""

from __future__ import annotations

import pytest
from llm.fakeanthropic import API_KEY


@pytest.fixture
def api_key() -> str:
    return API_KEY
