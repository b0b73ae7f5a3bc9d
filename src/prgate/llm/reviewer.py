"""The ``llm`` check kind: rules that an AI model reviews, in words the team's lead wrote.

The kind itself does no I/O. The shell (``prgate check --llm``, the App) supplies a
:class:`prgate.checks.Reviewer` through ``CheckContext.reviewer`` (a
:class:`prgate.llm.session.ReviewSession`); without one, every ``llm`` rule is listed as skipped,
so that "not reviewed" is never mistaken for "passed".

What a reviewer may do is narrow: it can only *add* findings of its own rule, never above that
rule's level and never fixable. It cannot speak for another rule or clear what a deterministic
rule found (the engine keeps every kind's findings), so it can only conclude the check when the
team set its rule to ``error``. When the review cannot be completed (the AI service fails, times
out, or answers something unreadable twice) the rule says so: a ``notice`` for a ``warning`` or
``notice`` rule, an ``error`` for an ``error`` rule, so that a rule which must approve every
change fails closed; likewise when the change may not be sent (:func:`not_sent`). The gate never
passes silently because the AI service was down. A budget that runs out is the one exception:
:func:`budget_spent` is always a ``notice``, so that spending cannot be used to block changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Rule
from prgate.llm.params import LlmParams
from prgate.model import Finding, Level

#: Why an ``llm`` rule was not run when no reviewer was supplied.
REVIEWER_OFF = (
    "not reviewed: the AI reviewer is off (it runs with `prgate check --llm` and "
    "ANTHROPIC_API_KEY, and on GitHub when the config sets `llm: {enabled: true}` and the App "
    "has an API key)"
)


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


_SEVERITY = {Level.ERROR: 2, Level.WARNING: 1, Level.NOTICE: 0}


def _own(rule: Rule, answer: CheckResult) -> CheckResult:
    """Only the reviewer's findings for ``rule``, never above ``rule``'s level, never fixable."""
    level = Level(rule.level)
    return CheckResult(
        findings=[
            dataclasses.replace(
                f, level=level if _SEVERITY[f.level] > _SEVERITY[level] else f.level, fixable=False
            )
            for f in answer.findings
            if f.rule == rule.id
        ],
        skipped=[s for s in answer.skipped if s.rule == rule.id],
    )


def cannot_judge(rule: Rule, why: str) -> Finding:
    """The finding an ``llm`` rule reports when the review could not be completed.

    ``why`` is written by prgate, never taken from an exception or from the AI service's answer,
    so that neither the API key nor the change's contents can travel through it.
    """
    level = Level.ERROR if rule.level == "error" else Level.NOTICE
    if level is Level.ERROR:
        consequence = (
            "Because this rule must approve every change, the change cannot pass until the "
            "reviewer has read it."
        )
    else:
        consequence = (
            "This rule does not block merging; this is a reminder that the change was not "
            "fully reviewed by it. The other checks ran as usual."
        )
    return Finding(
        rule=rule.id,
        level=level,
        path=None,
        line=None,
        end_line=None,
        title=f"The AI review could not be completed (rule “{rule.title}”)",
        message=(
            f"The rule {rule.id} asks an AI reviewer to read this change, and the review could "
            f"not be completed: {why}. {consequence}"
        ),
        fix=(
            "Run the check again (`prgate check --llm`, or `/prgate recheck` on GitHub). If it "
            "keeps happening, ask whoever runs prgate for your team to look at the AI "
            "service's settings; the change itself may be fine."
        ),
    )


def budget_spent(rule: Rule, why: str) -> Finding:
    """The notice an ``llm`` rule reports when its budget stopped the review.

    Advisory whatever the rule's level: a budget is a cost limit of whoever runs prgate, not a
    judgement of the change, and anyone who can open pull requests could otherwise use it up to
    block everyone else's.
    """
    return Finding(
        rule=rule.id,
        level=Level.NOTICE,
        path=None,
        line=None,
        end_line=None,
        title=f"The AI review stopped: its budget is used up (rule “{rule.title}”)",
        message=(
            f"The rule {rule.id} asks an AI reviewer to read this change, and the review "
            f"stopped before it was complete because {why}. This does not block merging; what "
            "the AI reviewer did not read is listed as not checked."
        ),
        fix=(
            "A person can review the files listed as not checked. Whoever runs prgate for your "
            "team can raise the budget if this happens often."
        ),
    )


def not_sent(rule: Rule, why: str, *, how: str) -> Finding:
    """The finding an ``llm`` rule reports when the change may not be sent to the AI service.

    Like :func:`cannot_judge` it blocks only a rule set to ``error`` (a rule that must approve
    every change then waits for the maintainer's request). ``why`` and ``how`` (what a person
    can do) are prgate's own words.
    """
    level = Level.ERROR if rule.level == "error" else Level.NOTICE
    return Finding(
        rule=rule.id,
        level=level,
        path=None,
        line=None,
        end_line=None,
        title=f"The AI reviewer did not read this change (rule “{rule.title}”)",
        message=(
            f"The rule {rule.id} asks an AI reviewer to read changes, and this one was not sent "
            f"to it: {why}."
            + (
                " Because this rule must approve every change, the change cannot pass until "
                "the reviewer has read it."
                if level is Level.ERROR
                else ""
            )
        ),
        fix=how,
    )


KIND = CheckKind(
    name="llm",
    params=LlmParams,
    run=run,
    default_level="warning",
    summary=(
        "an AI model reads the added lines of matching files and reports what the rule's "
        "`instructions` ask about; it runs only with an API key (`prgate check --llm`, or "
        "`llm: {enabled: true}` on GitHub) and is listed as skipped otherwise"
    ),
)
