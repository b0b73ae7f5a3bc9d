"""What the two feature-flag kinds share: their parameters, and one reading of the files.

Both kinds judge Python files under their ``paths`` with the same parse. The first of them to run
in an evaluation plans the reading for every flag rule of the evaluation (``CheckContext.rules``),
so that each file is parsed at most once, with every set of flag ``functions`` the rules name, and
keeps the results in the evaluation's ``prepared`` memo for the other.

A file is parsed only when the change could matter to a rule (``flagtouch``): for
``flags/guarded`` an added line inside a function, method or class (or its decorators, or a
statement with a ``lambda``); for ``flags/registered`` an added line in a statement that calls
one of its ``functions``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from pydantic import Field, field_validator

from prgate.checks import CheckContext, Params, Rule
from prgate.checks.flagtouch import Outline, excerpt, outline, touched_code, touches_units
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.checks.text import judged_ranges, python_text
from prgate.model import FileChange

if TYPE_CHECKING:
    from prgate.checks.flagscan import ScanOutcome

GUARDED_CHECK = "flags"
REGISTERED_CHECK = "flag-registry"

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
#: Python files outside tests and migrations (where ``flags/registered`` looks for flag names).
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

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class GuardedParams(Params):
    """Parameters of ``flags/guarded``."""

    #: gitignore-style patterns of the folders and files whose new code must sit behind a flag;
    #: only the Python files (`.py`) among them are read. Empty (the default): the rule checks
    #: nothing until the team names them, and `prgate config validate` says so.
    paths: Globs = ()
    #: Dotted names of the calls that check a flag, in a condition, as a decorator or in a
    #: `with` block; `flags.enabled` also matches `self.flags.enabled`.
    functions: tuple[str, ...] = Field(default=DEFAULT_FUNCTIONS, min_length=1)

    @field_validator("functions")
    @classmethod
    def _valid_functions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_functions(value)


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
        return check_functions(value)


def check_functions(value: tuple[str, ...]) -> tuple[str, ...]:
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


def params(rule: Rule, model: type[_P]) -> _P:
    if isinstance(rule.params, model):
        return rule.params
    return model.model_validate(rule.params.model_dump())


def in_scope(paths: tuple[str, ...], f: FileChange) -> bool:
    return f.path.endswith(".py") and _matcher(paths).matches(f.path)


def files(ctx: CheckContext, paths: tuple[str, ...]) -> Iterator[FileChange]:
    """Python files under ``paths`` that the change adds lines to (a file its source marked
    binary has no diff: all of it counts)."""
    if not paths:
        return
    matcher = _matcher(paths)
    for f in ctx.analysable():
        if (f.added or f.is_binary) and f.path.endswith(".py") and matcher.matches(f.path):
            yield f


def call_candidates(text: str, functions: Iterable[str]) -> bool:
    """Whether ``text`` may call one of ``functions`` (a cheap test before looking for uses)."""
    last = {f.rsplit(".", 1)[-1] for f in functions}
    if not last:
        return False
    pattern = r"\b(?:" + "|".join(re.escape(n) for n in sorted(last)) + r")\s*\("
    return re.search(pattern, text) is not None


# --------------------------------------------------------------------------------------------
# One reading of the files, for every flag rule of the evaluation

_Key = tuple[str, tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class Source:
    """A changed file as the flag rules read it: its text (``None``: it cannot be decoded)."""

    file: FileChange
    text: str | None
    key: _Key

    @functools.cached_property
    def outline(self) -> Outline | None:
        """The cheap look at the text, taken the first time a rule asks for it."""
        return outline(self.text) if self.text is not None else None


@dataclass
class Reading:
    """What one evaluation read: each file once, and the scan of each file for each set of
    flag functions. ``parsed`` counts the files handed to the parser (for tests and timing)."""

    sources: dict[str, Source]
    scans: dict[tuple[_Key, tuple[str, ...]], ScanOutcome]
    parsed: int = 0

    def source(self, f: FileChange) -> Source:
        found = self.sources.get(f.path)
        if found is None:
            data = f.head_bytes()
            text = python_text(data) if data is not None else None
            if text is None:
                found = Source(f, None, ("", ()))
            else:
                digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
                found = Source(f, text, (digest, judged_ranges(f, text)))
            self.sources[f.path] = found
        return found


def guarded_needs(source: Source) -> bool:
    """Whether ``flags/guarded`` must parse this file: an added line may be in a unit."""
    return source.text is not None and touches_units(source.outline, source.key[1])


def registered_needs(source: Source, functions: Sequence[str]) -> bool:
    """Whether ``flags/registered`` must parse this file: an added line is in a statement that
    may call one of ``functions``."""
    if source.text is None or not call_candidates(source.text, functions):
        return False
    return call_candidates(touched_code(source.outline, source.text, source.key[1]), functions)


def reading(ctx: CheckContext, rules: Sequence[Rule]) -> Reading:
    """The evaluation's reading, planned and parsed the first time a flag kind asks for it."""
    return ctx.prepared.get("flags.reading", lambda: _read(ctx, rules))


