"""The report for a terminal: grouped by file, readable without colour, coloured on request.

Whether to colour is the caller's decision (the CLI looks at ``isatty`` and ``NO_COLOR``). Text
from the change never reaches the terminal raw: control characters are shown as escapes.
"""

from __future__ import annotations

from typing import assert_never

from prgate.model import Finding, Level, Report
from prgate.render.common import (
    WHOLE_CHANGE,
    config_line,
    fix_hint,
    group_by_file,
    level_word,
    line_label,
    one_line,
    rules_why,
    verdict,
    visible,
)
from prgate.render.prompt import agent_prompt
from prgate.render.redact import redacted_report

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RED = "\x1b[31m"
_YELLOW = "\x1b[33m"
_CYAN = "\x1b[36m"
_GREEN = "\x1b[32m"


def render_text(report: Report, *, color: bool = False) -> str:
    """The whole report as terminal text, ending with a newline."""
    report = redacted_report(report)
    paint = _Painter(color)
    out: list[str] = []
    for group in group_by_file(report.findings):
        heading = WHOLE_CHANGE if group.path is None else visible(group.path)
        out.append(paint.bold(heading))
        for f in group.findings:
            out.extend(_finding(f, paint))
        out.append("")

    if report.skipped:
        out.append(paint.bold("Not checked"))
        for s in report.skipped:
            what = visible(s.path) if s.path is not None else "the whole change"
            rule = f" [{one_line(s.rule)}]" if s.rule else ""
            out.append(f"  {what}{paint.dim(rule)}: {one_line(s.reason)}")
        out.append("")

    reasons = rules_why(report.findings, report)
    if reasons:
        out.append(paint.bold("Why these rules matter"))
        for r in reasons:
            out.append(f"  {one_line(r.title)} {paint.dim('[' + one_line(r.rule) + ']')}")
            out.extend(_indented(r.why))
        out.append("")

    about = config_line(report)
    if about:
        out.append(paint.dim(about))
    for note in report.config_notes:
        out.append(paint.dim("Note: " + one_line(note)))
    line = verdict(report)
    if any(f.level is Level.ERROR for f in report.findings):
        out.append(paint.color(_RED + _BOLD, line))
    else:
        out.append(paint.color(_GREEN + _BOLD, line))
    hint = fix_hint(report)
    if hint:
        out.append(hint)
    prompt = agent_prompt(report)
    if prompt:
        out.append("")
        out.append(paint.bold("For your AI agent (paste everything below this line):"))
        out.append(prompt.rstrip("\n"))
    return "\n".join(out) + "\n"


def _finding(f: Finding, paint: _Painter) -> list[str]:
    where = "" if f.path is None else f"{line_label(f)}: "
    level = paint.level(f.level)
    rule = paint.dim("[" + one_line(f.rule) + "]")
    if f.from_ai:
        return _ai_note(f, f"  {where}{level}: an advisory note from the AI reviewer {rule}", paint)
    lines = [f"  {where}{level}: {one_line(f.title)} {rule}"]
    if f.message.strip():
        lines.extend(_indented(f.message))
    if f.fix.strip():
        fix = _indented(f.fix)
        fix[0] = "    What to do: " + fix[0].lstrip()
        lines.extend(fix)
    if f.fixable:
        lines.append("    " + paint.dim("`prgate fix` can fix this automatically."))
    return lines


def _ai_note(f: Finding, head: str, paint: _Painter) -> list[str]:
    """The AI reviewer's words, each line quoted with ``|``, then who decides."""
    quoted = [f"    | {one_line(f.title)}"]
    quoted += ["    | " + line.lstrip() for line in _indented(f.message) if line.strip()]
    fix = [line.lstrip() for line in _indented(f.fix) if line.strip()]
    if fix:
        fix[0] = "Its suggestion: " + fix[0]
        quoted += ["    | " + line for line in fix]
    tail = "    " + paint.dim(
        "Written by an AI model and quoted as it wrote it; a person decides whether to act on it."
    )
    return [head, *quoted, tail]


def _indented(text: str) -> list[str]:
    body = visible(text.strip(), keep_newlines=True)
    return ["    " + line if line else "" for line in body.split("\n")]


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def color(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.enabled else text

    def bold(self, text: str) -> str:
        return self.color(_BOLD, text)

    def dim(self, text: str) -> str:
        return self.color(_DIM, text)

    def level(self, level: Level) -> str:
        word = level_word(level)
        if level is Level.ERROR:
            return self.color(_RED + _BOLD, word)
        if level is Level.WARNING:
            return self.color(_YELLOW + _BOLD, word)
        if level is Level.NOTICE:
            return self.color(_CYAN, word)
        assert_never(level)
