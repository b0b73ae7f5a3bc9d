"""The check run of a merge queue's group: the pull request report, introduced for the queue.

A group has no conversation to comment on, so its check run's summary carries the whole report
(the same as a pull request's check run), after a few lines that say what was judged: which
pull requests the group holds, the target branch whose rules judged it, and where to fix what
blocks it. Findings name the pull request their file comes from (:func:`attribute`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from prgate.model import Conclusion, Report
from prgate.render.common import one_line, quote_code
from prgate.render.markdown import check_summary


def _numbers(prs: Sequence[int]) -> str:
    names = [f"#{n}" for n in prs]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def attribute(report: Report, owners: Mapping[str, Sequence[int]]) -> Report:
    """``report`` with each finding about a file that pull requests of the group change
    prefixed with their numbers (``owners``: path -> pull requests, in queue order)."""
    findings = []
    for f in report.findings:
        prs = owners.get(f.path) if f.path is not None else None
        if prs:
            word = "pull request" if len(prs) == 1 else "pull requests"
            f = replace(f, message=f"From {word} {_numbers(prs)}: {f.message}")
        findings.append(f)
    return replace(report, findings=tuple(findings))


def queue_summary(
    report: Report, *, target: str, base_sha: str, prs: Sequence[int], sha: str
) -> tuple[str, str]:
    """The group's check run ``(title, summary)``: an introduction, then the report as a pull
    request's check run shows it."""
    title, summary = check_summary(report, fixes_pushable=False, sha=sha)
    branch = quote_code(one_line(target)[:255] or "its target branch")
    if prs:
        word = "pull request" if len(prs) == 1 else "pull requests"
        holds = f"It holds {word} {_numbers(prs)} (in the order of the queue)."
    else:
        holds = "prgate could not tell which pull requests it holds."
    lines = [
        f"**This is a merge queue group for {branch}.** {holds}",
        "",
        f"prgate judged the group's whole change, from {branch} at commit "
        f"`{base_sha[:12]}` to this commit, by the rules of {branch} at that commit (never by "
        "rules the group's pull requests bring).",
    ]
    if report.conclusion is Conclusion.FAILURE:
        lines += [
            "",
            "The merge queue will not merge this group while this check fails. A finding that "
            "comes from one pull request names it: fix it in that pull request, then add it to "
            "the queue again. A group gets no comment; this summary is the whole report.",
        ]
    return title, "\n".join(lines) + "\n\n" + summary