def _read(ctx: CheckContext, rules: Sequence[Rule]) -> Reading:
    everything = [r for r in ctx.rules if r.enabled and r.check in _CHECKS] or list(rules)
    result = Reading(sources={}, scans={})
    ensure(ctx, result, needs(ctx, result, everything))
    return result


_CHECKS = frozenset({GUARDED_CHECK, REGISTERED_CHECK})

Need = tuple[Rule, Source, tuple[str, ...]]


def needs(ctx: CheckContext, result: Reading, rules: Sequence[Rule]) -> list[Need]:
    """The files each flag rule reads, with the functions it reads them for. A file that cannot
    be decoded is listed too (its rule reports it); one the change cannot matter to is not."""
    out: list[Need] = []
    for rule in rules:
        if rule.check == GUARDED_CHECK:
            guarded = params(rule, GuardedParams)
            for f in files(ctx, guarded.paths):
                source = result.source(f)
                if source.text is None or guarded_needs(source):
                    out.append((rule, source, guarded.functions))
        elif rule.check == REGISTERED_CHECK:
            registered = params(rule, RegisteredParams)
            for f in files(ctx, registered.paths):
                source = result.source(f)
                if source.text is None or registered_needs(source, registered.functions):
                    out.append((rule, source, registered.functions))
    return out


def ensure(ctx: CheckContext, result: Reading, wanted: Sequence[Need]) -> None:
    """Parse what ``wanted`` needs and ``result`` does not hold yet, each file once."""
    todo: dict[_Key, tuple[str, set[tuple[str, ...]]]] = {}
    for _, source, functions in wanted:
        if source.text is None or (source.key, functions) in result.scans:
            continue
        text = excerpt(source.outline, source.text, source.key[1])
        todo.setdefault(source.key, (text, set()))[1].add(functions)
    if todo:
        _parse(ctx, result, todo)


def _parse(
    ctx: CheckContext, result: Reading, wanted: dict[_Key, tuple[str, set[tuple[str, ...]]]]
) -> None:
    # libcst takes a tenth of a second to import: only when there is work
    from prgate.checks.flagsandbox import scan_isolated
    from prgate.checks.flagscan import FileScan, ScanFailure, ScanJob

    keys = list(wanted)
    jobs: list[ScanJob] = []
    sets: list[list[tuple[str, ...]]] = []
    for key in keys:
        text, function_sets = wanted[key]
        ordered = sorted(function_sets)
        sets.append(ordered)
        jobs.append(
            ScanJob(
                text=text, added=key[1], functions=ordered[0], more_functions=tuple(ordered[1:])
            )
        )
    outcomes = scan_isolated(jobs, limits=ctx.scan_limits)
    result.parsed += len(jobs)
    for key, ordered, outcome in zip(keys, sets, outcomes, strict=True):
        if isinstance(outcome, FileScan) and len(outcome.more) != len(ordered) - 1:
            outcome = ScanFailure("error")  # a child that answered for other sets
        if isinstance(outcome, FileScan):
            each: list[ScanOutcome] = [outcome, *outcome.more]
            for functions, scan in zip(ordered, each, strict=True):
                result.scans[(key, functions)] = scan
        else:
            for functions in ordered:
                result.scans[(key, functions)] = outcome


def scan_of(result: Reading, source: Source, functions: tuple[str, ...]) -> ScanOutcome:
    """The scan of a file for one set of functions, after ``ensure``."""
    return result.scans[(source.key, functions)]
