"""One batch of tool runs for an evaluation: oxlint on the changed script files, oxfmt on the
changed files it formats, each at head, with the base branch's settings.

Kept apart from the kind so that it can move onto a shared tool seam: it needs only the
changed files' head texts and the base settings, and returns plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    """Run oxlint over ``lint`` and oxfmt over ``fmt`` (path -> head text), side by side, each
    in a workspace of its own (oxfmt rewrites the files it formats).

    Raises :class:`~prgate.checks.web.process.ToolMissing` or :class:`CheckError` when a tool
    cannot give an answer: the caller turns that into a could-not-judge finding.
    """
    base = base_settings(settings)
    with ThreadPoolExecutor(max_workers=2) as pool:
        linted = pool.submit(_lint, base, lint, {**fmt, **lint}, lint_fix) if lint else None
        formatted = pool.submit(_format, base, fmt) if fmt else None
        parts = [f.result() for f in (linted, formatted) if f is not None]
    out = WebOutput()
    for part in parts:
        out.problems += part.problems
        out.formatted.update(part.formatted)
        out.unformattable |= part.unformattable
        out.unjudged |= part.unjudged
        out.lint_fixed.update(part.lint_fixed)
    return out


def _lint(
    base: Mapping[str, bytes], lint: Mapping[str, str], files: Mapping[str, str], fix: bool
) -> WebOutput:
    """oxlint over ``lint``, in a workspace holding every changed file of ``files`` (rules that
    follow imports see the changed files they import as they are at head)."""
    out = WebOutput()
    with Workspace(base, files) as ws:
        back = {ws.names[p]: p for p in files if p in ws.names}
        out.unjudged = {p for p in lint if p not in ws.names}
        paths = sorted(p for p in lint if p in ws.names)
        if paths:
            results = ws.run(tool_binary("oxlint"), ["--format", "json"], paths)
            out.problems = parse_lint(lint_json(results), back)
            if fix:
                _lint_fix(ws, paths, lint, out)
    return out


def _format(base: Mapping[str, bytes], files: Mapping[str, str]) -> WebOutput:
    out = WebOutput()
    with Workspace(base, files) as ws:
        back = {ws.names[p]: p for p in files if p in ws.names}
        out.unjudged = {p for p in files if p not in ws.names}
        paths = sorted(back.values())
        args = ["--write", "--no-error-on-unmatched-pattern"]
        for r in ws.run(tool_binary("oxfmt"), args, paths) if paths else ():
            if r.returncode != 0:
                failed = failed_files(r.stderr.decode("utf-8", "replace"))
                if not failed:
                    raise CheckError("oxfmt stopped without saying why")
                out.unformattable.update(back[n] for n in failed if n in back)
        for path in paths:
            if path not in out.unformattable:
                out.formatted[path] = ws.read(path)
    return out


def _lint_fix(
    ws: Workspace, paths: Sequence[str], heads: Mapping[str, str], out: WebOutput
) -> None:
    """oxlint's safe fixes (``--fix``), applied to the head texts afresh."""
    for path in paths:
        ws.root.joinpath(*ws.names[path].split("/")).write_text(heads[path], "utf-8")
    ws.run(tool_binary("oxlint"), ["--fix", "--format", "json"], paths)
    out.lint_fixed = {p: ws.read(p) for p in paths}
