"""The feature-flag check kinds.

* ``flags`` (rule ``flags/guarded``): new or changed functions, methods and classes in files under
  ``paths`` whose new code runs without checking one of ``functions`` (see
  ``flagscan._Analyser`` for exactly what counts as a check).
* ``flag-registry`` (rule ``flags/registered``): flag names written as string literals in calls to
  ``functions`` on added lines must be declared in the ``registry`` YAML file. The registry is read
  as it is at *head*, so a change that adds a flag and declares it passes.

Only Python files (``.py``) under ``paths`` are parsed, with libcst, in isolated child processes
(``flagsandbox.scan_isolated``), decoded as Python decodes them (a PEP 263 ``# coding:`` line,
else UTF-8). A file in a rule's ``paths`` that cannot be decoded, parsed or analysed in time is a
finding of that rule at its level, never a pass. Both kinds read the same files with the same
parse: results are shared for one evaluation. ``flags/registered`` declares the registry it
reads, so that sources fetch it before judging.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import yaml
from pydantic import Field, field_validator

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Reads, Rule
from prgate.checks.flagfailures import (
    GUARDED_LOOKS_FOR,
    REGISTERED_LOOKS_FOR,
    guarded_failure,
    registered_failure,
)
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.checks.text import judged_ranges, python_text
from prgate.model import FileChange, Finding

if TYPE_CHECKING:
    from prgate.checks.flagscan import FlagUse, ScanOutcome, Unit

#: Calls that count as checking a feature flag unless a rule says otherwise. A call matches when
#: its dotted name is one of these or ends with ``.`` and one of these (``self.flags.enabled``).
DEFAULT_FUNCTIONS: tuple[str, ...] = (
    "flags.enabled",
    "flags.is_enabled",
    "feature_flags.enabled",
    "feature_flags.is_enabled",
    "is_feature_enabled",
    "flags.guard",
    "feature_flag",
)
#: Python files outside tests and migrations.
DEFAULT_PATHS: tuple[str, ...] = (
    "**/*.py",
    "!**/tests/**",
    "!**/test/**",
    "!**/test_*.py",
    "!**/*_test.py",
    "!**/conftest.py",
    "!**/migrations/**",
)
DEFAULT_REGISTRY = "feature-flags.yml"
#: A registry larger than this is refused before it is parsed.
MAX_REGISTRY_BYTES = 512 * 1024

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_SHOWN_NAME = 80


class GuardedParams(Params):
    """Parameters of ``flags/guarded``."""

    #: gitignore-style patterns of the files whose new code must sit behind a flag; only the
    #: Python files (`.py`) among them are read.
    paths: Globs = Field(default=DEFAULT_PATHS, min_length=1)
    #: Dotted names of the calls that check a flag, in a condition, as a decorator or in a
    #: `with` block; `flags.enabled` also matches `self.flags.enabled`.
    functions: tuple[str, ...] = Field(default=DEFAULT_FUNCTIONS, min_length=1)

    @field_validator("functions")
    @classmethod
    def _valid_functions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_functions(value)


class RegisteredParams(Params):
    """Parameters of ``flags/registered``."""

    #: Path, in the repository, of the YAML file that declares the team's flags.
    registry: str = DEFAULT_REGISTRY
    #: Dotted names of the calls whose first argument (or `name=`, `flag=`, `flag_name=`,
    #: `key=` argument) is a flag name.
    functions: tuple[str, ...] = Field(default=DEFAULT_FUNCTIONS, min_length=1)
    #: gitignore-style patterns of the files whose flag names are checked (`.py` files only).
    paths: Globs = Field(default=DEFAULT_PATHS, min_length=1)

    @field_validator("registry")
    @classmethod
    def _valid_registry(cls, value: str) -> str:
        path = value.strip()
        while path.startswith("./"):
            path = path[2:]
        parts = path.split("/")
        if not path or path.startswith("/") or "\\" in path or ".." in parts or "" in parts:
            raise ValueError(
                f"'{value}' is not a path inside the repository; write it relative to the "
                "repository's root, such as 'feature-flags.yml' or 'config/flags.yml'"
            )
        return path

    @field_validator("functions")
    @classmethod
    def _valid_functions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_functions(value)


def _check_functions(value: tuple[str, ...]) -> tuple[str, ...]:
    for name in value:
        if not _DOTTED.fullmatch(name):
            raise ValueError(
                f"'{name}' is not a function name; write names such as 'flags.enabled' or "
                "'is_feature_enabled' (letters, digits, underscores and dots)"
            )
    return value


@functools.lru_cache(maxsize=64)
def _matcher(paths: tuple[str, ...]) -> Matcher:
    return compile_globs(paths)


_P = TypeVar("_P", bound=Params)


def _params(rule: Rule, model: type[_P]) -> _P:
    if isinstance(rule.params, model):
        return rule.params
    return model.model_validate(rule.params.model_dump())


def _files(ctx: CheckContext, paths: tuple[str, ...]) -> Iterator[FileChange]:
    """Python files under ``paths`` that the change adds lines to (a file its source marked
    binary has no diff: all of it counts)."""
    matcher = _matcher(paths)
    for f in ctx.analysable():
        if (f.added or f.is_binary) and f.path.endswith(".py") and matcher.matches(f.path):
            yield f


def _in_scope(paths: tuple[str, ...], f: FileChange) -> bool:
    return f.path.endswith(".py") and _matcher(paths).matches(f.path)


def in_guarded_scope(rule: Rule, f: FileChange) -> bool:
    return _in_scope(_params(rule, GuardedParams).paths, f)


def in_registered_scope(rule: Rule, f: FileChange) -> bool:
    return _in_scope(_params(rule, RegisteredParams).paths, f)


def _source(f: FileChange) -> str | None:
    data = f.head_bytes()
    return python_text(data) if data is not None else None


# --------------------------------------------------------------------------------------------
# Reading files, once per evaluation

_Key = tuple[str, tuple[tuple[int, int], ...], tuple[str, ...]]


def _scans(ctx: CheckContext) -> dict[_Key, ScanOutcome]:
    """Results shared by both kinds in one evaluation, so that each file is parsed once."""
    return ctx.prepared.get("flags.scans", dict)


@dataclass(frozen=True)
class _Wanted:
    """A file to read with some flag functions; ``key`` says which reading answers it."""

    file: FileChange
    text: str
    functions: tuple[str, ...]
    key: _Key


def _wanted(f: FileChange, text: str, functions: tuple[str, ...]) -> _Wanted:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return _Wanted(f, text, functions, (digest, judged_ranges(f, text), functions))


def _scan(ctx: CheckContext, wanted: Sequence[_Wanted]) -> dict[_Key, ScanOutcome]:
    if not wanted:  # libcst takes a tenth of a second to import: only when there is work
        return {}
    from prgate.checks.flagsandbox import scan_isolated
    from prgate.checks.flagscan import ScanJob

    cache = _scans(ctx)
    todo: dict[_Key, _Wanted] = {}
    for w in wanted:
        if w.key not in cache:
            todo.setdefault(w.key, w)
    if todo:
        keys = list(todo)
        jobs = [ScanJob(text=todo[k].text, added=k[1], functions=todo[k].functions) for k in keys]
        outcomes = scan_isolated(jobs, limits=ctx.scan_limits)
        for k, outcome in zip(keys, outcomes, strict=True):
            cache[k] = outcome
    return {w.key: cache[w.key] for w in wanted}


# --------------------------------------------------------------------------------------------
# flags/guarded


def run_guarded(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    plans = [(rule, _params(rule, GuardedParams)) for rule in rules]
    wanted: list[tuple[Rule, GuardedParams, _Wanted]] = []
    for rule, params in plans:
        for f in _files(ctx, params.paths):
            text = _source(f)
            if text is None:
                result.findings.append(guarded_failure(rule, f.path, None))
            else:
                wanted.append((rule, params, _wanted(f, text, params.functions)))
    if not wanted:
        return result
    from prgate.checks.flagscan import FileScan

    outcomes = _scan(ctx, [w for _, _, w in wanted])
    for rule, params, w in wanted:
        outcome = outcomes[w.key]
        if not isinstance(outcome, FileScan):
            result.findings.append(guarded_failure(rule, w.file.path, outcome))
            continue
        for unit in outcome.unguarded:
            result.findings.append(
                rule.finding(
                    path=w.file.path,
                    line=unit.line,
                    end_line=unit.end_line,
                    message=_unguarded_message(unit),
                    fix=_unguarded_fix(unit, params.functions),
                )
            )
    return result


_KIND_WORDS = {"function": "function", "method": "method", "class": "class"}


def _unguarded_message(unit: Unit) -> str:
    kind = _KIND_WORDS[unit.kind]
    if unit.kind == "class":
        members = _name_list(unit.members)
        age = "new" if unit.new else "changed"
        return (
            f"The {age} class `{unit.name}` has code that runs without checking a feature flag "
            f"(in {members})."
        )
    lines = _line_list(unit.lines)
    if unit.new and unit.checks_flag:
        return (
            f"The new {kind} `{unit.name}` checks a feature flag, but its code on {lines} runs "
            "outside that check."
        )
    if unit.new:
        return f"The new {kind} `{unit.name}` runs without checking a feature flag."
    if unit.checks_flag:
        return (
            f"The {kind} `{unit.name}` was changed, and its changed code on {lines} runs "
            "outside its feature-flag check."
        )
    return (
        f"The {kind} `{unit.name}` was changed, and its changed code on {lines} runs without "
        "checking a feature flag."
    )


def _unguarded_fix(unit: Unit, functions: Sequence[str]) -> str:
    check = f'{functions[0]}("your-flag-name")'
    allowed = ", ".join(f"`{f}`" for f in functions)
    if unit.kind == "class":
        where = (
            f"In each of {_name_list(unit.members)} of the class `{unit.name}`, start the body "
            f"with `if not {check}: return` (returning what the old behaviour returns), or put "
            f"the new code inside `if {check}:`."
        )
    else:
        where = (
            f"Start the body of `{unit.name}` with `if not {check}: return` (returning what the "
            f"old behaviour returns), or put its new code inside `if {check}:` and keep the old "
            "behaviour in the `else:` branch."
        )
    return (
        f"{where} Use a real flag name your team has declared. These calls count as a flag "
        f"check: {allowed}; a decorator or a `with` block using one of them counts too."
    )


def _name_list(names: Sequence[str]) -> str:
    shown = [f"`{n}`" for n in names[:5]]
    if len(names) > 5:
        shown.append(f"{len(names) - 5} more")
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _line_list(lines: Sequence[int]) -> str:
    if not lines:
        return "its changed lines"
    shown = [str(n) for n in lines[:5]]
    if len(lines) > 5:
        shown.append(f"{len(lines) - 5} more")
    word = "line" if len(lines) == 1 else "lines"
    if len(shown) == 1:
        return f"{word} {shown[0]}"
    return f"{word} " + ", ".join(shown[:-1]) + " and " + shown[-1]


# --------------------------------------------------------------------------------------------
# flags/registered


@dataclass(frozen=True)
class FlagRegistry:
    names: frozenset[str]


@dataclass(frozen=True)
class RegistryProblem:
    """Why a registry cannot be used, in plain words (a sentence that follows its path)."""

    reason: str
    missing: bool = False


def parse_registry(data: bytes | None) -> FlagRegistry | RegistryProblem:
    """Read a flag registry: a YAML list of names, or a mapping whose ``flags:`` holds a list of
    names or a mapping from name to description. Parsed with ``yaml.safe_load`` after a size cap.
    """
    if data is None:
        return RegistryProblem("does not exist", missing=True)
    if len(data) > MAX_REGISTRY_BYTES:
        return RegistryProblem(
            f"is larger than {MAX_REGISTRY_BYTES // 1024} KiB, so prgate did not read it"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return RegistryProblem("is not a text file (UTF-8)")
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        problem = f": {exc.problem}" if exc.problem else ""
        return RegistryProblem(f"is not valid YAML{where}{problem}")
    except (yaml.YAMLError, RecursionError):
        return RegistryProblem("is not valid YAML")
    if document is None:
        return FlagRegistry(frozenset())
    if isinstance(document, list):
        return _names(document, "")
    if isinstance(document, dict):
        if "flags" not in document:
            return RegistryProblem(
                "has no `flags:` key; it must be a list of flag names, or hold them under `flags:`"
            )
        flags = document["flags"]
        if flags is None:
            return FlagRegistry(frozenset())
        if isinstance(flags, list):
            return _names(flags, " under `flags:`")
        if isinstance(flags, dict):
            return _names(list(flags), " under `flags:`")
        return RegistryProblem(
            "has a `flags:` key that holds neither a list of names nor a mapping from name to "
            "description"
        )
    return RegistryProblem(
        "is neither a list of flag names nor a mapping with a `flags:` key that holds them"
    )


def _names(items: list[object], where: str) -> FlagRegistry | RegistryProblem:
    names: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, str) or not item:
            shown = "nothing" if item is None else type(item).__name__
            hint = " put it in quotes" if isinstance(item, bool | int | float) else ""
            return RegistryProblem(
                f"has an entry{where} that is not a flag name (entry {number} was read as "
                f"{shown});{hint or ' write each flag name as text'}"
            )
        names.add(item)
    return FlagRegistry(frozenset(names))


def call_candidates(text: str, functions: Iterable[str]) -> bool:
    """Whether ``text`` may call one of ``functions`` (a cheap test before looking for uses)."""
    last = {f.rsplit(".", 1)[-1] for f in functions}
    if not last:
        return False
    pattern = r"\b(?:" + "|".join(re.escape(n) for n in sorted(last)) + r")\s*\("
    return re.search(pattern, text) is not None


def run_registered(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    plans = [(rule, _params(rule, RegisteredParams)) for rule in rules]
    wanted: list[tuple[Rule, _Wanted]] = []
    for rule, params in plans:
        for f in _files(ctx, params.paths):
            text = _source(f)
            if text is None:
                result.findings.append(registered_failure(rule, f.path, None))
            elif call_candidates(text, params.functions):
                wanted.append((rule, _wanted(f, text, params.functions)))
    outcomes = _scan(ctx, [w for _, w in wanted])
    for rule, params in plans:
        mine = [w for r, w in wanted if r is rule]
        result.extend(_check_registry(ctx, rule, params, mine, outcomes))
    return result


def _check_registry(
    ctx: CheckContext,
    rule: Rule,
    params: RegisteredParams,
    wanted: Sequence[_Wanted],
    outcomes: dict[_Key, ScanOutcome],
) -> CheckResult:
    result = CheckResult()
    uses: list[tuple[str, FlagUse]] = []
    for w in wanted:
        from prgate.checks.flagscan import FileScan

        outcome = outcomes[w.key]
        if isinstance(outcome, FileScan):
            uses.extend((w.file.path, use) for use in outcome.uses)
        else:
            result.findings.append(registered_failure(rule, w.file.path, outcome))
    changed = ctx.changeset.file(params.registry)
    if not uses and changed is None:
        return result
    registry = parse_registry(ctx.changeset.read_head(params.registry))
    if isinstance(registry, RegistryProblem):
        result.findings.append(_registry_problem(rule, params, registry, used=bool(uses)))
        return result
    declared = sorted(registry.names)
    for path, use in uses:
        if use.name in registry.names:
            continue
        shown = _show(use.name)
        close = difflib.get_close_matches(use.name, declared, n=1, cutoff=0.75)
        hint = f" Did you mean `{_show(close[0])}`?" if close else ""
        typo = f" If it is a typo, use the declared name `{_show(close[0])}`." if close else ""
        result.findings.append(
            rule.finding(
                path=path,
                line=use.line,
                column=use.column,
                message=(
                    f"The flag `{shown}` is not declared in the flag registry "
                    f"`{params.registry}`.{hint}"
                ),
                fix=(
                    f"If `{shown}` is a new flag, add it to `{params.registry}` in this change, "
                    f"next to the other flag names.{typo}"
                ),
            )
        )
    return result


def _registry_problem(
    rule: Rule, params: RegisteredParams, problem: RegistryProblem, *, used: bool
) -> Finding:
    consequence = (
        " The flag names this change uses could not be checked against it."
        if used
        else " Flag names used in code cannot be checked against it."
    )
    if problem.missing:
        fix = (
            f"Create `{params.registry}` with the team's feature flags: a YAML list of flag "
            "names, or `flags:` followed by the names (optionally each with a description). "
            "If your team keeps its flags in another file, ask whoever maintains the prgate "
            "config to point the `registry` setting of `flags/registered` at it."
        )
    else:
        fix = (
            f"Fix `{params.registry}` so that it is a YAML list of flag names, or a mapping "
            "with a `flags:` key that holds a list of names or a mapping from name to "
            "description."
        )
    return rule.finding(
        path=params.registry,
        message=f"The flag registry `{params.registry}` {problem.reason}.{consequence}",
        fix=fix,
    )


def _show(name: str) -> str:
    """A flag name as shown in a message: one line, no backticks, not too long."""
    clean = "".join(c if c.isprintable() and c != "`" else "?" for c in name)
    if len(clean) > _SHOWN_NAME:
        clean = clean[: _SHOWN_NAME - 1] + "…"
    return clean


KIND = CheckKind(
    name="flags",
    params=GuardedParams,
    run=run_guarded,
    in_scope=in_guarded_scope,
    looks_for=GUARDED_LOOKS_FOR,
    summary=(
        "New or changed functions, methods and classes under `paths` whose new code runs "
        "without checking a feature flag with one of `functions`."
    ),
)


def registered_reads(rule: Rule) -> Reads:
    """The registry, read at head."""
    return Reads(head=frozenset({_params(rule, RegisteredParams).registry}))


REGISTERED_KIND = CheckKind(
    name="flag-registry",
    params=RegisteredParams,
    run=run_registered,
    reads=registered_reads,
    in_scope=in_registered_scope,
    looks_for=REGISTERED_LOOKS_FOR,
    summary=(
        "Flag names passed to one of `functions` on added lines that the `registry` file "
        "does not declare."
    ),
)
