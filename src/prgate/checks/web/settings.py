"""What the web kind judges and which of the team's settings it reads (on the base branch).

oxlint reads ``.oxlintrc.json`` (the closest one above each file, as oxlint's nested configs
do); oxfmt reads ``.oxfmtrc.json``/``.oxfmtrc.jsonc`` and ``.editorconfig``. A folder with a
JSON or YAML ``.prettierrc`` and no oxfmt settings has its Prettier options handed to oxfmt,
whose options carry Prettier's names. Settings written as code (``.prettierrc.js``,
``oxfmt.config.ts``) are never run, so they are not honoured.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from typing import Literal

import yaml

from prgate.checks import Params, Rule

KIND_NAME = "web"

LINT_SETTINGS = (".oxlintrc.json",)
FORMAT_SETTINGS = (".oxfmtrc.json", ".oxfmtrc.jsonc", ".editorconfig")
PRETTIER_SETTINGS = (".prettierrc", ".prettierrc.json", ".prettierrc.yaml", ".prettierrc.yml")
SETTINGS_NAMES = LINT_SETTINGS + FORMAT_SETTINGS + PRETTIER_SETTINGS

#: Files oxlint lints.
LINT_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
#: Files oxfmt formats without Node (measured: bench/bench_web_tools.py).
FORMAT_SUFFIXES = (
    *LINT_SUFFIXES,
    ".json",
    ".jsonc",
    ".json5",
    ".css",
    ".scss",
    ".less",
    ".yaml",
    ".yml",
    ".toml",
    ".md",
    ".graphql",
)

#: Prettier options oxfmt reads under the same names (others are left out).
PRETTIER_OPTIONS = frozenset(
    {
        "printWidth",
        "tabWidth",
        "useTabs",
        "semi",
        "singleQuote",
        "jsxSingleQuote",
        "quoteProps",
        "trailingComma",
        "bracketSpacing",
        "bracketSameLine",
        "arrowParens",
        "endOfLine",
        "objectWrap",
        "singleAttributePerLine",
        "proseWrap",
        "embeddedLanguageFormatting",
    }
)

Suppression = Literal["error", "warning", "notice", "off"]


class WebParams(Params):
    """``format: true`` makes the rule the formatting rule (oxfmt); otherwise it lints (oxlint)."""

    format: bool = False


def params_of(rule: Rule) -> WebParams:
    return rule.params if isinstance(rule.params, WebParams) else WebParams()


def is_format_rule(rule: Rule) -> bool:
    return params_of(rule).format


def in_scope(rule: Rule, path: str) -> bool:
    """Whether ``rule`` judges the file at ``path`` (by its name's ending)."""
    suffixes = FORMAT_SUFFIXES if is_format_rule(rule) else LINT_SUFFIXES
    return path.lower().endswith(suffixes)


def is_settings_file(path: str) -> bool:
    return posixpath.basename(path) in SETTINGS_NAMES


def prettier_as_oxfmt(settings: Mapping[str, bytes | None]) -> dict[str, bytes]:
    """For each folder with a ``.prettierrc`` (JSON or YAML) and no oxfmt settings, an
    ``.oxfmtrc.json`` with its options that oxfmt reads under the same names."""
    out: dict[str, bytes] = {}
    for path in sorted(settings):
        data = settings[path]
        folder, name = posixpath.split(path)
        if data is None or name not in PRETTIER_SETTINGS:
            continue
        target = posixpath.join(folder, ".oxfmtrc.json")
        if settings.get(target) is not None or settings.get(target + "c") is not None:
            continue
        if target in out:
            continue
        try:
            loaded = yaml.safe_load(data.decode("utf-8"))  # JSON is YAML too
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(loaded, dict):
            kept = {k: v for k, v in loaded.items() if k in PRETTIER_OPTIONS}
            out[target] = json.dumps(kept).encode()
    return out
