"""The debug check kind: ``print``, ``pprint``, ``breakpoint()`` and ``pdb`` left in code.

It is ruff's T100 (debugger), T201 (print) and T203 (pprint), read from the one batched ruff run
of the evaluation (nothing is parsed twice). Files matching ``exclude`` (gitignore-style globs)
are not judged.

The default ``exclude`` leaves out the places where printing or a debugger is normal: tests
(``tests/``, ``test/``, ``test_*.py``, ``*_test.py``, ``conftest.py``) and folders of scripts,
examples and documentation meant to be run by hand (``scripts/``, ``examples/``, ``docs/``).
Application code, including command-line entry points, is judged: a program meant to print to
its user should be listed in ``exclude`` by the team, a decision worth making once on purpose.

A Python file the rule judges but ruff cannot read (not UTF-8, a syntax error, a name prgate
cannot handle) is a finding of the rule at its level: it was not checked, so it does not pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import pathspec
from pydantic import field_validator

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.ruff import (
    PYTHON_SUFFIXES,
    TOOL,
    Selection,
    SyntaxProblem,
    required_output,
    violation_finding,
)
from prgate.model import FileChange, Finding

KIND_NAME = "debug"
#: Ruff's codes for a debugger call or import, ``print`` and ``pprint``.
DEBUG_CODES: tuple[str, ...] = ("T100", "T201", "T203")
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "tests/",
    "test/",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "scripts/",
    "examples/",
    "docs/",
)

#: Plain words for each code (ruff's own are terse: "`print` found").
_DESCRIBE = {
    "T100": "A debugger stop (breakpoint() or pdb) is left in the code",
    "T201": "A print() call is left in the code",
    "T203": "A pprint() call is left in the code",
}


class DebugParams(Params):
    """``exclude``: gitignore-style globs of files where debug output is allowed."""

    exclude: tuple[str, ...] = DEFAULT_EXCLUDE

    @field_validator("exclude")
    @classmethod
    def _valid_globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            pathspec.GitIgnoreSpec.from_lines(value)
        except Exception as exc:  # pathspec raises several types for a bad pattern
            raise ValueError(f"a pattern in exclude is not a valid glob: {exc}") from None
        return value


def _codes(rule: Rule) -> Sequence[str]:
    return DEBUG_CODES


LOOKS_FOR = "leftover print(), breakpoint() and pdb"


def _excluded(rule: Rule) -> pathspec.GitIgnoreSpec:
    params = rule.params if isinstance(rule.params, DebugParams) else DebugParams()
    return pathspec.GitIgnoreSpec.from_lines(params.exclude)


def in_scope(rule: Rule, change: FileChange) -> bool:
    """Python files not matching ``exclude``."""
    return change.path.endswith(PYTHON_SUFFIXES) and not _excluded(rule).match_file(change.path)


def _unreadable(rule: Rule, problem: SyntaxProblem) -> Finding:
    if problem.unreadable is not None:
        message = (
            f"{problem.unreadable} prgate finds print(), breakpoint() and pdb with ruff, so they "
            "were not looked for."
        )
        fix = (
            "Save the file as UTF-8 text (removing a `# coding:` line that names another "
            "encoding) and give it a plain name (letters, digits, `-`, `_` and `.`), then run "
            "the check again."
        )
    else:
        message = (
            f"This file could not be read as Python (line {problem.line}: {problem.message}), "
            "so it was not checked for print(), breakpoint() and pdb."
        )
        fix = (
            "Make the file valid Python (a missing bracket, colon, quote or indentation is the "
            "usual cause), then run the check again."
        )
    return rule.cannot_check(path=problem.path, looks_for=LOOKS_FOR, message=message, fix=fix)


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    output = required_output(ctx)
    result = CheckResult(skipped=list(output.skipped))
    selection = Selection(select=DEBUG_CODES)
    for rule in rules:
        spec = _excluded(rule)
        result.findings.extend(
            _unreadable(rule, problem)
            for problem in output.syntax_errors
            if not spec.match_file(problem.path)
        )
        result.findings.extend(
            violation_finding(rule, v, describe=_DESCRIBE.get(v.code))
            for v in output.reportable(selection)
            if not spec.match_file(v.path)
        )
    return result


KIND = CheckKind(
    name=KIND_NAME,
    params=DebugParams,
    run=run,
    tool=TOOL,
    tool_codes=_codes,
    in_scope=in_scope,
    looks_for=LOOKS_FOR,
    summary="print(), pprint(), breakpoint() and pdb left in code outside tests (ruff T100, "
    "T201, T203); exclude: globs of files where they are allowed",
)
