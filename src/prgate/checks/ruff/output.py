"""What a ruff run found, as values the check kinds read, and reading ruff's JSON into them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prgate.checks.ruff.fmtoff import FormatSuppression
from prgate.checks.ruff.formatdiff import FormatHunk
from prgate.checks.ruff.noqa import Directives, Suppression
from prgate.checks.ruff.process import Workspace
from prgate.checks.ruff.settings import (
    Dropped,
    Selection,
    selector_matches,
)
from prgate.checks.text import whole_file_judged
from prgate.checks.tools import ProcessResult
from prgate.errors import CheckError
from prgate.model import FileChange, Skipped

SYNTAX_CODE = "invalid-syntax"


@dataclass(frozen=True)
class PythonSource:
    """A changed Python file ruff is given, with its contents at head."""

    change: FileChange
    data: bytes


@dataclass(frozen=True)
class Violation:
    path: str
    code: str
    message: str
    line: int
    end_line: int
    column: int
    #: Ruff's description of its fix, when it has one.
    fix_message: str | None = None
    #: Ruff applies this fix by default (``safe`` applicability).
    safe_fix: bool = False
    suppression: Suppression = Suppression.NONE


@dataclass(frozen=True)
class SyntaxProblem:
    path: str
    line: int
    column: int
    message: str
    #: Why the file could not be read, when it is not a syntax error (not UTF-8, a name prgate
    #: cannot handle): the whole sentence for the finding.
    unreadable: str | None = None


@dataclass(frozen=True)
class RuffOutput:
    """What one batched ruff run found."""

    #: Violations of the codes asked for by name (``codes``).
    violations: tuple[Violation, ...] = ()
    #: Violations the team's own ruff reports (their selection, or the default one).
    team: tuple[Violation, ...] = ()
    #: The first syntax error of each file ruff could not read as Python.
    syntax_errors: tuple[SyntaxProblem, ...] = ()
    #: Changed Python files ``ruff format`` would change.
    unformatted: frozenset[str] = frozenset()
    #: What ``ruff format`` would change, by file: the hunks overlapping added lines.
    format_hunks: Mapping[str, tuple[FormatHunk, ...]] = field(default_factory=dict)
    #: Formatting suppressions (``# fmt: off``, ``# fmt: skip``) the change adds, by file.
    format_suppressions: Mapping[str, tuple[FormatSuppression, ...]] = field(default_factory=dict)
    #: Files not judged (not UTF-8, a path that cannot be written safely).
    skipped: tuple[Skipped, ...] = ()
    #: The codes the by-name lint run selected.
    codes: tuple[str, ...] = ()
    #: Display settings left out of the team's files (a notice for whoever keeps them).
    dropped: tuple[Dropped, ...] = ()
    #: The head tree could not be listed whole: import order cannot be judged.
    partial_tree: bool = False

    def reportable(self, selection: Selection) -> Iterator[Violation]:
        """By-name violations ``selection`` wants, leaving out files that did not parse and
        violations a comment that was already there silences."""
        yield from self._kept(self.violations, selection)

    def team_reportable(self, ignore: Sequence[str] = ()) -> Iterator[Violation]:
        """What the team's ruff reports, less the codes ``ignore`` names."""
        yield from self._kept(self.team, Selection(select=("ALL",), ignore=tuple(ignore)))

    def _kept(self, items: Sequence[Violation], selection: Selection) -> Iterator[Violation]:
        broken = {s.path for s in self.syntax_errors}
        for v in items:
            if v.path in broken or v.suppression is Suppression.EXISTING:
                continue
            if selection.matches(v.code):
                yield v


#: Python files that cannot be checked are reported, never skipped: Python itself refuses a
#: file that is not UTF-8, and a file prgate cannot check must not pass unseen.
def parse_items(result: ProcessResult, *, accept: Sequence[int]) -> list[dict[str, object]]:
    """Ruff's JSON diagnostics, or a plain CheckError when ruff did not work."""
    problem = None
    items: object = None
    if result.returncode not in accept:
        problem = f"ruff stopped with exit status {result.returncode}"
    else:
        try:
            items = json.loads(result.stdout.decode("utf-8") or "[]")
        except (UnicodeDecodeError, json.JSONDecodeError):
            problem = "ruff's output could not be read"
        else:
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                problem = "ruff's output had an unexpected shape"
    if problem is not None:
        raise CheckError(problem + _stderr_cause(result.stderr))
    assert isinstance(items, list)
    return items


def _stderr_cause(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace")
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Cause:"):
            return f" ({line[len('Cause:') :].strip()[:300]})"
    return ""


def violations_of(
    ws: Workspace,
    sources: Mapping[str, PythonSource],
    items: Sequence[Mapping[str, object]],
    syntax: dict[str, SyntaxProblem],
    directives: dict[str, Directives],
) -> list[Violation]:
    violations: list[Violation] = []
    for item in items:
        path = ws.repo_path(str(item.get("filename", "")))
        if path is None or path not in sources:
            # Never drop what ruff found: a finding prgate cannot place fails the check.
            raise CheckError("ruff reported on a file prgate could not match to the change")
        code = item.get("code")
        line, column = _location(item.get("location"))
        if code == SYNTAX_CODE or not isinstance(code, str):
            known = syntax.get(path)
            if known is None or (line, column) < (known.line, known.column):
                syntax[path] = SyntaxProblem(path, line, column, str(item.get("message", "")))
            continue
        src = sources[path]
        end_line = _end_line(item, line)
        if not (whole_file_judged(src.change) or src.change.touches(line, end_line)):
            # Not on a line the change added: never reported, so its comments are not read.
            continue
        if path not in directives:
            directives[path] = Directives.scan(src.change, src.data)
        violations.append(_violation(item, path, code, (line, end_line), column, directives[path]))
    violations.sort(key=lambda v: (v.path, v.line, v.column, v.code))
    return violations


def _violation(
    item: Mapping[str, object],
    path: str,
    code: str,
    span: tuple[int, int],
    column: int,
    directives: Directives,
) -> Violation:
    line, end_line = span
    fix = item.get("fix")
    fix_message = None
    safe = False
    if isinstance(fix, dict):
        safe = fix.get("applicability") == "safe"
        message = fix.get("message")
        fix_message = message if isinstance(message, str) else None
    noqa_row = item.get("noqa_row")
    return Violation(
        path=path,
        code=code,
        message=str(item.get("message", "")),
        line=line,
        end_line=end_line,
        column=column,
        fix_message=fix_message,
        safe_fix=safe,
        suppression=directives.covers(
            code,
            line,
            end_line=end_line,
            noqa_row=noqa_row if isinstance(noqa_row, int) else line,
        ),
    )


def _end_line(item: Mapping[str, object], line: int) -> int:
    end_line, end_column = _location(item.get("end_location"))
    if end_line > line and end_column <= 1:
        end_line -= 1  # a span ending at the start of a line ends on the line before
    return max(end_line, line)


def _location(value: object) -> tuple[int, int]:
    if isinstance(value, dict):
        row, col = value.get("row"), value.get("column")
        if isinstance(row, int) and isinstance(col, int):
            return max(row, 1), max(col, 1)
    return 1, 1


def is_import_order(code: str) -> bool:
    return selector_matches("I", code) >= 0
