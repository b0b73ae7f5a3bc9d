"""The folder where the command line keeps what it may reuse between runs (never a verdict),
and how a file is kept there: written whole or not at all, readable by its owner only, and read
back only from a regular file of the user's own (never through a link)."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path


def cache_root(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/prgate`` when that is an absolute path, else ``~/.cache/prgate``."""
    base = environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "prgate"


def write_private(path: Path, data: bytes) -> bool:
    """Write ``data`` at ``path`` through a temporary file renamed over it (mode 0600, its
    folder created 0700). ``False`` when it could not be written; nothing is left behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    except OSError:
        return False
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            return False
        raise
    return True


def read_private(path: Path) -> bytes | None:
    """The contents of ``path`` when it is a regular file of the user's own, else ``None``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                return None
            return f.read()
        except OSError:
            return None
