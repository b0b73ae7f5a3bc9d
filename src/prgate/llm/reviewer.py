"""The ``llm`` check kind: rules that an AI model reviews, in words the team's lead wrote.

The kind itself does no I/O. The shell (``prgate check --llm``, the App) supplies a
:class:`prgate.checks.Reviewer` through ``CheckContext.reviewer``; without one, every ``llm`` rule
is listed as skipped, so that "not reviewed" is never mistaken for "passed".

What a reviewer may do is narrow: it can only *add* findings of its own rule, at that rule's level.
It cannot change the level, speak for another rule, or clear what a deterministic rule found (the
engine keeps every kind's findings). When the reviewer cannot judge the change (the AI service
fails, times out, or answers something unreadable) the rule reports one finding at its own level
saying so: an ``error`` rule then blocks the change, a ``warning`` or ``notice`` rule shows a
visible reminder. The gate never passes silently because the AI service was down.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Rule
from prgate.llm.params import LlmParams
from prgate.model import Finding, Level

#: Why an ``llm`` rule was not run when no reviewer was supplied.
REVIEWER_OFF = "the LLM reviewer is off: run with --llm and set ANTHROPIC_API_KEY"


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    for rule in rules:
        if ctx.reviewer is None:
            result.skipped.append(rule.skipped(REVIEWER_OFF))
            continue
        try:
            answer = ctx.reviewer.review(rule, ctx.changeset)
        except Exception as exc:  # a reviewer that breaks must not let the change pass
            result.findings.append(cannot_judge(rule, f"an internal error ({type(exc).__name__})"))
            continue
        result.extend(_own(rule, answer))
    return result


def _own(rule: Rule, answer: CheckResult) -> CheckResult:
    """Only the reviewer's findings for ``rule``, and always at ``rule``'s level."""
    level = Level(rule.level)
    return CheckResult(
        findings=[
            f if f.level is level else dataclasses.replace(f, level=level)
            for f in answer.findings
            if f.rule == rule.id
        ],
        skipped=[s for s in answer.skipped if s.rule == rule.id],
    )


def cannot_judge(rule: Rule, why: str) -> Finding:
    """The finding an ``llm`` rule reports when the reviewer could not read the change.

    ``why`` is written by prgate, never taken from an exception or from the AI service's answer,
    so that neither the API key nor the change's contents can travel through it.
    """
    level = Level(rule.level)
    if level is Level.ERROR:
        consequence = (
            "Because this rule must approve every change, the change cannot pass until the "
            "reviewer has read it."
        )
    else:
        consequence = (
            "This rule does not block merging; this is a reminder that the change was not "
            "reviewed by it."
        )
    return Finding(
        rule=rule.id,
        level=level,
        path=None,
        line=None,
        end_line=None,
        title=f"The AI reviewer could not check the rule “{rule.title}”",
        message=(
            f"The rule {rule.id} asks an AI reviewer to read this change, and it could not: "
            f"{why}. {consequence}"
        ),
        fix=(
            "Run the check again (`prgate check --llm`, or `/prgate recheck` on GitHub). If it "
            "keeps happening, ask whoever runs prgate for your team to look at the AI "
            "service's settings; the change itself may be fine."
        ),
    )


KIND = CheckKind(
    name="llm",
    params=LlmParams,
    run=run,
    summary=(
        "an AI model reads the added lines of matching files and reports what the rule's "
        "instructions ask about (runs only with --llm and ANTHROPIC_API_KEY)"
    ),
)
