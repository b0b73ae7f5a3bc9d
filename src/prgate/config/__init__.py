"""The repository's config, validated and resolved into rules.

``Config`` is what the engine consumes: the config of the *base* of a change, with its ``extends``
chain, packs and inline rules merged into one list of rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prgate.checks import Rule
from prgate.llm.settings import LlmSettings

#: Where a repository keeps its config and its own packs.
CONFIG_PATH = ".github/prgate.yml"
REPO_PACKS_DIR = ".github/prgate"


@dataclass(frozen=True)
class Config:
    rules: tuple[Rule, ...]
    autofix: bool = True
    llm: bool = False
    #: The AI reviewer's model and budget (``llm:`` in the config; ``llm`` above is its switch).
    llm_settings: LlmSettings = field(default_factory=LlmSettings)
    #: Where this config came from, for messages (``.github/prgate.yml at main``, ``defaults``).
    source: str = "defaults"
    notices: tuple[str, ...] = field(default=())

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None


def is_config_path(path: str) -> bool:
    """Whether a change to ``path`` edits prgate's own rules (reported as ``config/changed``)."""
    if path == CONFIG_PATH or path == ".github/prgate.yaml":
        return True
    return path.startswith(REPO_PACKS_DIR + "/") and path.endswith((".yml", ".yaml"))
