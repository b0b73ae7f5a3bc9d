"""The ``tests`` check kind: code changed with no test changed alongside it.

A source file counts when it matches ``source``, does not match ``tests``, and the change adds or
changes lines in it that can change what the program does: deleting code, only removing lines or
only moving a file needs no new test, and neither does a Python file whose change only touches
comments, docstrings, layout or the type annotations of functions (see ``behaviour``). A file
its source marked binary has no diff, so all of it counts. Any test file that the change adds,
changes or moves satisfies the rule (prgate does not judge whether the test covers the code).
One finding for the whole pull request.
"""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.behaviour import changes_behaviour
from prgate.checks.globs import Globs, compile_globs
from prgate.checks.text import whole_file_judged
from prgate.model import FileChange

#: Python code anywhere, except packaging scripts, database migrations and documentation.
DEFAULT_SOURCE: tuple[str, ...] = (
    "*.py",
    "!setup.py",
    "!conftest.py",
    "!**/migrations/**",
    "!docs/",
)
#: Test folders and the usual names of test files.
DEFAULT_TESTS: tuple[str, ...] = (
    "tests/",
    "test/",
    "test_*.py",
    "*_test.py",
    "conftest.py",
)
#: How many source files a finding names before it says “and N more”.
_NAMED = 5


class SourceTestsParams(Params):
    #: Source code that needs tests (gitignore-style; `!pattern` takes paths back out).
    source: Globs = DEFAULT_SOURCE
    #: Test files: changing any of them satisfies the rule.
    tests: Globs = DEFAULT_TESTS


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    for rule in rules:
        params = rule.params
        assert isinstance(params, SourceTestsParams)
        source = compile_globs(params.source)
        tests = compile_globs(params.tests)
        candidates: list[FileChange] = []
        tested = False
        for change in ctx.changeset.files:
            if change.is_deleted:
                continue
            if tests.matches(change.path):
                tested = True
            elif source.matches(change.path) and (change.added or whole_file_judged(change)):
                candidates.append(change)
        if tested:
            continue
        changed = [c.path for c in candidates if _may_change_behaviour(c)]
        if not changed:
            continue
        result.findings.append(rule.finding(path=None, message=_describe(sorted(changed))))
    return result


def _may_change_behaviour(change: FileChange) -> bool:
    """Whether the change to this file may change what the program does. Only Python files
    are looked into; any other file with added lines counts."""
    if not change.path.endswith((".py", ".pyi")) or not change.is_regular:
        return True
    return changes_behaviour(change.base_bytes(), change.head_bytes())


def _describe(changed: Sequence[str]) -> str:
    named = ", ".join(changed[:_NAMED])
    if len(changed) > _NAMED:
        named += f" and {len(changed) - _NAMED} more"
    files = "a code file" if len(changed) == 1 else f"{len(changed)} code files"
    return f"This change edits {files} ({named}) but adds or changes no test."


KIND = CheckKind(
    name="tests",
    params=SourceTestsParams,
    run=run,
    summary=(
        "Reports a pull request that changes what files matching `source` do (for Python: more "
        "than comments, docstrings, layout or function type annotations) without adding or "
        "changing any file matching `tests`."
    ),
)
