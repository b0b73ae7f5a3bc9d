"""Which rule selectors the bundled ruff knows, so that a config naming an unknown or removed
code is refused when it is validated, not on every pull request afterwards.

Ruff itself refuses an unknown selector (the whole run fails) and a removed rule; a selector is a
linter's prefix (``B``, ``PL``), a linter's category (``PLC``, ``E``), or one of those followed by
the first digits of a code (``E7``, ``PLC04``, ``F401``). The lists come from the bundled ruff
(``ruff linter`` and ``ruff rule --all``), read once per process.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prgate.checks.ruff.process import ruff_binary
from prgate.errors import CheckError

#: Seconds the two listing commands may take together.
_TIMEOUT = 30.0


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
