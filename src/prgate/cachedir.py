"""The folder where the command line keeps what it may reuse between runs (never a verdict)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def cache_root(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/prgate`` when that is an absolute path, else ``~/.cache/prgate``."""
    base = environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "prgate"
