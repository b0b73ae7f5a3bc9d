"""Fixtures of the renderer tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from render.render_samples import SAMPLES

from prgate.model import Report


@pytest.fixture
def samples() -> dict[str, Callable[[], Report]]:
    return dict(SAMPLES)
