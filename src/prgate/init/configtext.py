"""The ``.github/prgate.yml`` that ``prgate init`` writes: each choice with the reason for it.

The text is built from the built-in packs as they ship (their rules, default parameters and the
check kinds' parameter names), so what is written is what the validator accepts. The same
repository always gives the same text, so running ``prgate init`` again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from prgate import __version__
from prgate.checks.globs import compile_globs
from prgate.init.survey import Survey

#: Source files of the web languages that `tests/required` should see in a JS/TS repository.
WEB_SOURCE = ["*.js", "*.jsx", "*.mjs", "*.cjs", "*.ts", "*.tsx", "*.vue", "*.svelte"]
WEB_SOURCE_EXCLUDE = ["!*.test.*", "!*.spec.*", "!__tests__/", "!*.config.*", "!*.d.ts"]
WEB_TESTS = ["*.test.*", "*.spec.*", "__tests__/"]


def _rule_param(pack: str, rule_id: str, name: str) -> Any:
    """A packed rule's default parameter, as it ships."""
    from prgate.packs import load_builtin

    packed = load_builtin(pack).rule(rule_id)
    if packed is None:  # pragma: no cover - the built-in packs carry these rules
        raise LookupError(f"the built-in pack {pack} has no rule {rule_id}")
    return getattr(packed.rule.params, name)


