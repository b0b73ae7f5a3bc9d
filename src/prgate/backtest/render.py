"""A backtest in words for a lead (text, markdown) and as one JSON object for scripts.

Titles and problems come from commits and configs, which anyone who can push wrote: they are
redacted, then made inert for their format (``visible`` in a terminal, ``md_escape`` in markdown).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prgate.backtest.compare import EXAMPLES, Comparison
from prgate.backtest.replay import Replayed, Verdict
from prgate.render.common import clip, json_text, one_line
from prgate.render.markdown import md_escape
from prgate.render.redact import redact

TITLE_LIMIT = 72


def render(comparison: Comparison, fmt: str, *, scope: str, proposal: str) -> str:
    """``scope`` says which changes were read ("the last 30 changes"); ``proposal`` names the
    proposed configuration's file."""
    if fmt == "json":
        return json_text(as_json(comparison))
    if fmt == "markdown":
        return _markdown(comparison, scope=scope, proposal=proposal)
    return _text(comparison, scope=scope, proposal=proposal)


def as_json(comparison: Comparison) -> dict[str, Any]:
    changes: list[dict[str, Any]] = []
    for r in comparison.changes:
        item: dict[str, Any] = {
            "base": r.change.base,
            "head": r.change.head,
            "title": redact(r.change.title),
            "current": str(r.current.conclusion),
            "proposed": str(r.proposed.conclusion),
            "blocking": {
                "current": list(r.current.blocking),
                "proposed": list(r.proposed.blocking),
            },
        }
        problems = {
            side: redact(v.problem)
            for side, v in (("current", r.current), ("proposed", r.proposed))
            if v.problem
        }
        if problems:
            item["could_not_judge"] = problems
        changes.append(item)
    rules = {
        rule: {
            "current": {"blocked": t.current.blocked, "warned": t.current.warned},
            "proposed": {"blocked": t.proposed.blocked, "warned": t.proposed.warned},
        }
        for rule, t in sorted(comparison.rules.items())
    }
    return {"base": comparison.tip, "changes": changes, "rules": rules}


def summary(comparison: Comparison, *, scope: str) -> str:
    """The one sentence a lead reads first."""
    now = len(comparison.blocked_now)
    then = len(comparison.blocked_proposed)
    if then > now:
        delta = f"{then - now} more than today"
    elif then < now:
        delta = f"{now - then} fewer than today"
    else:
        delta = "as many as today"
    return (
        f"With the proposed rules, {then} of {scope} would have been blocked ({delta}); "
        f"{len(comparison.newly_blocked)} would newly be blocked and "
        f"{len(comparison.newly_passing)} would newly pass."
    )


def short_title(r: Replayed) -> str:
    return clip(one_line(redact(r.change.title)), TITLE_LIMIT) or "(no title)"


def why(v: Verdict) -> str:
    if v.problem:
        return "could not be judged: " + clip(one_line(redact(v.problem)), 160)
    if v.blocking:
        return "blocked by " + ", ".join(one_line(rule) for rule in v.blocking)
    return "nothing blocks"


def _text(c: Comparison, *, scope: str, proposal: str) -> str:
    lines = [
        f"prgate backtest of {scope} (history read from {c.tip[:12]}).",
        f"Today's rules are the ones on each change's base; the proposed ones are in "
        f"{one_line(proposal)}.",
        "",
        summary(c, scope=scope),
        "",
    ]
    for heading, group, side in (
        ("Newly blocked", c.newly_blocked, "proposed"),
        ("Newly passing", c.newly_passing, "current"),
    ):
        lines.append(f"{heading}: {len(group)}" + (", for example:" if group else "."))
        for r in group[:EXAMPLES]:
            verdict = r.proposed if side == "proposed" else r.current
            reason = why(verdict) if side == "proposed" else "today " + why(verdict)
            lines.append(f"  {r.change.head[:10]}  {short_title(r)}  ({reason})")
        lines.append("")
    lines.append("By rule: changes blocked and warned, today -> proposed")
    if not c.rules:
        lines.append("  no rule blocked or warned any of these changes.")
    width = max((len(one_line(rule)) for rule in c.rules), default=0)
    for rule, t in sorted(c.rules.items()):
        lines.append(
            f"  {one_line(rule).ljust(width)}  blocked {t.current.blocked} -> "
            f"{t.proposed.blocked}   warned {t.current.warned} -> {t.proposed.warned}"
        )
    return "\n".join(lines) + "\n"


def _markdown(c: Comparison, *, scope: str, proposal: str) -> str:
    lines = [
        "## prgate backtest",
        "",
        summary(c, scope=scope),  # prgate's words, counts and a date that parsed as one
        "",
        f"Today's rules are the ones on each change's base; the proposed ones are in "
        f"{md_escape(proposal)}. History read from `{c.tip[:12]}`.",
        "",
    ]
    for heading, group, side in (
        ("Newly blocked", c.newly_blocked, "proposed"),
        ("Newly passing", c.newly_passing, "current"),
    ):
        lines.append(f"### {heading} ({len(group)})")
        lines.append("")
        if not group:
            lines += ["None.", ""]
            continue
        lines += examples(group, side, name=lambda r: f"`{r.change.head[:10]}`")
    lines += ["### By rule", "", *by_rule(c)]
    return "\n".join(lines) + "\n"


def examples(group: Sequence[Replayed], side: str, *, name: Callable[[Replayed], str]) -> list[str]:
    """A markdown list of the first changes of ``group`` (``side``'s verdict), then a blank."""
    lines = []
    for r in group[:EXAMPLES]:
        verdict = r.proposed if side == "proposed" else r.current
        reason = why(verdict) if side == "proposed" else "today " + why(verdict)
        lines.append(f"- {name(r)} {md_escape(short_title(r))} ({md_escape(reason)})")
    if len(group) > EXAMPLES:
        lines.append(f"- and {len(group) - EXAMPLES} more")
    return [*lines, ""]


def by_rule(c: Comparison) -> list[str]:
    """The markdown table of blocked and warned changes per rule, today against proposed."""
    lines = [
        "| rule | blocked today | blocked proposed | warned today | warned proposed |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for rule, t in sorted(c.rules.items()):
        lines.append(
            f"| {md_escape(rule)} | {t.current.blocked} | {t.proposed.blocked} | "
            f"{t.current.warned} | {t.proposed.warned} |"
        )
    return lines
