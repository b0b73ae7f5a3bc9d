"""STUB, to be written: the paths check kind."""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, NoParams, Rule


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    return CheckResult()


KIND = CheckKind(name="paths", params=NoParams, run=run)