def _q(value: object) -> str:
    """A YAML scalar (JSON's quoting is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _names(items: Iterable[str], limit: int = 4) -> str:
    """Names for a comment: a name with a line break or other control character is quoted, so
    that it cannot end the comment and become settings."""
    items = [i if i.isprintable() else _q(i) for i in items]
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _block(key: str, patterns: Sequence[str], notes: dict[str, str], indent: str) -> list[str]:
    lines = [f"{indent}{key}:"]
    for p in patterns:
        note = notes.get(p)
        lines.append(f"{indent}  - {_q(p)}" + (f"  # {note}" if note else ""))
    return lines


def _uncovered(folders: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """The folders of ``folders`` no pattern of ``patterns`` already covers."""
    matcher = compile_globs(patterns)
    return [f for f in folders if not matcher.matches(f + "x") and not matcher.matches(f[:-1])]


def choose_packs(found: Survey, available: Sequence[str]) -> list[tuple[str, str]]:
    """The packs to use, each with why."""
    packs: list[tuple[str, str]] = []
    if found.python or found.ruff_settings:
        why = "Python found"
        if found.ruff_settings:
            why += f"; ruff's settings in {found.ruff_settings} decide which ruff rules apply"
        elif found.black_settings:
            why += "; formatted with black's settings from pyproject.toml"
        packs.append(("python-style", why))
    if (found.web or found.web_settings) and "web-style" in available:
        why = "JavaScript, TypeScript or CSS found"
        if found.web_settings:
            why += f"; settings for {', '.join(found.web_settings)} are used"
        packs.append(("web-style", why))
    packs.append(("safe-zones", "guards CI workflows, infrastructure, CODEOWNERS, migrations"))
    if found.flag_calls:
        packs.append(("feature-flags", f"flag checks found in {_names(found.flag_files, 2)}"))
    packs.append(("hygiene", "credentials, debugging leftovers, oversized and untested changes"))
    return packs


def config_text(found: Survey, available: Sequence[str]) -> str:
    """The whole config file for the surveyed repository."""
    packs = choose_packs(found, available)
    chosen = [name for name, _ in packs]
    width = max(len(n) for n in chosen)
    out = [
        f"# prgate's rules for this repository, written by `prgate init` (prgate {__version__}).",
        "# prgate reads this file from the base branch of each change: commit it there (usually",
        "# main). `prgate config validate` checks it; the README's rule reference explains each",
        "# rule and parameter.",
        "packs:",
        *(f"  - {name.ljust(width)}  # {why}" for name, why in packs),
    ]
    out += _not_used(found, chosen, available)
    rules = _forbidden(found) + _protected(found) + _flags(found, chosen) + _tests_required(found)
    out.append("rules:" if rules else "rules: {}  # every rule of these packs as it ships")
    out += rules
    out += [
        "autofix: {enabled: true}  # prgate may offer automatic fixes (`prgate fix`, the App's button)",
        'llm: {enabled: false}     # the AI reviewer is off (see the README\'s "AI review")',
    ]
    return "\n".join(out) + "\n"


def _not_used(found: Survey, chosen: Sequence[str], available: Sequence[str]) -> list[str]:
    notes = []
    if "python-style" not in chosen:
        notes.append("# python-style is not used: there is no Python here yet.")
    if "feature-flags" not in chosen:
        notes.append(
            "# feature-flags is not used: no feature-flag checks were found in Python code."
        )
    if (found.web or found.web_settings) and "web-style" not in available:
        notes.append(
            "# JavaScript/TypeScript was found; this prgate version has no rules for it beyond "
            "safe-zones and hygiene."
        )
    if "ai-review" in available:
        notes.append("# ai-review (an AI reviewer) is not used: it needs an Anthropic API key.")
    return notes


def _forbidden(found: Survey) -> list[str]:
    defaults: list[str] = list(_rule_param("safe-zones", "paths/forbidden", "paths"))
    extra = _uncovered([*found.infra, *(c for c in found.ci if c.endswith("/"))], defaults)
    extra += [c for c in found.ci if not c.endswith("/")]
    if not extra:
        return []
    notes = {p: "found in this repository" for p in extra}
    return [
        "  paths/forbidden:",
        "    # nobody may change these through a pull request: the packed list, plus the",
        "    # infrastructure and CI automation found here",
        *_block("paths", [*_positive(defaults), *extra, *_negative(defaults)], notes, "    "),
    ]


def _protected(found: Survey) -> list[str]:
    defaults: list[str] = list(_rule_param("safe-zones", "paths/protected", "paths"))
    extra = _uncovered(found.migrations, defaults)
    lines = ["  paths/protected:"]
    if found.codeowners:
        lines.append(
            "    # these need an approval from someone other than the author: the code owners"
        )
        lines.append(f"    # named in {found.codeowners} may approve")
        lines.append("    approvers: {codeowners: true}")
    else:
        lines += [
            "    # these need an approval from someone other than the author. There is no",
            "    # CODEOWNERS file, so until you name people here (GitHub logins) or add one,",
            "    # nobody can approve them and such a change cannot pass.",
            "    approvers:",
            "      users: []",
            "      teams: []",
            "      codeowners: true",
        ]
    if extra:
        notes = {p: "migrations found here" for p in extra}
        lines += _block(
            "paths", [*_positive(defaults), *extra, *_negative(defaults)], notes, "    "
        )
    elif found.migrations:
        lines.append(
            f"    # migrations found in {_names(found.migrations)}: covered by `migrations/`"
        )
    return lines


def _flags(found: Survey, chosen: Sequence[str]) -> list[str]:
    if "feature-flags" not in chosen:
        return []
    defaults: list[str] = list(_rule_param("feature-flags", "flags/guarded", "functions"))
    new = [n for n in found.flag_calls if not any(n == d or n.endswith("." + d) for d in defaults)]
    lines = [
        "  flags/guarded:",
        "    # checks nothing until you name the folders whose new code must sit behind a flag,",
        f'    # for example: paths: [{_q(_folder_glob(found.flag_files[0]))}, "!**/tests/**"]',
        "    paths: []",
    ]
    notes = {n: "found in this repository" for n in new}
    if new:
        lines += _block("functions", [*defaults, *new], notes, "    ")
    lines.append("  flags/registered:")
    if found.flag_registry:
        lines.append(f"    registry: {_q(found.flag_registry)}  # the flag list found here")
        if new:
            lines += _block("functions", [*defaults, *new], notes, "    ")
    else:
        lines += [
            "    # no flag registry was found: create a YAML list of the team's flag names (for",
            "    # example feature-flags.yml), then remove this line to check names against it",
            '    level: "off"',
        ]
    return lines


def _tests_required(found: Survey) -> list[str]:
    if not found.web:
        return []
    source: list[str] = list(_rule_param("hygiene", "tests/required", "source"))
    tests: list[str] = list(_rule_param("hygiene", "tests/required", "tests"))
    if not found.python:
        kept = [p for p in _negative(source) if not p.endswith(".py")]
        source = [*WEB_SOURCE, *kept, *WEB_SOURCE_EXCLUDE]
    else:
        source = [*_positive(source), *WEB_SOURCE, *_negative(source), *WEB_SOURCE_EXCLUDE]
    tests = [*tests, *(t for t in WEB_TESTS if t not in tests)]
    return [
        "  tests/required:",
        "    # JavaScript/TypeScript counts as source code too, and its test files as tests",
        *_block("source", source, {}, "    "),
        *_block("tests", tests, {}, "    "),
    ]


def _positive(patterns: Sequence[str]) -> list[str]:
    return [p for p in patterns if not p.startswith("!")]


def _negative(patterns: Sequence[str]) -> list[str]:
    return [p for p in patterns if p.startswith("!")]


def _folder_glob(path: str) -> str:
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return f"{folder}/**" if folder else "**/*.py"
