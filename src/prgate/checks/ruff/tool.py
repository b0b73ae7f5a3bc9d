"""Ruff on the tool seam (:mod:`prgate.checks.tools`): the settings files it reads at base, its
one batched run per evaluation, and its fixes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from prgate.checks import CheckContext, Reads, Rule
from prgate.checks.ruff.batch import run_batch
from prgate.checks.ruff.fix import FilePlan, ruff_fixed
from prgate.checks.ruff.output import RuffOutput
from prgate.checks.ruff.settings import (
    PYTHON_SUFFIXES,
    SETTINGS_NAMES,
    extend_targets,
    is_format_rule,
)
from prgate.checks.tools import FixedFile, FixRequest, Tool

#: What every rule that reads ruff's results reads: the base's settings files above each
#: changed file (and what their ``extend`` names), and the head tree's listing.
RUFF_READS = Reads(settings=frozenset(SETTINGS_NAMES), follow=(extend_targets,), tree=True)


class RuffTool(Tool[RuffOutput]):
    name = "ruff"
    reads = RUFF_READS

    def takes(self, path: str) -> bool:
        return path.endswith(PYTHON_SUFFIXES)

    def run(self, ctx: CheckContext, rules: Sequence[Rule], codes: Sequence[str]) -> RuffOutput:
        return run_batch(ctx, codes=codes, rules=rules)

    def fix(self, request: FixRequest) -> dict[str, FixedFile]:
        """The lines a formatting finding names are reformatted (never a whole file), then ruff
        applies its *safe* fixes for the codes of the fixable lint findings of each file, with
        the team's settings on the base branch, their excludes and their ``# noqa`` comments."""
        plans = _plans(request)
        heads = {p: data for p, data in request.heads.items() if p in plans}
        if not heads:
            return {}
        results = ruff_fixed(
            request.changeset,
            plans,
            heads,
            settings=request.settings,
            runner=request.runner,
            format_after=any(is_format_rule(r) for r in request.rules),
        )
        out = {}
        for path, (content, reformatted) in results.items():
            plan = plans[path]
            out[path] = FixedFile(
                content=content,
                rules=tuple(sorted(plan.rules)),
                description=_describe(plan, reformatted=reformatted),
            )
        return out

    def fix_summary(self, rule_ids: Collection[str]) -> str:
        parts = []
        if any(r.endswith("ruff-format") for r in rule_ids):
            parts.append("reformat the file")
        if any(not r.endswith("ruff-format") for r in rule_ids):
            parts.append("apply ruff's automatic fixes")
        return " and ".join(parts)


TOOL = RuffTool()


def _plans(request: FixRequest) -> dict[str, FilePlan]:
    plans: dict[str, FilePlan] = defaultdict(FilePlan)
    for rule, finding in request.findings:
        if finding.path is None:
            continue
        if is_format_rule(rule):
            if finding.line is not None:
                end = finding.end_line if finding.end_line is not None else finding.line
                plans[finding.path].ranges.append((finding.line, end))
                plans[finding.path].rules.add(rule.id)
        elif finding.code is not None:
            plans[finding.path].codes.add(finding.code)
            plans[finding.path].rules.add(rule.id)
    return dict(plans)


def _describe(plan: FilePlan, *, reformatted: bool) -> str:
    parts = []
    if plan.codes:
        parts.append("applied ruff's safe fixes for " + ", ".join(sorted(plan.codes)))
    if reformatted:
        parts.append("reformatted the lines the change added")
    return " and ".join(parts) or "applied ruff's fixes"
