"""The ``pattern`` check kind: a team's own regular expression, run on the lines a change adds.

Patterns are RE2 (google-re2): matching takes time linear in the line's length whatever the
pattern, so a rule cannot stall the gate. RE2 has no look-around and no back-references; a pattern
RE2 cannot compile is refused when the config loads. Findings say which line matches, never what
the line holds (it may be a secret).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import re2
from pydantic import field_validator

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.checks.lines import added_lines
from prgate.checks.text import looks_like_text
from prgate.model import FileChange

#: The most memory RE2 may use for one compiled pattern (bytes). RE2's own default is 8 MiB.
_MAX_MEM = 64 << 20


def compile_re2(pattern: str) -> Any:
    """Compile ``pattern`` with RE2, or raise ``ValueError`` saying plainly why it cannot."""
    if not pattern:
        raise ValueError("the pattern is empty; it would match every line")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _MAX_MEM
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "unknown error"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", errors="replace")
        raise ValueError(
            f"the pattern {pattern!r} is not a valid RE2 regular expression ({reason}). "
            "RE2 does not support look-ahead, look-behind or back-references such as \\1; "
            "rewrite the pattern without them"
        ) from None


class PatternParams(Params):
    #: An RE2 regular expression, searched for in each added line.
    pattern: str
    #: Only files matching these gitignore-style patterns are searched (all files when omitted).
    paths: Globs | None = None
    #: Files matching these patterns are not searched.
    exclude: Globs = ()
    #: What to tell the person, instead of the default “line N matches the rule”.
    message: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_re2(value)
        return value


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    compiled = []
    for rule in rules:
        params = rule.params
        assert isinstance(params, PatternParams)
        included = compile_globs(params.paths) if params.paths is not None else None
        excluded = compile_globs(params.exclude)
        compiled.append((rule, params, compile_re2(params.pattern), included, excluded))

    for change in ctx.analysable():
        wanted = [c for c in compiled if _selected(change.path, c[3], c[4])]
        if not wanted:
            continue
        for number, text in added_lines(change):
            for rule, params, regex, _, _ in wanted:
                match = regex.search(text)
                if match is None:
                    continue
                message = params.message or f"Line {number} matches the rule's pattern."
                result.findings.append(
                    rule.finding(
                        path=change.path,
                        line=number,
                        column=match.start() + 1,
                        message=message,
                    )
                )
    return result


def in_scope(rule: Rule, change: FileChange) -> bool:
    """Text files (or files that may be text) matching ``paths`` and not ``exclude``."""
    params = rule.params
    assert isinstance(params, PatternParams)
    included = compile_globs(params.paths) if params.paths is not None else None
    return _selected(change.path, included, compile_globs(params.exclude)) and looks_like_text(
        change
    )


def _selected(path: str, included: Matcher | None, excluded: Matcher) -> bool:
    if included is not None and not included.matches(path):
        return False
    return not excluded.matches(path)


KIND = CheckKind(
    name="pattern",
    params=PatternParams,
    run=run,
    in_scope=in_scope,
    summary=(
        "Reports each added line, in files matching `paths` and not `exclude`, where the RE2 "
        "regular expression `pattern` matches; `message` replaces the default message."
    ),
)
