"""What the feature-flag rules say about a file they could not analyse.

A Python file under a flag rule's ``paths`` that cannot be decoded (not UTF-8, no ``# coding:``
line that reads it), parsed, or analysed within the parser's limits is a finding of the rule at
its level: what could not be checked, why, and what the builder can do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prgate.checks import Rule
from prgate.model import Finding

if TYPE_CHECKING:
    from prgate.checks.flagscan import ScanFailure

GUARDED_LOOKS_FOR = "new code outside a feature-flag check"
REGISTERED_LOOKS_FOR = "undeclared feature-flag names"

#: What to do about a file that could not be analysed, by the reason it could not.
_FAILURE_FIX = {
    "syntax": (
        "Make the file valid Python (a missing bracket, colon, quote or indentation is the usual "
        "cause), then run the check again."
    ),
    "nesting": (
        "Simplify the most deeply nested part of the file: move nested blocks or nested brackets "
        "into their own functions or variables, so that fewer of them sit inside each other."
    ),
    "too-slow": (
        "Split the file into smaller modules (each file is read within a time limit), then run "
        "the check again."
    ),
    "budget": (
        "Run the check again. If it happens again, split the largest Python files of the change "
        "into smaller modules, or the change into smaller pull requests."
    ),
}
_FAILURE_FIX_OTHER = (
    "Run the check again. If it happens again, split the file into smaller modules or simplify "
    "it; if that does not help, ask whoever maintains prgate for your team to look at it."
)
_UNDECODABLE_REASON = (
    "is not text Python can read: it is not UTF-8, and no `# coding:` line in its first two "
    "lines names an encoding that reads it"
)
_UNDECODABLE_FIX = (
    "Save the file as UTF-8 text (the encoding Python expects), then run the check again."
)


def _cannot_check(
    rule: Rule, path: str, outcome: ScanFailure | None, *, looks_for: str, consequence: str
) -> Finding:
    """A finding of ``rule`` for a file in its paths that could not be analysed."""
    if outcome is None:
        reason, fix = _UNDECODABLE_REASON, _UNDECODABLE_FIX
    else:
        reason, fix = outcome.reason, _FAILURE_FIX.get(outcome.code, _FAILURE_FIX_OTHER)
    return rule.cannot_check(
        path=path,
        looks_for=looks_for,
        message=f"This file {reason}, so {consequence}.",
        fix=fix,
    )


def guarded_failure(rule: Rule, path: str, outcome: ScanFailure | None) -> Finding:
    return _cannot_check(
        rule,
        path,
        outcome,
        looks_for=GUARDED_LOOKS_FOR,
        consequence="prgate could not check whether its new code runs behind a feature flag",
    )


def registered_failure(rule: Rule, path: str, outcome: ScanFailure | None) -> Finding:
    return _cannot_check(
        rule,
        path,
        outcome,
        looks_for=REGISTERED_LOOKS_FOR,
        consequence="prgate could not check that the flag names it uses are declared",
    )
