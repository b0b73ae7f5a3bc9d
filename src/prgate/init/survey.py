"""What ``prgate init`` looks at in a repository before it chooses any rule.

Only facts that change a choice are gathered: which languages there are, where migrations,
infrastructure and CI automation live, who owns code (CODEOWNERS), how the code checks feature
flags and where the flags are declared, and which formatter and linter settings exist. Files are
the ones git knows (tracked, plus new ones it does not ignore), read as data, never run.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from prgate.sources.gitrun import run_git

PYTHON_SUFFIXES = (".py", ".pyi")
WEB_SUFFIXES = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".vue", ".svelte", ".css", ".scss")
#: Other languages, only named in the config's comments.
OTHER_LANGUAGES = {".go": "Go", ".rb": "Ruby", ".java": "Java", ".kt": "Kotlin", ".rs": "Rust"}

CODEOWNERS_PLACES = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
#: Top-level folders that hold infrastructure or deployment code.
INFRA_FOLDERS = (
    "infra",
    "infrastructure",
    "terraform",
    "k8s",
    "kubernetes",
    "helm",
    "deploy",
    "deployment",
    "ansible",
    "pulumi",
)
#: CI automation outside `.github/workflows/` (which the packs already guard).
CI_PATHS = (".circleci/", ".gitlab-ci.yml", "Jenkinsfile", ".buildkite/", "azure-pipelines.yml")
#: Migration folders by name at any depth, and Rails' `db/migrate`.
MIGRATION_NAMES = ("migrations", "migrate", "alembic")
FLAG_REGISTRY_NAMES = (
    "feature-flags.yml",
    "feature-flags.yaml",
    "feature_flags.yml",
    "feature_flags.yaml",
    "flags.yml",
    "flags.yaml",
)
RUFF_FILES = ("ruff.toml", ".ruff.toml")
PRETTIER_FILES = (".prettierrc", "prettier.config.js", "prettier.config.cjs", "prettier.config.mjs")
ESLINT_PREFIXES = (".eslintrc", "eslint.config.")
BIOME_FILES = ("biome.json", "biome.jsonc")

#: A call that looks like a feature-flag check: `something.is_enabled("name"` and the like.
_FLAG_CALL = re.compile(
    r"(?<![\w.])((?:[A-Za-z_]\w*\.)*(?:is_enabled|enabled|is_feature_enabled|feature_enabled|"
    r"is_on|variation|bool_variation|flag_enabled|is_active))\(\s*[\"'][\w.:-]+[\"']"
)
#: How many Python files, and how much of each, the flag scan reads.
MAX_SCANNED_FILES = 2000
MAX_SCANNED_BYTES = 256 * 1024


@dataclass(frozen=True)
class Survey:
    """What the repository holds, as far as choosing rules goes."""

    files: tuple[str, ...]
    python: int
    web: int
    others: tuple[str, ...]
    migrations: tuple[str, ...]
    infra: tuple[str, ...]
    ci: tuple[str, ...]
    workflows: int
    codeowners: str | None
    flag_calls: tuple[str, ...]
    flag_files: tuple[str, ...]
    flag_registry: str | None
    ruff_settings: str | None
    black_settings: bool
    web_settings: tuple[str, ...]
    has_tests: bool

    @property
    def languages(self) -> list[str]:
        found = ["Python"] if self.python else []
        if self.web:
            found.append("JavaScript/TypeScript")
        return found + list(self.others)


def survey(root: Path) -> Survey:
    """Look at the repository whose top folder is ``root``."""
    out = run_git(root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    files = tuple(sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}))
    existing = [f for f in files if (root / f).is_file()]  # deleted but still in the index: no
    # A name with a line break or other control character cannot be written as a pattern.
    named = [f for f in existing if f.isprintable()]
    python = [f for f in existing if f.endswith(PYTHON_SUFFIXES)]
    flag_calls, flag_files = _flag_calls(root, [f for f in named if f.endswith(PYTHON_SUFFIXES)])
    pyproject = _toml(root / "pyproject.toml")
    tool = pyproject.get("tool") if isinstance(pyproject.get("tool"), dict) else {}
    assert isinstance(tool, dict)
    ruff = next((n for n in RUFF_FILES if (root / n).is_file()), None)
    if ruff is None and "ruff" in tool:
        ruff = "pyproject.toml"
    others = sorted(
        {lang for f in existing for s, lang in OTHER_LANGUAGES.items() if f.endswith(s)}
    )
    return Survey(
        files=tuple(existing),
        python=len(python),
        web=sum(1 for f in existing if f.endswith(WEB_SUFFIXES)),
        others=tuple(others),
        migrations=_migration_folders(named),
        infra=tuple(sorted({f.split("/", 1)[0] + "/" for f in named if _top(f) in INFRA_FOLDERS})),
        ci=tuple(sorted({c for c in CI_PATHS for f in named if _under(f, c)})),
        workflows=sum(1 for f in existing if f.startswith(".github/workflows/")),
        codeowners=next((p for p in CODEOWNERS_PLACES if p in existing), None),
        flag_calls=flag_calls,
        flag_files=flag_files,
        flag_registry=_flag_registry(root, named),
        ruff_settings=ruff,
        black_settings="black" in tool,
        web_settings=_web_settings(root, existing),
        has_tests=any(_is_test(f) for f in existing),
    )


def _top(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else ""


def _under(path: str, place: str) -> bool:
    return path.startswith(place) if place.endswith("/") else path == place


def _migration_folders(files: Iterable[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for f in files:
        parts = PurePosixPath(f).parts[:-1]
        for i, part in enumerate(parts):
            if part in MIGRATION_NAMES and (part != "migrate" or parts[i - 1 : i] == ("db",)):
                found.add("/".join(parts[: i + 1]) + "/")
                break
    return tuple(sorted(found))


def _flag_calls(root: Path, python: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The dotted names of flag-checking calls in the Python code, and the files that make them
    (tests left out: they check flags to test them, not to guard behaviour)."""
    names: set[str] = set()
    where: set[str] = set()
    for path in [p for p in python if not _is_test(p)][:MAX_SCANNED_FILES]:
        try:
            with (root / path).open("rb") as fh:
                text = fh.read(MAX_SCANNED_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        found = {m.group(1) for m in _FLAG_CALL.finditer(text)}
        # `x.enabled(` and friends are common words; a bare method on `self` says nothing.
        found = {n for n in found if ("." in n and not n.startswith("self.")) or _flaggy(n)}
        if found:
            names |= found
            where.add(path)
    return tuple(sorted(names)), tuple(sorted(where))


def _flaggy(name: str) -> bool:
    return "flag" in name.lower() or "feature" in name.lower()


def _flag_registry(root: Path, files: Sequence[str]) -> str | None:
    from prgate.checks.flagregistry import RegistryProblem, parse_registry

    candidates = sorted(
        (f for f in files if PurePosixPath(f).name in FLAG_REGISTRY_NAMES),
        key=lambda f: (f.count("/"), f),
    )
    for path in candidates:
        try:
            data = (root / path).read_bytes()
        except OSError:
            continue
        if not isinstance(parse_registry(data), RegistryProblem):
            return path
    return None


def _web_settings(root: Path, files: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    top = [f for f in files if "/" not in f]
    if any(f.startswith(PRETTIER_FILES) for f in top):
        found.append("Prettier")
    if any(f.startswith(ESLINT_PREFIXES) for f in top):
        found.append("ESLint")
    if any(f in BIOME_FILES for f in top):
        found.append("Biome")
    package = root / "package.json"
    if "package.json" in top and "Prettier" not in found:
        try:
            if '"prettier"' in package.read_text(encoding="utf-8", errors="replace"):
                found.append("Prettier")
        except OSError:
            pass
    return tuple(found)


def _is_test(path: str) -> bool:
    name = PurePosixPath(path).name
    parts = PurePosixPath(path).parts[:-1]
    return (
        any(p in ("tests", "test", "__tests__", "spec") for p in parts)
        or name.startswith("test_")
        or name.endswith(("_test.py", "conftest.py"))
        or ".test." in name
        or ".spec." in name
    )


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
