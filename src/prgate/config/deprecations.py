"""Settings that still load but no longer do anything: warnings for ``prgate config validate``.

A config that uses one keeps working (the setting is ignored), and the validator says so with
file, line and column, what to do instead, and exits 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prgate.config import REPO_PACKS_DIR
from prgate.config.yamlsafe import YamlDoc, load_yaml
from prgate.errors import ConfigError, PrgateError


def deprecations(path: Path, root: Path) -> list[ConfigError]:
    """Warnings about the config at ``path`` and the repository's own packs under ``root``."""
    files = [path]
    packs = root / REPO_PACKS_DIR
    if packs.is_dir():
        files += sorted(p for p in packs.iterdir() if p.suffix in (".yml", ".yaml"))
    found: list[ConfigError] = []
    for file in files:
        try:
            doc = load_yaml(file.read_bytes(), file=str(file))
        except (OSError, PrgateError):
            continue  # the validator reports files it cannot read
        found.extend(_in(doc))
    return found


def _in(doc: YamlDoc) -> list[ConfigError]:
    from prgate.checks.paths import UNLESS_LABEL_DEPRECATED, UNLESS_LABEL_HINT

    data: Any = doc.data
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, dict):
        return []
    out = []
    for rule_id, settings in rules.items():
        if isinstance(settings, dict) and "unless_label" in settings:
            out.append(
                doc.error(
                    f"`{rule_id}`: {UNLESS_LABEL_DEPRECATED}",
                    ("rules", rule_id, "unless_label"),
                    key=True,
                    hint=UNLESS_LABEL_HINT,
                )
            )
    return out
