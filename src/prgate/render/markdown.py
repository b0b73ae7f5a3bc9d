"""Markdown for GitHub: the one pull-request comment, the check run's summary and annotations.

The markdown comes from the jinja2 templates in ``templates/``. Autoescaping is off (the output is
markdown, not HTML); instead every piece of text that comes from the change goes through the
``md`` filter, which makes it inert: it cannot mention people or teams, reference issues, inject
HTML, create links or images, or break the layout. Output stays under GitHub's size limits by
listing fewer findings (most serious first) and saying where the rest are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, assert_never

import jinja2

from prgate import coordination
from prgate.model import Conclusion, Finding, Level, OpenPull, Report
from prgate.render.common import (
    WHOLE_CHANGE,
    by_priority,
    clip,
    config_line,
    fixable_count,
    group_by_file,
    line_label,
    one_line,
    plural,
    quote_code,
    rules_why,
    verdict,
    visible,
)
from prgate.render.prompt import agent_prompt, with_overlaps
from prgate.render.redact import redact, redacted_report

MARKER = "<!-- prgate:report -->"
#: A comment must be shorter than this (GitHub's limit is 65,536 characters).
COMMENT_LIMIT = 65_536
#: A check run's summary must be shorter than this (GitHub allows 65,535 characters).
SUMMARY_LIMIT = 65_535
#: GitHub's limit for an annotation's title and message.
ANNOTATION_TITLE_LIMIT = 255
ANNOTATION_MESSAGE_LIMIT = 64_000
#: Room kept in the App's comments for the list of other open pull requests that change the
#: same files (its section and its lines in the agent prompt stay well under this: five pull
#: requests, three files each, titles and paths cut short).
OVERLAP_RESERVE = 12_000
#: Longest text taken from one field of a finding before escaping.
FIELD_LIMIT = 1000
PATH_LIMIT = 300
#: Most skipped items listed in markdown.
SKIPPED_LIMIT = 50

_ZWJ = "\u200d"  # zero-width joiner: breaks @mentions and #references without showing
_ZWSP = "\u200b"  # zero-width space: breaks autolinked URLs
_SPECIALS = frozenset("\\`*_{}[]()#+-.!|~$")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_SCHEME = re.compile(r"(?i)(?<![a-z0-9+.\-])([a-z][a-z0-9+.\-]{0,31})(?=://)")
_BARE_SCHEME = re.compile(
    r"(?i)(?<![a-z0-9+.\-])(mailto|xmpp|javascript|data|vbscript|tel|file)(?=:\S)"
)
_WWW = re.compile(r"(?i)(?<![a-z0-9])(www)(?=\.)")
_REF = re.compile(r"(?i)(#|(?<![a-z0-9])gh-)(?=[0-9a-z])")
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_HEX_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_SAFE_URL = re.compile(r"https?://[^\s<>()\[\]`\"'\\]+")


def md_escape(text: str | None, limit: int = FIELD_LIMIT) -> str:
    """``text`` from a change made inert for GitHub markdown, on one line.

    Line breaks become spaces and control characters visible escapes; ``@`` and ``#``/``GH-``
    references get a zero-width joiner so they neither mention nor reference; URL schemes and
    ``www.`` get a zero-width space so they are not autolinked; ``&``, ``<``, ``>`` and ``"``
    become entities; every markdown punctuation character is backslash-escaped.
    """
    if text is None:
        return ""
    flat = clip(one_line(text), limit)
    # Text between matching backticks (`prgate fix`, a quoted name) stays a code span, which
    # GitHub shows as code and never reads as markdown, mentions, references or links.
    out: list[str] = []
    last = 0
    for m in _CODE_SPAN.finditer(flat):
        out.append(_inert(flat[last : m.start()]))
        out.append(quote_code(m.group(2)))
        last = m.end()
    out.append(_inert(flat[last:]))
    return "".join(out)


def _inert(flat: str) -> str:
    """Plain text (no code spans) made inert markdown; see :func:`md_escape`."""
    flat = _SCHEME.sub(lambda m: m.group(1) + _ZWSP, flat)
    flat = _BARE_SCHEME.sub(lambda m: m.group(1) + _ZWSP, flat)
    flat = _WWW.sub(lambda m: m.group(1) + _ZWSP, flat)
    flat = _REF.sub(lambda m: m.group(1) + _ZWJ, flat)
    out = []
    for ch in flat:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _SPECIALS:
            out.append("\\" + ch)
        elif ch == "@":
            out.append("@" + _ZWJ)
        else:
            out.append(ch)
    return "".join(out)


def md_path(path: str | None, limit: int = PATH_LIMIT) -> str:
    """A path from a change, inert for markdown; line breaks in it are shown, not flattened."""
    return "" if path is None else md_escape(visible(path), limit)


def code_fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text`` (at least three)."""
    runs = [len(r) for r in re.findall(r"`+", text)]
    return "`" * max(3, max(runs, default=0) + 1)


