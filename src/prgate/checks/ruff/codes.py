"""Which rule selectors the bundled ruff knows, so that a config naming an unknown or removed
code is refused when it is validated, not on every pull request afterwards.

Ruff itself refuses an unknown selector (the whole run fails) and a removed rule; a selector is a
linter's prefix (``B``, ``PL``), a linter's category (``PLC``, ``E``), or one of those followed by
the first digits of a code (``E7``, ``PLC04``, ``F401``). The lists come from the bundled ruff
(``ruff linter`` and ``ruff rule --all``), read once per process and kept in the user's cache
folder for the same ruff program (its path, size and time of change), so that ``prgate check``
does not ask ruff again each time. A cache that cannot be read or written is skipped.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prgate.cachedir import cache_root, read_private, write_private
from prgate.checks.ruff.process import ruff_binary
from prgate.errors import CheckError

#: Seconds the two listing commands may take together.
_TIMEOUT = 30.0
#: Bumped when what the cache file holds changes.
CACHE_VERSION = "1"


@dataclass(frozen=True)
class KnownCodes:
    #: Linter prefixes and linter-plus-category prefixes (``F``, ``PL``, ``PLC``, ``E``).
    heads: frozenset[str]
    #: Codes ruff can select (stable and preview).
    codes: frozenset[str]
    #: Codes ruff has removed (selecting one makes ruff fail).
    removed: frozenset[str]

    def problems(self, selectors: Iterable[str], *, removed_ok: bool = False) -> str | None:
        """Why some of ``selectors`` cannot be used (all told at once), or ``None``.

        ``removed_ok``: removed codes are harmless (ruff accepts them in ``ignore``)."""
        unknown: list[str] = []
        removed: list[str] = []
        for selector in selectors:
            if self._accepts(selector) or (removed_ok and selector in self.removed):
                continue
            (removed if selector in self.removed else unknown).append(selector)
        said = []
        if unknown:
            said.append(
                f"{_names(unknown)} {'is not a ruff rule code or prefix' if len(unknown) == 1 else 'are not ruff rule codes or prefixes'} "
                "that ruff knows (such as F401, E7, B or ALL; ruff's list: "
                "https://docs.astral.sh/ruff/rules/)"
            )
        if removed:
            said.append(
                f"{_names(removed)} {'was' if len(removed) == 1 else 'were'} removed from ruff "
                "and can no longer be selected"
            )
        return "; ".join(said) or None

    def _accepts(self, selector: str) -> bool:
        if selector == "ALL" or selector in self.heads:
            return True
        return self._covers(selector) and any(
            selector.startswith(h) and selector[len(h) :].isdigit() for h in self.heads
        )

    def _covers(self, selector: str) -> bool:
        return any(code.startswith(selector) for code in self.codes)


@functools.cache
def known_codes() -> KnownCodes | None:
    """What the bundled ruff knows, or ``None`` when it cannot say (then ruff's run will)."""
    try:
        cache = _cache_file(ruff_binary())
    except CheckError:
        return None
    known = _read_cache(cache) if cache is not None else None
    if known is None:
        known = _from_ruff()
        if known is not None and cache is not None:
            _write_cache(cache, known)
    return known


def _from_ruff() -> KnownCodes | None:
    try:
        linters = _listing("linter")
        rules = _listing("rule", "--all")
    except (CheckError, OSError, subprocess.SubprocessError, ValueError):
        return None
    heads: set[str] = set()
    for linter in linters:
        prefix = str(linter.get("prefix") or "")
        if prefix:
            heads.add(prefix)
        for category in linter.get("categories") or ():
            heads.add(prefix + str(category.get("prefix") or ""))
    heads.discard("")
    codes: set[str] = set()
    removed: set[str] = set()
    for rule in rules:
        code = rule.get("code")
        if not isinstance(code, str) or not code:
            continue
        status = rule.get("status")
        (removed if isinstance(status, dict) and "Removed" in status else codes).add(code)
    if not heads or not codes:
        return None
    return KnownCodes(frozenset(heads), frozenset(codes), frozenset(removed))


def _cache_file(binary: str) -> Path | None:
    """Where what ``binary`` knows is kept: named by its path, size and time of change."""
    try:
        info = os.stat(binary)
    except OSError:
        return None
    key = f"{CACHE_VERSION}\0{os.path.realpath(binary)}\0{info.st_size}\0{info.st_mtime_ns}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return cache_root(os.environ) / f"ruff-codes-{digest}.json"


def _read_cache(path: Path) -> KnownCodes | None:
    raw = read_private(path)
    try:
        data = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    parts = [data.get(name) for name in ("heads", "codes", "removed")]
    if not all(isinstance(p, list) and all(isinstance(c, str) for c in p) for p in parts):
        return None
    heads, codes, removed = (frozenset(p) for p in parts if isinstance(p, list))
    return KnownCodes(heads, codes, removed) if heads and codes else None


def _write_cache(path: Path, known: KnownCodes) -> None:
    data = {
        "heads": sorted(known.heads),
        "codes": sorted(known.codes),
        "removed": sorted(known.removed),
    }
    write_private(path, json.dumps(data).encode("utf-8"))


def _names(items: list[str]) -> str:
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _listing(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [ruff_binary(), *args, "--output-format", "json"],
        env={"PATH": os.defpath},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=_TIMEOUT,
        check=True,
    )
    data = json.loads(done.stdout)
    if not isinstance(data, list):
        raise ValueError("ruff's listing is not a list")
    return [item for item in data if isinstance(item, dict)]
