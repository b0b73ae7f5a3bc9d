"""What the web kind judges and which of the team's settings it reads (on the base branch).

oxlint reads ``.oxlintrc.json`` (the closest one above each file, as oxlint's nested configs
do); oxfmt reads ``.oxfmtrc.json``/``.oxfmtrc.jsonc``, ``.editorconfig`` and the top
``.prettierignore``. A folder with a
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
#: ``.prettierignore`` counts at the repository's top, as oxfmt (like Prettier) reads it there.
FORMAT_SETTINGS = (".oxfmtrc.json", ".oxfmtrc.jsonc", ".editorconfig", ".prettierignore")
PRETTIER_SETTINGS = (".prettierrc", ".prettierrc.json", ".prettierrc.yaml", ".prettierrc.yml")
#: Its ``prettier`` key, when there is no ``.prettierrc`` in the same folder.
PACKAGE_JSON = "package.json"
SETTINGS_NAMES = (*LINT_SETTINGS, *FORMAT_SETTINGS, *PRETTIER_SETTINGS, PACKAGE_JSON)

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

#: Files written by package managers, which oxfmt (like Prettier) leaves alone.
LOCKFILES = frozenset(
    {"package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "bun.lock", "deno.lock"}
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
    return path.lower().endswith(suffixes) and posixpath.basename(path) not in LOCKFILES


def is_settings_file(path: str) -> bool:
    return posixpath.basename(path) in SETTINGS_NAMES


def _prettier_options(name: str, data: bytes) -> dict[str, object] | None:
    try:
        loaded = yaml.safe_load(data.decode("utf-8"))  # JSON is YAML too
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    if name == PACKAGE_JSON:
        loaded = loaded.get("prettier") if isinstance(loaded, dict) else None
    if not isinstance(loaded, dict):
        return None
    # Prettier's line width where the team's settings do not say (oxfmt's own is 100).
    return {"printWidth": 80} | {str(k): v for k, v in loaded.items() if k in PRETTIER_OPTIONS}


def prettier_as_oxfmt(settings: Mapping[str, bytes | None]) -> dict[str, bytes]:
    """For each folder with Prettier settings (a JSON or YAML ``.prettierrc``, else the
    ``prettier`` key of ``package.json``) and no oxfmt settings, an ``.oxfmtrc.json`` with the
    options oxfmt reads under the same names."""
    out: dict[str, bytes] = {}
    order = {n: i for i, n in enumerate((*PRETTIER_SETTINGS, PACKAGE_JSON))}
    candidates = [
        p for p, d in settings.items() if d is not None and posixpath.basename(p) in order
    ]
    for path in sorted(
        candidates, key=lambda p: (posixpath.dirname(p), order[posixpath.basename(p)])
    ):
        data = settings[path]
        folder, name = posixpath.split(path)
        target = posixpath.join(folder, ".oxfmtrc.json")
        taken = settings.get(target) is not None or settings.get(target + "c") is not None
        if data is None or taken or target in out:
            continue
        options = _prettier_options(name, data)
        if options is not None:
            out[target] = json.dumps(options).encode()
    return out
