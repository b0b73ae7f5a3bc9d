"""The feature-flag check kinds.

* ``flags`` (rule ``flags/guarded``): new or changed functions, methods and classes in files under
  ``paths`` whose new code runs without checking one of ``functions`` (see
  ``flagscan._Analyser`` for exactly what counts as a check). Without ``paths`` the rule checks
  nothing: a team names the folders whose new code must sit behind a flag.
* ``flag-registry`` (rule ``flags/registered``, in ``flagregistry``): flag names written as
  string literals in calls to ``functions`` on added lines must be declared in the ``registry``.

Only Python files (``.py``) under ``paths`` are read, and only those whose added lines can matter
to a rule are parsed (``flagtouch``), with libcst, in isolated child processes
(``flagsandbox.scan_isolated``), decoded as Python decodes them (a PEP 263 ``# coding:`` line,
else UTF-8). A file in a rule's ``paths`` that cannot be decoded, parsed or analysed in time is a
finding of that rule at its level, never a pass. Both kinds share one reading of the files per
evaluation (``flagplan``): each file is parsed at most once.
"""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Rule
from prgate.checks.flagadvice import unguarded_fix, unguarded_message
from prgate.checks.flagfailures import GUARDED_LOOKS_FOR, guarded_failure
from prgate.checks.flagplan import (
    DEFAULT_FUNCTIONS,
    DEFAULT_PATHS,
    DEFAULT_REGISTRY,
    GUARDED_CHECK,
    GuardedParams,
    RegisteredParams,
    call_candidates,
    ensure,
    in_scope,
    needs,
    params,
    reading,
    scan_of,
)
from prgate.checks.flagregistry import (
    MAX_REGISTRY_BYTES,
    REGISTERED_KIND,
    FlagRegistry,
    RegistryProblem,
    in_registered_scope,
    parse_registry,
    registered_reads,
    run_registered,
)
from prgate.model import FileChange

__all__ = [
    "DEFAULT_FUNCTIONS",
    "DEFAULT_PATHS",
    "DEFAULT_REGISTRY",
    "KIND",
    "MAX_REGISTRY_BYTES",
    "REGISTERED_KIND",
    "FlagRegistry",
    "GuardedParams",
    "RegisteredParams",
    "RegistryProblem",
    "call_candidates",
    "in_guarded_scope",
    "in_registered_scope",
    "inactive_guarded",
    "parse_registry",
    "registered_reads",
    "run_guarded",
    "run_registered",
]


def in_guarded_scope(rule: Rule, f: FileChange) -> bool:
    return in_scope(params(rule, GuardedParams).paths, f)


def inactive_guarded(rules: Sequence[Rule]) -> list[Rule]:
    """The enabled ``flags`` rules that check nothing because they name no ``paths``."""
    return [
        r
        for r in rules
        if r.enabled and r.check == GUARDED_CHECK and not params(r, GuardedParams).paths
    ]


def run_guarded(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    read = reading(ctx, rules)
    wanted = needs(ctx, read, rules)
    if not wanted:
        return result
    ensure(ctx, read, wanted)
    # libcst takes a second to import on a busy machine: only when a file was parsed
    from prgate.checks.flagscan import FileScan

    for rule, source, functions in wanted:
        path = source.file.path
        if source.text is None:
            result.findings.append(guarded_failure(rule, path, None))
            continue
        outcome = scan_of(read, source, functions)
        if not isinstance(outcome, FileScan):
            result.findings.append(guarded_failure(rule, path, outcome))
            continue
        for unit in outcome.unguarded:
            result.findings.append(
                rule.finding(
                    path=path,
                    line=unit.line,
                    end_line=unit.end_line,
                    message=unguarded_message(unit),
                    fix=unguarded_fix(unit, functions),
                )
            )
    return result


KIND = CheckKind(
    name=GUARDED_CHECK,
    params=GuardedParams,
    run=run_guarded,
    in_scope=in_guarded_scope,
    looks_for=GUARDED_LOOKS_FOR,
    summary=(
        "New or changed functions, methods and classes under `paths` whose new code runs "
        "without checking a feature flag with one of `functions`. Without `paths` it checks "
        "nothing."
    ),
)
