"""The backtest's section of a pull request's comment (the App), and its place in the comment.

A pull request that changes prgate's rules gets, under its report, how the rules it proposes
would have judged the last pull requests merged into its base branch, next to the base's rules
of today. The section sits between two hidden markers that name the head commit it is for, so
that the job that works it out replaces exactly the section of that commit, and nothing else.

Titles and the reasons a config could not be loaded come from people who can open pull
requests: they are redacted and escaped (:mod:`prgate.backtest.render` does the same).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prgate.backtest.compare import EXAMPLES, Comparison
from prgate.backtest.render import by_rule, examples, summary
from prgate.backtest.replay import Replayed
from prgate.render.common import clip, one_line
from prgate.render.markdown import md_escape
from prgate.render.redact import redact

END = "<!-- prgate:backtest:end -->"
_BEGIN = re.compile(r"<!-- prgate:backtest ([0-9a-f]{7,64}) -->")
#: The longest section, in characters (the comment as a whole stays under GitHub's limit).
SECTION_LIMIT = 12_000
HEADING = "### Backtest of the rules this pull request proposes"


def begin(sha: str) -> str:
    return f"<!-- prgate:backtest {sha} -->"


@dataclass(frozen=True)
class Outcome:
    """What the backtest of one head found, or why it has no figures."""

    #: The base branch the merged pull requests were read from.
    base_ref: str
    #: How many merged pull requests were asked for (``PRGATE_BACKTEST_PRS``).
    asked: int
    comparison: Comparison | None = None
    #: How many merged pull requests were listed (some may not have been replayed).
    listed: int = 0
    #: Why the replay stopped before the end, in plain words (the API-call budget).
    stopped: str | None = None
    #: Why there are no figures at all, in prgate's words (the proposed config cannot be
    #: loaded, ...); ``detail`` is the reason as found (a config's file, line and problem).
    problem: str | None = None
    detail: str | None = None
    #: GitHub calls the backtest made, and the most it may make.
    calls: int = 0
    max_calls: int = 0


def pending(sha: str) -> str:
    """The section while the backtest of ``sha`` is being worked out."""
    return _wrap(
        sha,
        [
            HEADING,
            "",
            "This pull request changes prgate's rules. prgate is replaying the last merged pull "
            "requests with the rules it proposes; this section will show the result. The check "
            "above is decided by the rules on the base branch, as always.",
        ],
    )


def no_room(sha: str) -> str:
    """The section when the report leaves no room for the backtest in the comment."""
    return _wrap(
        sha,
        [
            HEADING,
            "",
            "This pull request changes prgate's rules, but its report fills this comment: "
            "there is no room for the backtest. Run `prgate rules backtest` on a copy of the "
            "branch to see it.",
        ],
    )


def section(sha: str, outcome: Outcome) -> str:
    """The finished section for ``sha``."""
    lines = [
        HEADING,
        "",
        f"This pull request changes prgate's rules. Its own check above is decided by the rules "
        f"on `{_ref(outcome.base_ref)}`, as always: the rules it proposes are only tried here, "
        "on the pull requests already merged there, to show what they would change.",
        "",
    ]
    c = outcome.comparison
    if outcome.problem is not None:
        lines.append(outcome.problem)
        if outcome.detail:
            lines += ["", "> " + md_escape(clip(one_line(redact(outcome.detail)), 900))]
    elif c is None or not c.changes:
        lines.append(
            f"There is no merged pull request into `{_ref(outcome.base_ref)}` to replay yet."
        )
    else:
        lines += _figures(c, outcome)
    if outcome.stopped is not None:
        lines += ["", f"**Partial result.** {outcome.stopped}"]
    if outcome.max_calls:
        lines += [
            "",
            f"<sub>{outcome.calls} calls to GitHub of the {outcome.max_calls} a backtest may "
            "make. Approvals are not read for past pull requests (as with `prgate rules "
            "backtest`); the AI reviewer does not run here. Worked out for this commit; "
            "`/prgate recheck` works it out again (after more merges, say).</sub>",
        ]
    text = _wrap(sha, lines)
    if len(text) > SECTION_LIMIT:
        return _wrap(sha, [HEADING, "", "The backtest's report is too long to show here."])
    return text


def _figures(c: Comparison, outcome: Outcome) -> list[str]:
    n = len(c.changes)
    scope = f"the last {n} merged pull request" + ("" if n == 1 else "s")
    today = f'"Today" means the rules on `{_ref(outcome.base_ref)}` now.'
    lines = [f"{summary(c, scope=scope)} {today}", ""]
    unread = [r for r in c.changes if r.current.problem or r.proposed.problem]
    if unread:
        names = ", ".join(_name(r) for r in unread[:EXAMPLES])
        more = f" and {len(unread) - EXAMPLES} more" if len(unread) > EXAMPLES else ""
        lines += [
            f"{len(unread)} of them could not be judged ({names}{more}): "
            + ("it counts" if len(unread) == 1 else "they count")
            + " as blocked, as a pull request prgate cannot judge is.",
            "",
        ]
    for heading, group, side in (
        ("Would newly block", c.newly_blocked, "proposed"),
        ("Would newly pass", c.newly_passing, "current"),
    ):
        if not group:
            lines += [f"**{heading}:** none.", ""]
            continue
        lines += [f"**{heading}** ({len(group)}):", "", *examples(group, side, name=_name)]
    lines += ["<details><summary>By rule</summary>", "", *by_rule(c), "", "</details>"]
    return lines


def _name(r: Replayed) -> str:
    if r.change.number is not None:
        return f"#{r.change.number}"
    return f"`{r.change.head[:10]}`"


def _ref(ref: str) -> str:
    """A branch name for inline code: one line, no backticks."""
    return clip(one_line(ref), 100).replace("`", "'") or "the base branch"


def _wrap(sha: str, lines: list[str]) -> str:
    return "\n".join([begin(sha), *lines, END])


def attach(body: str, part: str) -> str:
    """``body`` (a report, without a section) with ``part`` under it."""
    return f"{body.rstrip()}\n\n{part}\n"


def section_sha(body: str) -> str | None:
    """The head commit of the section in ``body``; ``None`` when it has none."""
    m = _BEGIN.search(body)
    return m.group(1) if m else None


def replace_section(body: str, sha: str, part: str) -> str | None:
    """``body`` with its section for ``sha`` replaced by ``part``; ``None`` when ``body`` holds
    no section for ``sha`` (the comment has moved on to another commit)."""
    start = body.find(begin(sha))
    end = body.find(END, start) if start >= 0 else -1
    if start < 0 or end < 0:
        return None
    return body[:start] + part + body[end + len(END) :]
