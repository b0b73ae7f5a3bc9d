"""The team's ruff settings on the base branch, as ruff itself discovers them.

The settings files (``.ruff.toml``, ``ruff.toml``, ``pyproject.toml`` with a ``[tool.ruff]``
table) of every folder from a changed file up to the repository root are read at base, and the
files their ``extend`` names; ruff is then left to choose, for each file, the closest one, as it
does in the team's own checkout. A pull request never changes the settings it is judged by.

Default selection (no ruff settings anywhere above a file): :data:`DEFAULT_SELECT`, likely
mistakes only (syntax errors, undefined names, unused imports and variables, invisible
text-direction controls, a mutable default argument). With the team's settings, their
selection is used as it is (ruff's own default when they select nothing).
"""

from __future__ import annotations

import functools
import posixpath
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationInfo, field_validator, model_validator

from prgate.checks import Params, Rule
from prgate.errors import ConfigError

KIND_NAME = "ruff"
PYTHON_SUFFIXES = (".py", ".pyi")
#: Ruff's settings files, in its order of precedence within one folder.
SETTINGS_NAMES: tuple[str, ...] = (".ruff.toml", "ruff.toml", "pyproject.toml")
#: The selection where a repository has no ruff settings: likely mistakes, no taste.
#: E9 syntax and I/O errors; F63 comparisons that are always wrong; F7 statements out of place
#: (``return`` outside a function); F82 undefined names; F401 unused imports; F811 a name
#: redefined before use; F841 unused variables; PLE2502 invisible text-direction controls;
#: B006 a mutable default argument. Debugger calls are ``content/debug``'s (ruff T100), so that
#: one breakpoint is not reported twice.
DEFAULT_SELECT: tuple[str, ...] = (
    "E9",
    "F63",
    "F7",
    "F82",
    "F401",
    "F811",
    "F841",
    "PLE2502",
    "B006",
)

_SELECTOR = re.compile(r"^(ALL|[A-Z]{1,6}[0-9]{0,4})$")
_CODE = re.compile(r"^([A-Z]+)([0-9]*)$")
#: Linters grouped under a shorter prefix (``PL`` selects ``PLC``, ``PLE``, ``PLR``, ``PLW``).
_PARENTS = {"PLC": "PL", "PLE": "PL", "PLR": "PL", "PLW": "PL"}