@dataclass(frozen=True)
class CommentParts:
    """A comment without its list of other open pull requests: what the App keeps, so that it
    can show the comment again with a new list without judging anything (:func:`assemble`)."""

    #: The comment up to its agent block.
    body: str
    #: The agent prompt ("" when the report asks nothing of an agent).
    prompt: str


def comment(
    report: Report,
    *,
    marker: str = MARKER,
    check_run_url: str | None = None,
    fix_commit: str | None = None,
    fixes_pushable: bool = True,
    sha: str | None = None,
    ai_note: str | None = None,
    overlaps: Sequence[OpenPull] | None = None,
) -> str:
    """The one pull-request comment for ``report``, starting with ``marker``.

    ``check_run_url`` links the check run (where the findings left out for length are);
    ``fix_commit`` is a commit prgate pushed with fixes, which the builder must pull first;
    ``fixes_pushable`` is false when prgate cannot push to the branch (a fork); ``sha`` is the
    commit that was checked; ``ai_note`` says in prgate's own words (markdown, shown as it is)
    why the AI reviewer did not read the change or stopped; ``overlaps`` are the other open pull
    requests that change the same files (``None``: not known, and no room kept for them).
    """
    parts = comment_parts(
        report,
        marker=marker,
        check_run_url=check_run_url,
        fix_commit=fix_commit,
        fixes_pushable=fixes_pushable,
        sha=sha,
        ai_note=ai_note,
        reserve=OVERLAP_RESERVE if overlaps is not None else 0,
    )
    return assemble(parts, overlaps)


def comment_parts(
    report: Report,
    *,
    marker: str = MARKER,
    check_run_url: str | None = None,
    fix_commit: str | None = None,
    fixes_pushable: bool = True,
    sha: str | None = None,
    ai_note: str | None = None,
    reserve: int = 0,
) -> CommentParts:
    """The parts of :func:`comment`, together shorter than GitHub's limit less ``reserve``
    (the room kept for the list of overlaps)."""
    url = _safe_url(check_run_url)
    report = redacted_report(report)
    ordered = by_priority(report.findings)

    def render(n: int) -> CommentParts:
        shown = ordered[:n]
        body = _render(
            "comment.md.j2",
            report,
            shown,
            hidden=len(ordered) - n,
            marker=marker,
            check_run_url=url,
            fix_commit=fix_commit,
            fixes_pushable=fixes_pushable,
            sha=sha,
            ai_note=ai_note,
        )
        return CommentParts(body, agent_prompt(report, fix_commit=fix_commit, max_findings=n))

    note = (
        f"The rest of this report is cut for length; the [check run]({url}) lists everything."
        if url
        else "The rest of this report is cut for length; the check run lists everything."
    )
    limit = COMMENT_LIMIT - reserve
    best = _fit_parts(render, len(ordered), limit)
    if best is None:
        return CommentParts(truncate_lines(render(0).body, limit, note), "")
    return best


def assemble(parts: CommentParts, overlaps: Sequence[OpenPull] | None = None) -> str:
    """The comment of ``parts`` with the list of ``overlaps`` (ranked and capped here) before
    the agent block, and in the agent prompt."""
    shown = coordination.view(overlaps) if overlaps else None
    pieces = [parts.body.strip("\n")]
    if shown is not None:
        section = _env().get_template("overlaps.md.j2").render(view=shown)
        pieces.append(_BLANK_RUN.sub("\n\n", section).strip("\n"))
    prompt = with_overlaps(parts.prompt, shown)
    if prompt:
        pieces.append(str(_env().get_template("_parts.md.j2").module.agent_block(prompt)))  # type: ignore[attr-defined]
    text = "\n\n".join(p.strip("\n") for p in pieces if p.strip())
    return _BLANK_RUN.sub("\n\n", text).strip() + "\n"


def _fit_parts(
    render: Callable[[int], CommentParts], total: int, limit: int
) -> CommentParts | None:
    """The longest parts (by number of findings shown) whose comment fits under ``limit``."""

    def fits(parts: CommentParts) -> bool:
        return _size(assemble(parts)) < limit

    full = render(total)
    if fits(full):
        return full
    low, high = 0, total - 1
    best: CommentParts | None = None
    while low <= high:
        mid = (low + high) // 2
        parts = render(mid)
        if fits(parts):
            best = parts
            low = mid + 1
        else:
            high = mid - 1
    return best


