"""STUB, to be written: the flags check kinds (flags/guarded and flags/registered)."""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, NoParams, Rule


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    return CheckResult()


KIND = CheckKind(name="flags", params=NoParams, run=run)
REGISTERED_KIND = CheckKind(name="flag-registry", params=NoParams, run=run)