class RuffParams(Params):
    """``select``/``ignore``: ruff codes or prefixes (``F``, ``E7``, ``B006``, ``ALL``).

    Without ``select`` a lint rule reports what the team's own ruff settings select.
    ``format: true`` makes the rule a formatting rule (``ruff format``), which takes neither.
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    format: bool = False
    #: The level of a finding that names a suppression comment the change adds (``off``: not
    #: named).
    added_noqa: Literal["error", "warning", "notice", "off"] = "warning"
    #: Formatting rules only: the level of a finding that names a formatting suppression the
    #: change adds (``# fmt: off``, ``# fmt: skip``, ``# yapf: disable``; ``off``: not named).
    #: Unset means ``warning``.
    added_suppression: Literal["error", "warning", "notice", "off"] | None = None

    @field_validator("select", "ignore")
    @classmethod
    def _codes(cls, value: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        if value is None:
            return None
        from prgate.checks.ruff.codes import known_codes

        known = known_codes()
        if known is not None:
            problem = known.problems(value, removed_ok=info.field_name == "ignore")
        else:  # the bundled ruff cannot list its rules: check the shape at least
            bad = [c for c in value if not _SELECTOR.match(c)]
            problem = (
                f"'{bad[0]}' is not a ruff rule code or prefix (such as F401, E7, B or ALL)"
                if bad
                else None
            )
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _format_alone(self) -> RuffParams:
        if self.format and (self.select is not None or self.ignore is not None):
            raise ValueError("a formatting rule (format: true) takes no select or ignore")
        if not self.format and self.added_suppression is not None:
            raise ValueError(
                "added_suppression is for a formatting rule (format: true); a lint rule's "
                "added suppressions are set with added_noqa"
            )
        return self


def params_of(rule: Rule) -> RuffParams:
    return rule.params if isinstance(rule.params, RuffParams) else RuffParams()


def is_format_rule(rule: Rule) -> bool:
    return rule.check == KIND_NAME and params_of(rule).format


# --- which codes a selector covers ----------------------------------------------------------


def selector_matches(selector: str, code: str) -> int:
    """How specifically ``selector`` covers ``code`` (-1: not at all), as ruff reads selectors:
    by linter prefix, then digits (``B`` covers ``B006`` but not ``BLE001``)."""
    if selector == "ALL":
        return 0
    s, c = _CODE.match(selector), _CODE.match(code)
    if s is None or c is None:
        return -1
    linter, digits = c.group(1), c.group(2)
    if s.group(1) == linter and digits.startswith(s.group(2)):
        return len(selector)
    if not s.group(2) and _PARENTS.get(linter) == s.group(1):
        return len(selector)
    return -1


@dataclass(frozen=True)
class Selection:
    """Ruff codes or prefixes a rule selects, minus those it ignores (most specific wins)."""

    select: tuple[str, ...]
    ignore: tuple[str, ...] = ()

    def matches(self, code: str) -> bool:
        chosen = max((selector_matches(s, code) for s in self.select), default=-1)
        if chosen < 0:
            return False
        return chosen > max((selector_matches(s, code) for s in self.ignore), default=-1)


# --- the settings files ---------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _parsed(data: bytes) -> dict[str, Any] | None:
    """``data`` read as TOML (``None``: not TOML). Shared: callers only read it. A settings
    file is asked about many times per evaluation (each changed file's folders), and the same
    file again for each change a backtest replays."""
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def ruff_table(path: str, data: bytes | None) -> dict[str, object] | None:
    """The ruff settings a file holds (``None``: none, or not a settings file ruff reads)."""
    if data is None:
        return None
    parsed = _parsed(data)
    if parsed is None:
        return {} if not path.endswith("pyproject.toml") else None
    if posixpath.basename(path) == "pyproject.toml":
        tool = parsed.get("tool")
        ruff = tool.get("ruff") if isinstance(tool, dict) else None
        return dict(ruff) if isinstance(ruff, dict) else None
    return dict(parsed)


def extend_targets(path: str, data: bytes) -> list[str]:
    """The repository path a settings file's ``extend`` names (followed before judging)."""
    table = ruff_table(path, data)
    target = table.get("extend") if table else None
    if not isinstance(target, str) or target.startswith(("/", "~")) or "\\" in target:
        return []
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    return [] if joined.startswith("../") or joined in ("..", ".") else [joined]


def has_ruff_settings(settings: Mapping[str, bytes | None]) -> bool:
    """Whether any settings file read at base configures ruff."""
    return any(ruff_table(p, d) is not None for p, d in settings.items())


def governing(path: str, settings: Mapping[str, bytes | None]) -> str | None:
    """The settings file ruff uses for ``path``: the closest folder's, in ruff's order."""
    folder = posixpath.dirname(path)
    while True:
        for name in SETTINGS_NAMES:
            candidate = f"{folder}/{name}" if folder else name
            if ruff_table(candidate, settings.get(candidate)) is not None:
                return candidate
        if not folder:
            return None
        folder = posixpath.dirname(folder)


# --- settings this ruff no longer accepts ---------------------------------------------------

#: Settings ruff removed that only changed how it printed its findings, never which exist.
DISPLAY_ONLY = ("show-source",)
_OUTPUT_FORMAT = "output-format"


@dataclass(frozen=True)
class Dropped:
    """A display setting left out of the team's file, with the sentence for its keeper."""

    path: str
    key: str
    line: int

    def notice(self) -> str:
        return (
            f"The team's ruff settings in {self.path} (line {self.line}) use `{self.key}`, "
            "which the ruff prgate runs no longer accepts. It only changed how ruff prints its "
            "findings, not what it finds, so prgate ran without it. Whoever keeps "
            f'{self.path} can delete that line (`output-format = "full"` is today\'s way to '
            "show source lines)."
        )


_KEY_LINE = re.compile(r"^\s*(?P<key>[A-Za-z0-9_-]+)\s*=\s*(?P<value>[^#\n]*?)\s*(?:#.*)?$")


def drop_display_settings(path: str, data: bytes) -> tuple[bytes, tuple[Dropped, ...]]:
    """``data`` without the removed display settings of its ruff table, and what was dropped.
    Only a one-line ``key = value`` is dropped, and only when the file still parses to the
    same settings otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data, ()
    before = ruff_table(path, data)
    if not before:
        return data, ()
    lines = text.splitlines(keepends=True)
    in_ruff = not path.endswith("pyproject.toml")
    dropped: list[Dropped] = []
    keep: list[str] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            header = stripped.strip("[] \t").replace('"', "")
            pyproject = path.endswith("pyproject.toml")
            in_ruff = header in (("tool.ruff", "tool.ruff.lint") if pyproject else ("lint",))
        m = _KEY_LINE.match(line.rstrip("\r\n"))
        if in_ruff and m and _removed_display(m.group("key"), m.group("value")):
            dropped.append(Dropped(path, m.group("key"), number))
            continue
        keep.append(line)
    if not dropped:
        return data, ()
    new = "".join(keep).encode("utf-8")
    after = ruff_table(path, new)
    expected = {k: v for k, v in before.items() if k not in {d.key for d in dropped}}
    lint = expected.get("lint")
    if isinstance(lint, dict):
        expected["lint"] = {k: v for k, v in lint.items() if k not in {d.key for d in dropped}}
    if after != expected:
        return data, ()
    return new, tuple(dropped)


def _removed_display(key: str, value: str) -> bool:
    if key in DISPLAY_ONLY:
        return True
    # Output formats ruff renamed or removed: prgate always asks ruff for JSON anyway.
    return key == _OUTPUT_FORMAT and value.strip("\"' ") in ("text", "grouped-text")


# --- a settings file ruff refuses -----------------------------------------------------------

_FAILED = re.compile(
    r"Failed to (?:parse|read|load extended configuration)\s+`?(?P<file>[^`\s]+)`?"
)
_FIELD = re.compile(r"unknown (?:field|variant) `(?P<key>[^`]+)`")


def config_error(stderr: bytes, repo_path: Mapping[str, str]) -> ConfigError | None:
    """The team's settings file ruff refused, said in ruff's words, or ``None`` when ruff's
    failure is not about a settings file. ``repo_path`` maps workspace paths to repository
    paths (a path ruff names outside the repository is shown as ruff names it)."""
    text = stderr.decode("utf-8", errors="replace")
    if "Cause:" not in text or "Failed to" not in text:
        return None
    m = _FAILED.search(text)
    if m is None:
        return None
    file = repo_path.get(m.group("file"), m.group("file"))
    for workspace, repo in repo_path.items():
        text = text.replace(workspace, repo)
    words = _ruff_words(text)
    line = re.search(r"at line (\d+), column (\d+)", text)
    key = _FIELD.search(text)
    what = f"the setting `{key.group('key')}` " if key else "it "
    return ConfigError(
        f"The team's ruff settings cannot be loaded by the ruff prgate runs: ruff says {words!r}. "
        f"This is the repository's own configuration on the base branch, not a problem of this "
        "change.",
        file=file,
        line=int(line.group(1)) if line else None,
        column=int(line.group(2)) if line else None,
        hint=(
            f"Whoever keeps {file} should change or remove {what}so that ruff accepts the file "
            "(`ruff check` in the repository shows the same message), and merge that first."
        ),
    )


def _ruff_words(text: str) -> str:
    """Ruff's own explanation: its cause lines and the last line of a parse error."""
    causes = [ln.strip()[len("Cause:") :].strip() for ln in text.splitlines() if "Cause:" in ln]
    tail = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip()
        and not ln.strip().startswith(("|", "Cause:", "ruff failed", "warning:"))
        and not re.match(r"^\d+\s*\|", ln.strip())
    ]
    parts = [c for c in causes if not c.startswith("TOML parse error")] + tail[-1:]
    return "; ".join(dict.fromkeys(parts))[:500]


