"""Finding the base branch's ruff settings, in ruff's own order of precedence.

Ruff looks, in a folder, for ``.ruff.toml``, then ``ruff.toml``, then ``pyproject.toml`` (only
when it has a ``[tool.ruff]`` table). prgate reads the repository root at the base of the change.
"""

from __future__ import annotations

import re
import tomllib

from prgate.checks.ruff import RuffBaseConfig
from prgate.config.fetchers import ConfigFetcher
from prgate.errors import ConfigError

RUFF_FILES: tuple[str, ...] = (".ruff.toml", "ruff.toml", "pyproject.toml")


def read_ruff_config(fetcher: ConfigFetcher) -> RuffBaseConfig | None:
    for name in RUFF_FILES:
        data = fetcher.read(None, name)
        if data is None:
            continue
        text = _text(data, name)
        table = _toml(text, name)
        if name == "pyproject.toml":
            tool = table.get("tool")
            if not (isinstance(tool, dict) and "ruff" in tool):
                continue
        return RuffBaseConfig(filename=name, text=text)
    return None


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(
            "The file is not UTF-8 text, so ruff's settings in it cannot be read.", file=name
        ) from None


def _toml(text: str, name: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(
            f"The file is not valid TOML ({reason}), so ruff's settings in it cannot be read.",
            file=name,
            line=int(where.group(1)) if where else None,
            column=int(where.group(2)) if where else None,
            hint="Fix the file on the base branch; ruff itself would refuse it too.",
        ) from None
