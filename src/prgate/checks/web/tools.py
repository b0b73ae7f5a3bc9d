"""One batch of tool runs for an evaluation: oxlint on the changed script files, oxfmt on the
changed files it formats, each at head, with the base branch's settings.

Kept apart from the kind so that it can move onto a shared tool seam: it needs only the
changed files' head texts and the base settings, and returns plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prgate.checks.web.output import LintProblem, failed_files, parse_lint
from prgate.checks.web.process import Workspace, lint_json, tool_binary
from prgate.checks.web.settings import prettier_as_oxfmt
from prgate.errors import CheckError


@dataclass
class WebOutput:
    """What the tools said about the changed files (repository paths throughout)."""

    problems: list[LintProblem] = field(default_factory=list)
    #: Path -> the file as oxfmt lays it out (only files it could read).
    formatted: dict[str, str] = field(default_factory=dict)
    #: Files oxfmt could not read (a syntax error, for one).
    unformattable: set[str] = field(default_factory=set)
    #: Changed files the tools could not be given (a name no folder can hold).
    unjudged: set[str] = field(default_factory=set)
    #: Path -> the file with oxlint's safe fixes applied (only when asked for).
    lint_fixed: dict[str, str] = field(default_factory=dict)


def base_settings(settings: Mapping[str, bytes | None]) -> dict[str, bytes]:
    """The settings files present at base, plus Prettier options handed to oxfmt."""
    present = {p: d for p, d in settings.items() if d is not None}
    return {**present, **prettier_as_oxfmt(settings)}


def run_tools(
    settings: Mapping[str, bytes | None],
    *,
    lint: Mapping[str, str],
    fmt: Mapping[str, str],
    lint_fix: bool = False,
) -> WebOutput:
    """Run oxlint over ``lint`` and oxfmt over ``fmt`` (path -> head text).

    Raises :class:`~prgate.checks.web.process.ToolMissing` or :class:`CheckError` when a tool
    cannot give an answer: the caller turns that into a could-not-judge finding.
    """
    out = WebOutput()
    files = {**lint, **fmt}
    with Workspace(base_settings(settings), files) as ws:
        back = {ws.names[p]: p for p in files if p in ws.names}
        out.unjudged = {p for p in files if p not in ws.names}
        lint_paths = sorted(p for p in lint if p in ws.names)
        fmt_paths = sorted(p for p in fmt if p in ws.names)
        if lint_paths:
            results = ws.run(tool_binary("oxlint"), ["--format", "json"], lint_paths)
            out.problems = parse_lint(lint_json(results), back)
        if fmt_paths:
            _format(ws, fmt_paths, back, out)
        if lint_fix and lint_paths:
            _lint_fix(ws, lint_paths, lint, out)
    return out


def _format(ws: Workspace, paths: Sequence[str], back: Mapping[str, str], out: WebOutput) -> None:
    args = ["--write", "--no-error-on-unmatched-pattern"]
    for r in ws.run(tool_binary("oxfmt"), args, paths):
        if r.returncode != 0:
            failed = failed_files(r.stderr.decode("utf-8", "replace"))
            if not failed:
                raise CheckError("oxfmt stopped without saying why")
            out.unformattable.update(back[n] for n in failed if n in back)
    for path in paths:
        if path not in out.unformattable:
            out.formatted[path] = ws.read(path)


def _lint_fix(
    ws: Workspace, paths: Sequence[str], heads: Mapping[str, str], out: WebOutput
) -> None:
    """oxlint's safe fixes (``--fix``), applied to the head texts afresh."""
    for path in paths:
        ws.root.joinpath(*ws.names[path].split("/")).write_text(heads[path], "utf-8")
    ws.run(tool_binary("oxlint"), ["--fix", "--format", "json"], paths)
    out.lint_fixed = {p: ws.read(p) for p in paths}
