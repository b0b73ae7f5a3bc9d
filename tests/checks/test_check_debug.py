"""The debug check kind: ruff's T100/T201/T203 outside tests, from the shared ruff run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from prgate.checks import CheckContext, Rule
from prgate.checks import debug as debug_check
from prgate.checks.debug import DEBUG_CODES, DebugParams
from prgate.checks.ruff import TOOL, ProcessResult, run_batch, run_process
from prgate.checks.tools import provide
from prgate.config import Config
from prgate.engine import evaluate
from prgate.model import Report
from prgate.sources.memory import FileSides, changeset_from_files


def debug_rule(**params: object) -> Rule:
    return Rule(
        id="content/debug",
        check="debug",
        level="warning",
        title="Debugging code was left in",
        why="why",
        fix="Remove it.",
        params=DebugParams.model_validate(params),
    )


def judge(files: Mapping[str, FileSides], rule: Rule | None = None) -> Report:
    config = Config(rules=(rule or debug_rule(),))
    return evaluate(changeset_from_files(files), config)


def where(report: Report) -> list[tuple[str | None, int | None]]:
    return [(f.path, f.line) for f in report.findings if f.rule == "content/debug"]


def test_print_in_application_code_is_reported_in_plain_words() -> None:
    report = judge(
        {
            "app/orders.py": FileSides(
                "def pay(o):\n    o.paid = True\n", "def pay(o):\n    print(o)\n    o.paid = True\n"
            )
        }
    )
    (finding,) = report.findings
    assert (finding.path, finding.line, finding.level) == ("app/orders.py", 2, "warning")
    assert finding.message == "A print() call is left in the code (ruff T201)"
    assert finding.fixable is False  # ruff's fix for print is unsafe: never applied


def test_breakpoint_pdb_and_pprint_are_reported() -> None:
    head = "import pdb\nfrom pprint import pprint\n\nbreakpoint()\npdb.set_trace()\npprint(1)\n"
    report = judge({"app/x.py": FileSides(None, head)})
    assert where(report) == [("app/x.py", 1), ("app/x.py", 4), ("app/x.py", 5), ("app/x.py", 6)]


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_orders.py",
        "app/tests/helpers.py",
        "app/orders_test.py",
        "test_x.py",
        "conftest.py",
        "scripts/backfill.py",
        "docs/example.py",
    ],
)
def test_tests_and_scripts_are_excluded_by_default(path: str) -> None:
    assert where(judge({path: FileSides(None, "print('hi')\n")})) == []


def test_exclude_can_be_set_by_the_team() -> None:
    rule = debug_rule(exclude=["app/cli.py"])
    report = judge(
        {
            "app/cli.py": FileSides(None, "print('usage')\n"),
            "tests/test_a.py": FileSides(None, "print('now judged')\n"),
        },
        rule,
    )
    assert where(report) == [("tests/test_a.py", 1)]


def test_only_changed_lines_are_judged() -> None:
    base = "print('old')\nX = 1\n"
    assert where(judge({"app/a.py": FileSides(base, base + "Y = 2\n")})) == []


def test_an_added_noqa_is_named_as_a_suppression_of_the_print() -> None:
    (finding,) = judge({"app/a.py": FileSides(None, "print(1)  # noqa: T201\n")}).findings
    assert "This change adds a comment that silences ruff's T201" in finding.message


def test_a_file_that_does_not_parse_is_a_finding_at_the_rules_level() -> None:
    report = judge(
        {"app/a.py": FileSides(None, "print(1\n"), "tests/t.py": FileSides(None, "print(1\n")},
        replace(debug_rule(), level="error"),
    )
    (finding,) = report.findings  # the test file is excluded from the rule: not its business
    assert (finding.rule, finding.path, finding.level) == ("content/debug", "app/a.py", "error")
    assert finding.title == (
        "prgate could not check this file for leftover print(), breakpoint() and pdb"
    )
    assert "could not be read as Python (line 2" in finding.message
    assert "valid Python" in finding.fix
    assert report.skipped == ()
    assert report.conclusion == "failure"


def test_python_saved_in_another_encoding_is_a_finding_asking_for_utf8() -> None:
    head = "# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\nbreakpoint()\n".encode("latin-1")
    (finding,) = judge({"app/a.py": FileSides(None, head)}).findings
    assert (finding.rule, finding.level, finding.line) == ("content/debug", "warning", None)
    assert "not UTF-8" in finding.message and "print(), breakpoint() and pdb" in finding.message
    assert "Save the file as UTF-8" in finding.fix


def test_a_coding_line_that_makes_python_read_other_text_than_ruff_is_not_trusted() -> None:
    # UTF-7 hides a line break: Python runs `breakpoint()`, a UTF-8 reader sees one line.
    head = b"# coding: utf-7\nx = 1 +AAo-breakpoint()\n"
    (finding,) = judge({"app/a.py": FileSides(None, head)}).findings
    assert "not UTF-8" in finding.message


def test_python_with_a_coding_line_that_is_plain_utf8_is_judged() -> None:
    head = b"# -*- coding: utf-8 -*-\nbreakpoint()\n"
    assert where(judge({"app/a.py": FileSides(None, head)})) == [("app/a.py", 2)]


@dataclass
class CountingRunner:
    commands: list[str] = field(default_factory=list)

    def __call__(self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
        self.commands.append(args[1])
        return run_process(args, cwd=cwd, env=env)


def test_debug_alone_needs_one_lint_run_and_no_format_run() -> None:
    rule = debug_rule()
    assert tuple(debug_check.KIND.tool_codes(rule)) == DEBUG_CODES  # type: ignore[misc]
    changeset = changeset_from_files(
        {f"app/m{i}.py": FileSides(None, "print(1)\n") for i in range(4)}
    )
    runner = CountingRunner()
    output = run_batch(
        CheckContext(changeset=changeset), codes=DEBUG_CODES, rules=[rule], runner=runner
    )
    assert runner.commands == ["check"]
    ctx = provide(CheckContext(changeset=changeset), TOOL, output)
    result = debug_check.run(ctx, [rule])
    assert sorted(f.path or "" for f in result.findings) == [f"app/m{i}.py" for i in range(4)]


def test_exclude_must_be_a_list() -> None:
    with pytest.raises(ValidationError):
        DebugParams.model_validate({"exclude": "tests/"})