# --- black, when the team formats with black and not ruff -----------------------------------


def black_overrides(path: str, settings: Mapping[str, bytes | None]) -> list[str]:
    """``ruff format`` options standing for ``[tool.black]`` of the closest ``pyproject.toml``
    above ``path``, when no ruff settings govern that file."""
    if governing(path, settings) is not None:
        return []
    folder = posixpath.dirname(path)
    while True:
        candidate = f"{folder}/pyproject.toml" if folder else "pyproject.toml"
        data = settings.get(candidate)
        if data is not None:
            return _black_options(data)
        if not folder:
            return []
        folder = posixpath.dirname(folder)


def _black_options(data: bytes) -> list[str]:
    parsed = _parsed(data)
    if parsed is None:
        return []
    tool = parsed.get("tool")
    black = tool.get("black") if isinstance(tool, dict) else None
    if not isinstance(black, dict):
        return []
    out: list[str] = []
    length = black.get("line-length", black.get("line_length"))
    if isinstance(length, int) and not isinstance(length, bool) and 1 <= length <= 320:
        out += ["--line-length", str(length)]
    if black.get("skip-string-normalization", black.get("skip_string_normalization")) is True:
        out += ["--config", 'format.quote-style="preserve"']
    if black.get("skip-magic-trailing-comma", black.get("skip_magic_trailing_comma")) is True:
        out += ["--config", "format.skip-magic-trailing-comma=true"]
    return out


def black_excludes(settings: Mapping[str, bytes | None]) -> Sequence[re.Pattern[str]]:
    """The ``exclude``/``extend-exclude``/``force-exclude`` regexes of the root ``[tool.black]``
    (black's own way to leave files alone), when the root has no ruff settings."""
    data = settings.get("pyproject.toml")
    if data is None or ruff_table("pyproject.toml", data) is not None:
        return ()
    parsed = _parsed(data)
    if parsed is None:
        return ()
    tool = parsed.get("tool")
    black = tool.get("black") if isinstance(tool, dict) else None
    if not isinstance(black, dict):
        return ()
    out = []
    for key in ("exclude", "extend-exclude", "extend_exclude", "force-exclude", "force_exclude"):
        value = black.get(key)
        if isinstance(value, str):
            try:
                out.append(re.compile(value, re.VERBOSE))
            except re.error:
                continue
    return tuple(out)


def codes_of(selectors: Iterable[str]) -> str:
    return ",".join(sorted(set(selectors)))