def render_markdown(report: Report) -> str:
    """The report as markdown for ``prgate check --format markdown`` (the comment, unmarked)."""
    return comment(report, marker="")


def check_summary(
    report: Report,
    *,
    fixes_pushable: bool = True,
    sha: str | None = None,
) -> tuple[str, str]:
    """The check run's ``(title, summary)``, each within GitHub's limits."""
    title = verdict(report).removeprefix("prgate: ")
    title = title[:1].upper() + title[1:]
    report = redacted_report(report)
    ordered = by_priority(report.findings)

    def render(n: int) -> str:
        return _render(
            "check_summary.md.j2",
            report,
            ordered[:n],
            hidden=len(ordered) - n,
            fixes_pushable=fixes_pushable,
            sha=sha,
            prompt=agent_prompt(report, max_findings=n),
        )

    note = "The rest of this summary is cut for length; run `prgate check` to see everything."
    return title, _fit(render, len(ordered), SUMMARY_LIMIT, note)


@dataclass(frozen=True)
class BaseVerdict:
    """One pull request's verdict on a commit it shares with others: its base and its report."""

    pr: int
    base: str
    report: Report
    fixes_pushable: bool = True


def head_summary(verdicts: Sequence[BaseVerdict], *, sha: str | None = None) -> tuple[str, str]:
    """The check run's ``(title, summary)`` for a commit that is the head of several open pull
    requests: the strictest verdict first, then one line and one section per base. With one
    pull request it is :func:`check_summary` of its report."""
    if len(verdicts) == 1:
        only = verdicts[0]
        return check_summary(only.report, fixes_pushable=only.fixes_pushable, sha=sha)
    # Branch names come from the pull requests: they may hold anything.
    ordered = [replace(v, base=redact(v.base)) for v in sorted(verdicts, key=_strictness)]
    failing = [v for v in ordered if v.report.conclusion is Conclusion.FAILURE]
    if failing:
        names = ", ".join(f"{one_line(v.base)[:60]} (#{v.pr})" for v in failing)
        title = f"Blocked by the rules of {names}"
        n = len(failing)
        heading = "prgate: this commit is blocked by the rules of " + (
            "one of its base branches." if n == 1 else f"{n} of its base branches."
        )
    else:
        title = "Nothing blocks this change on any of its base branches"
        heading = "prgate: nothing blocks this change on any of its base branches."
    per_base = max(2000, (SUMMARY_LIMIT - 4000) // len(ordered))

    def detail(v: BaseVerdict) -> str:
        _title, text = check_summary(v.report, fixes_pushable=v.fixes_pushable, sha=None)
        return truncate_lines(
            text, per_base, "The rest is cut for length; see this pull request's comment."
        )

    text = (
        _env()
        .get_template("head_summary.md.j2")
        .render(
            heading=heading,
            sha=sha,
            bases=[
                {
                    "pr": v.pr,
                    "base": v.base,
                    "line": verdict(v.report).removeprefix("prgate: "),  # counts only
                    "detail": detail(v),
                }
                for v in ordered
            ],
        )
    )
    return title, _BLANK_RUN.sub("\n\n", text).strip() + "\n"


def _strictness(v: BaseVerdict) -> tuple[int, int]:
    return (0 if v.report.conclusion is Conclusion.FAILURE else 1, v.pr)


def check_annotations(report: Report) -> list[dict[str, Any]]:
    """Check-run annotations (GitHub's shape) for the findings about a file.

    A finding about a whole file is placed on its line 1. Findings about the whole change have
    no file to sit on: they are in the summary, not here.
    """
    out: list[dict[str, Any]] = []
    for f in redacted_report(report).findings:
        if f.path is None:
            continue
        start = f.line if f.line is not None else 1
        end = f.end_line if f.line is not None and f.end_line is not None else start
        message = visible(f.message.strip(), keep_newlines=True)
        if f.from_ai:
            message = _ai_annotation(f)
        elif f.fix.strip():
            message += "\n\nWhat to do: " + visible(f.fix.strip(), keep_newlines=True)
        if f.line is None:
            message = "This is about the whole file.\n\n" + message
        details = f"Rule: {one_line(f.rule)}"
        if f.fixable:
            details += "\nprgate can fix this automatically (`prgate fix`, or Apply fixes)."
        out.append(
            {
                "path": f.path,
                "start_line": start,
                "end_line": max(end, start),
                "annotation_level": _annotation_level(f.level),
                "title": clip(one_line(f.title), ANNOTATION_TITLE_LIMIT),
                "message": clip(message.strip(), ANNOTATION_MESSAGE_LIMIT),
                "raw_details": details,
            }
        )
    return out


#: The same as ``check_annotations``. (Modules that use ``from __future__ import annotations``
#: cannot import this name without shadowing the future import: they use ``check_annotations``.)
annotations = check_annotations  # type: ignore[assignment]


def _ai_annotation(f: Finding) -> str:
    """An AI reviewer's note for an annotation: its words quoted, and who decides."""
    quoted = [one_line(f.title)]
    quoted += visible(f.message.strip(), keep_newlines=True).split("\n")
    if f.fix.strip():
        quoted += ("Its suggestion: " + visible(f.fix.strip(), keep_newlines=True)).split("\n")
    body = "\n".join("| " + line.strip() for line in quoted if line.strip())
    return (
        "An advisory note from the AI reviewer, quoted as the model wrote it; a person decides "
        "whether to act on it.\n\n" + body
    )


def truncate_lines(text: str, limit: int, note: str) -> str:
    """``text`` cut at a line boundary so that it, plus ``note``, is shorter than ``limit``.

    Sizes are counted in UTF-8 bytes, which is never less than GitHub's count of characters.
    """
    if _size(text) < limit:
        return text
    budget = limit - _size(note) - 2
    kept: list[str] = []
    used = 0
    for line in text.split("\n"):
        cost = _size(line) + 1
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    return "\n".join(kept) + "\n\n" + note


def _annotation_level(level: Level) -> str:
    if level is Level.ERROR:
        return "failure"
    if level is Level.WARNING:
        return "warning"
    if level is Level.NOTICE:
        return "notice"
    assert_never(level)


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _fit(render: Callable[[int], str], total: int, limit: int, note: str) -> str:
    """The longest rendering (by number of findings shown) that fits under ``limit``."""
    full = render(total)
    if _size(full) < limit:
        return full
    low, high = 0, total - 1  # ``low`` is a candidate; the answer is the largest that fits
    best: str | None = None
    while low <= high:
        mid = (low + high) // 2
        text = render(mid)
        if _size(text) < limit:
            best = text
            low = mid + 1
        else:
            high = mid - 1
    if best is None:
        return truncate_lines(render(0), limit, note)
    return best


def _safe_url(url: str | None) -> str | None:
    if url and _SAFE_URL.fullmatch(url):
        return url
    return None


def _short_sha(sha: str | None) -> str:
    if not sha:
        return ""
    if _HEX_SHA.fullmatch(sha):
        return f"`{sha[:7]}`"
    return md_escape(sha, 64)


def _level_label(level: Level) -> str:
    if level is Level.ERROR:
        return "blocks merging"
    if level is Level.WARNING:
        return "warning"
    if level is Level.NOTICE:
        return "notice"
    assert_never(level)


def _where(f: Finding) -> str:
    """``Line 3 (blocks merging)``; for a finding about the whole change, the level alone."""
    level = _level_label(f.level)
    if f.path is None:
        return level[:1].upper() + level[1:]
    label = line_label(f)
    return f"{label[:1].upper()}{label[1:]} ({level})"


def _render(
    template: str,
    report: Report,
    shown: Sequence[Finding],
    *,
    hidden: int,
    **context: Any,
) -> str:
    skipped = report.skipped
    text = (
        _env()
        .get_template(template)
        .render(
            report=report,
            verdict=verdict(report),
            groups=group_by_file(shown),
            hidden=hidden,
            fixable=fixable_count(report),
            skipped=skipped[:SKIPPED_LIMIT],
            skipped_more=max(0, len(skipped) - SKIPPED_LIMIT),
            whole_change=WHOLE_CHANGE,
            reasons=rules_why(shown, report),
            about=config_line(report),
            **context,
        )
    )
    # Templates stay readable by not fighting jinja's whitespace; tidy blank lines here. The
    # agent prompt never holds two blank lines in a row, so its code block is unchanged.
    return _BLANK_RUN.sub("\n\n", text).strip() + "\n"


_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("prgate.render", "templates"),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        env.filters["md"] = md_escape
        env.filters["md_path"] = md_path
        env.filters["short_sha"] = _short_sha
        env.filters["fence"] = code_fence
        env.globals["where"] = _where
        env.globals["plural"] = plural
        _ENV = env
    return _ENV
