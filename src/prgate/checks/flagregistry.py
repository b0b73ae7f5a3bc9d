"""The ``flag-registry`` check kind (rule ``flags/registered``).

Flag names written as string literals in calls to ``functions`` on added lines must be declared
in the ``registry`` YAML file. The registry is read as it is at *head*, so a change that adds a
flag and declares it passes. The kind declares the registry it reads, so that sources fetch it
before judging. Files are read once per evaluation with ``flags/guarded`` (``flagplan``), and only
when an added line sits in a statement that calls one of ``functions``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

from prgate.checks import CheckContext, CheckKind, CheckResult, Reads, Rule
from prgate.checks.flagfailures import REGISTERED_LOOKS_FOR, registered_failure
from prgate.checks.flagplan import (
    Reading,
    RegisteredParams,
    Source,
    ensure,
    in_scope,
    needs,
    params,
    reading,
    scan_of,
)
from prgate.model import FileChange, Finding

if TYPE_CHECKING:
    from prgate.checks.flagscan import FlagUse

#: A registry larger than this is refused before it is parsed.
MAX_REGISTRY_BYTES = 512 * 1024
_SHOWN_NAME = 80


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


def run_registered(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    read = reading(ctx, rules)
    wanted = needs(ctx, read, rules)
    ensure(ctx, read, wanted)
    for rule in rules:
        mine = [(source, functions) for r, source, functions in wanted if r is rule]
        result.extend(_check_registry(ctx, rule, params(rule, RegisteredParams), mine, read))
    return result


def _check_registry(
    ctx: CheckContext,
    rule: Rule,
    params: RegisteredParams,
    wanted: Sequence[tuple[Source, tuple[str, ...]]],
    read: Reading,
) -> CheckResult:
    result = CheckResult()
    uses: list[tuple[str, FlagUse]] = []
    for source, functions in wanted:
        if source.text is None:
            result.findings.append(registered_failure(rule, source.file.path, None))
            continue
        from prgate.checks.flagscan import FileScan  # libcst: only when a file was parsed

        outcome = scan_of(read, source, functions)
        if isinstance(outcome, FileScan):
            uses.extend((source.file.path, use) for use in outcome.uses)
        else:
            result.findings.append(registered_failure(rule, source.file.path, outcome))
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


def registered_reads(rule: Rule) -> Reads:
    """The registry, read at head."""
    return Reads(head=frozenset({params(rule, RegisteredParams).registry}))


def in_registered_scope(rule: Rule, f: FileChange) -> bool:
    return in_scope(params(rule, RegisteredParams).paths, f)


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
