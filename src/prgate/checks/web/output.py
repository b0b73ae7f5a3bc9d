"""Reading oxlint's JSON diagnostics into problems that carry the tool's own rule code."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_FAILED_FILE = re.compile(r"^\s*,-\[(?P<name>.+?):\d+:\d+\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class LintProblem:
    """One oxlint diagnostic, at a repository path."""

    path: str
    line: int
    column: int | None
    #: oxlint's rule code (``eslint(no-debugger)``); ``None`` for a file it could not parse.
    code: str | None
    message: str
    help: str | None


def _first_span(diag: Mapping[str, object]) -> tuple[int, int | None]:
    labels = diag.get("labels")
    if isinstance(labels, list):
        for label in labels:
            span = label.get("span") if isinstance(label, dict) else None
            if isinstance(span, dict) and isinstance(span.get("line"), int):
                column = span.get("column")
                return int(span["line"]), int(column) if isinstance(column, int) else None
    return 1, None


def parse_lint(
    diags: Sequence[Mapping[str, object]], paths: Mapping[str, str]
) -> list[LintProblem]:
    """``diags`` (oxlint ``--format json``) at repository paths; ``paths`` maps the names the
    tool saw back to repository paths (a name not in it is dropped)."""
    out: list[LintProblem] = []
    for d in diags:
        name = d.get("filename")
        path = paths.get(name) if isinstance(name, str) else None
        if path is None:
            continue
        line, column = _first_span(d)
        code = d.get("code")
        help_text = d.get("help")
        out.append(
            LintProblem(
                path=path,
                line=line,
                column=column,
                code=code if isinstance(code, str) and code else None,
                message=str(d.get("message") or "a problem"),
                help=help_text if isinstance(help_text, str) and help_text else None,
            )
        )
    return sorted(out, key=lambda p: (p.path, p.line, p.column or 0, p.code or ""))


def failed_files(stderr: str) -> set[str]:
    """Names of files oxfmt reports it could not format (it names each in its error frame)."""
    return {m.group("name") for m in _FAILED_FILE.finditer(stderr)}
