"""The ruff check kind, with real ruff runs on in-memory changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from prgate.checks import CheckContext, Rule
from prgate.checks.debug import DebugParams
from prgate.checks.ruff import (
    ProcessResult,
    RuffParams,
    Selection,
    run_batch,
    run_process,
)
from prgate.childenv import allowed
from prgate.config import Config
from prgate.engine import evaluate
from prgate.errors import CheckError, ConfigError
from prgate.model import Conclusion, Finding, Level, Report
from prgate.sources.memory import FileSides, changeset_from_files


def lint_rule(**params: object) -> Rule:
    return Rule(
        id="style/ruff-lint",
        check="ruff",
        level="error",
        title="The Python code has a likely mistake",
        why="why",
        fix="Fix it.",
        params=RuffParams.model_validate(params),
    )


FORMAT = Rule(
    id="style/ruff-format",
    check="ruff",
    level="warning",
    title="not formatted",
    why="why",
    fix="Format it.",
    params=RuffParams(format=True),
)
DEBUG = Rule(
    id="content/debug",
    check="debug",
    level="warning",
    title="debug left in",
    why="why",
    fix="Remove it.",
    params=DebugParams(),
)


@dataclass
class RecordingRunner:
    """Runs ruff for real and remembers every process it started."""

    calls: list[list[str]] = field(default_factory=list)
    envs: list[dict[str, str]] = field(default_factory=list)
    cwds: list[Path] = field(default_factory=list)

    def __call__(self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
        self.calls.append(list(args))
        self.envs.append(dict(env))
        self.cwds.append(cwd)
        return run_process(args, cwd=cwd, env=env)

    def files_of(self, command: str) -> list[str]:
        (args,) = [a for a in self.calls if a[1] == command]
        return args[args.index("--") + 1 :]


@dataclass
class FixedRunner:
    """Pretends to be ruff, answering every run with the same result."""

    result: ProcessResult

    def __call__(self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
        return self.result


def judge(
    files: Mapping[str, FileSides],
    rules: Sequence[Rule] = (),
    *,
    base: Mapping[str, str] | None = None,
) -> Report:
    """``base``: the ruff settings files on the base branch, by path."""
    config = Config(rules=tuple(rules) or (lint_rule(),))
    return evaluate(changeset_from_files(files, base_files=base), config)


def mine(report: Report, rule: str = "style/ruff-lint") -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def test_reports_violations_on_changed_lines_with_ruffs_words() -> None:
    report = judge(
        {"app/a.py": FileSides("import sys\n\nVALUE = 1\n", "import sys\nimport os\n\nVALUE = 1\n")}
    )
    (finding,) = mine(report)
    assert (finding.path, finding.line, finding.end_line, finding.column) == ("app/a.py", 2, 2, 8)
    assert finding.message == "`os` imported but unused (ruff F401)"
    assert finding.fixable is True
    assert "Remove unused import: `os`" in finding.fix
    assert report.conclusion == "failure"


def test_a_violation_without_a_safe_fix_is_not_fixable() -> None:
    report = judge({"app/a.py": FileSides(None, "def f(x=[]):\n    return x\n")})
    (finding,) = mine(report)
    assert "(ruff B006)" in finding.message
    assert finding.fixable is False


def test_one_lint_and_one_format_process_for_every_file() -> None:
    files = {f"pkg/m{i}.py": FileSides(None, f"import os\nX{i} = {{'a':1}}\n") for i in range(6)}
    changeset = changeset_from_files(files)
    runner = RecordingRunner()
    rules = [lint_rule(), FORMAT, DEBUG]
    output = run_batch(
        CheckContext(changeset=changeset),
        codes=["T100", "T201", "T203"],
        rules=rules,
        runner=runner,
    )
    # The team's run, the by-name run (content/debug's codes) and the formatting run.
    assert sorted(a[1] for a in runner.calls) == ["check", "check", "format"]
    assert sorted(runner.files_of("format")) == sorted(files)
    assert output.unformatted == frozenset(files)
    assert {v.path for v in output.team if v.code == "F401"} == set(files)


def test_no_python_files_means_no_ruff_process() -> None:
    runner = RecordingRunner()
    changeset = changeset_from_files({"README.md": FileSides(None, "hello\n")})
    output = run_batch(
        CheckContext(changeset=changeset), codes=["F"], rules=[lint_rule()], runner=runner
    )
    assert runner.calls == []
    assert output.violations == ()


def test_ruff_runs_with_a_bare_environment_and_without_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "T" * 36)
    monkeypatch.setenv("RUFF_SELECT", "ALL")  # the user's own ruff settings count for nothing
    runner = RecordingRunner()
    changeset = changeset_from_files({"a.py": FileSides(None, "x = 1\n")})
    run_batch(
        CheckContext(changeset=changeset), codes=["F"], rules=[lint_rule(), FORMAT], runner=runner
    )
    for args, env, cwd in zip(runner.calls, runner.envs, runner.cwds, strict=True):
        assert {"PATH", "HOME", "XDG_CONFIG_HOME"} <= set(env)
        assert all(allowed(k) for k in set(env) - {"XDG_CONFIG_HOME"}), env
        assert Path(env["HOME"]).parent == cwd.parent
        assert "--no-cache" in args and "--force-exclude" in args
        assert "--config" not in args  # ruff discovers the base's files written in the tree


HEAD_CONFIGS = {
    # A change that tries to loosen (or change) the rules it is judged by.
    "pyproject.toml": FileSides(
        None,
        "[tool.ruff]\nline-length = 10\n[tool.ruff.lint]\nselect = ['ALL']\n"
        "ignore = ['F401']\n[tool.ruff.format]\nquote-style = 'single'\n",
    ),
    "ruff.toml": FileSides(None, "[lint]\nignore = ['F']\n"),
    "app/.ruff.toml": FileSides(None, "[lint]\nignore = ['F']\n"),
    "app/pyproject.toml": FileSides(None, "[tool.ruff.lint]\nignore = ['F']\n"),
}


def test_a_ruff_configuration_added_by_the_change_is_never_read() -> None:
    code = 'import os\n\nNAME = "a fairly long string value"\n'
    report = judge({**HEAD_CONFIGS, "app/a.py": FileSides(None, code)}, [lint_rule(), FORMAT])
    # F401 still reported (head ignores it), no E501/D100 from line-length 10 or ALL, and the
    # double quotes are in format (the head asks for single quotes).
    assert [(f.rule, f.line, f.message) for f in report.findings] == [
        ("style/ruff-lint", 1, "`os` imported but unused (ruff F401)")
    ]


def test_the_base_branchs_ruff_settings_are_honoured() -> None:
    base = {
        "pyproject.toml": "[project]\nrequires-python = '>=3.12'\n"
        "[tool.ruff]\nline-length = 20\n"
        "[tool.ruff.lint]\nselect = ['E501', 'F']\nignore = ['F841']\n"
        "[tool.ruff.lint.per-file-ignores]\n'tests/*' = ['E501']\n"
        "[tool.ruff.format]\nquote-style = 'single'\n",
    }
    files = {
        "app/a.py": FileSides(None, "x = 'a string longer than twenty'\n"),
        "tests/t.py": FileSides(None, "y = 'a string longer than twenty'\n"),
        "app/b.py": FileSides(None, 'def f():\n    unused = "z"\n'),
    }
    report = judge(files, [lint_rule(), FORMAT], base=base)
    lint = [(f.path, f.line, f.message.split("(ruff ")[1]) for f in mine(report)]
    assert lint == [("app/a.py", 1, "E501)")]
    assert [f.path for f in mine(report, "style/ruff-format")] == ["app/b.py"]


def test_selection_uses_ruffs_linter_prefixes() -> None:
    assert Selection(("B",)).matches("B006") and not Selection(("B",)).matches("BLE001")
    assert not Selection(("E",)).matches("ERA001") and not Selection(("F",)).matches("FURB188")
    assert Selection(("PL",)).matches("PLE2502") and Selection(("ALL",)).matches("UP006")
    assert not Selection(("E",), ("E5",)).matches("E501")
    assert Selection(("E501",), ("E",)).matches("E501")


def test_base_selection_decides_which_violations_are_reported() -> None:
    base = {"ruff.toml": "[lint]\nselect = ['E711']\n"}
    files = {"a.py": FileSides(None, "import os\nimport sys\nif os == None:\n    pass\n")}
    assert [f.line for f in mine(judge(files, base=base))] == [3]
    own = judge(files, [lint_rule(select=["F401"])], base=base)
    assert [f.line for f in mine(own)] == [2]


def test_bad_params_are_refused() -> None:
    with pytest.raises(ValidationError):
        RuffParams.model_validate({"select": ["F4 01"]})
    with pytest.raises(ValidationError):
        RuffParams.model_validate({"format": True, "select": ["F"]})


def test_a_syntax_error_is_one_finding_not_a_crash_or_a_flood() -> None:
    head = "import os\nimport sys\n\ndef total(xs:\n    return sum(xs)\nprint(x y)\n"
    report = judge({"app/broken.py": FileSides(None, head)}, [lint_rule(), FORMAT])
    (finding,) = report.findings
    assert (finding.rule, finding.path, finding.line) == ("style/ruff-lint", "app/broken.py", 4)
    assert "could not be read as Python" in finding.message


def test_a_syntax_error_on_an_unchanged_line_still_reports_the_file() -> None:
    base = "x = 2\n\ndef f(:\n    pass\n"
    head = "x = 3\n\ndef f(:\n    pass\n"
    (finding,) = mine(judge({"a.py": FileSides(base, head)}))
    assert finding.line is None
    assert "could not be read as Python" in finding.message


def test_non_utf8_python_fails_closed_and_says_why() -> None:
    # Python refuses such a file, and a file ruff could not check must not pass unseen.
    report = judge(
        {
            "latin.py": FileSides(None, b"import os\nname = '\xe9t\xe9'\nbreakpoint()\n"),
            "ok.py": FileSides(None, "import os\n"),
        }
    )
    assert [f.path for f in report.findings] == ["latin.py", "ok.py"]
    latin = report.findings[0]
    assert latin.level is Level.ERROR and latin.line is None
    assert "not UTF-8" in latin.message
    assert report.conclusion is Conclusion.FAILURE


def test_a_noqa_added_by_the_change_is_named_once_as_a_warning() -> None:
    report = judge({"a.py": FileSides("X = 1\n", "import os  # noqa: F401\nX = 1\n")})
    (finding,) = mine(report)
    assert finding.line == 1 and finding.level is Level.WARNING
    assert ADDED_NOQA + " F401" in finding.message
    assert finding.fixable is False and report.conclusion == "success"
    off = judge(
        {"a.py": FileSides("X = 1\n", "import os  # noqa: F401\nX = 1\n")},
        [lint_rule(added_noqa="off")],
    )
    assert mine(off) == []


def test_a_noqa_that_was_already_there_is_honoured() -> None:
    base = "import os  # noqa\nX = 1\n"
    head = "import os  # noqa\nX = 2\nimport sys  # noqa: E402\n"
    findings = mine(judge({"a.py": FileSides(base, head)}, [lint_rule(select=["E4", "F"])]))
    # Line 1 is not a changed line anyway; line 3's noqa (added) names E402 but not F401:
    # the added suppression is named once, at warning; F401 is reported as it is.
    assert [(f.line, f.level, ADDED_NOQA in f.message) for f in findings] == [
        (3, Level.WARNING, True),
        (3, Level.ERROR, False),
    ]


def test_an_edit_of_another_comment_on_a_suppressed_line_is_no_added_suppression() -> None:
    # The change only drops a trailing `# type: ignore` from a line the team silenced: the
    # code and its noqa are the base's, so the team's ruff and prgate both stay quiet.
    base = "import os  # noqa: F401  # type: ignore[import]\nX = 1\n"
    head = "import os  # noqa: F401\nX = 1\n"
    assert mine(judge({"a.py": FileSides(base, head)})) == []
    # The same noqa kept on a line whose code changed is the change's own suppression.
    changed = "import sys  # noqa: F401\nX = 1\n"
    (finding,) = mine(judge({"a.py": FileSides(base, changed)}))
    assert finding.line == 1 and ADDED_NOQA + " F401" in finding.message
    # And a `#` inside a string is no comment: the code there changed.
    strings = ("S = 'a#b'  # noqa: E501\n", "S = 'a#c'  # noqa: E501\n")
    long_line = [lint_rule(select=["E501"])]
    base_s, head_s = (s.replace("'a#", "'" + "x" * 100 + "#") for s in strings)
    (long,) = mine(judge({"a.py": FileSides(base_s, head_s)}, long_line))
    assert ADDED_NOQA + " E501" in long.message


def test_the_noqa_of_a_multi_line_import_covers_its_old_names_only() -> None:
    # Ruff lets the noqa on an import's first line silence every name of it.
    base = "from os import (  # noqa: F401\n    path,  # type: ignore[attr-defined]\n)\n"
    edited = "from os import (  # noqa: F401\n    path,\n)\n"
    assert mine(judge({"a.py": FileSides(base, edited)})) == []
    added = "from os import (  # noqa: F401\n    path,  # type: ignore[attr-defined]\n    sep,\n)\n"
    (finding,) = mine(judge({"a.py": FileSides(base, added)}))
    assert finding.line == 3 and OLD_NOQA in finding.message


def test_file_level_noqa_covers_old_lines_only() -> None:
    old = "# ruff: noqa\nimport sys\nX = 1\n"
    # An edit elsewhere in the file: the old suppressed import is not reported.
    assert mine(judge({"a.py": FileSides(old, old.replace("X = 1", "X = 2"))})) == []
    # New code under the old blanket comment is reported, with a note that says why.
    outdated = mine(
        judge({"a.py": FileSides(old, old + "import os\n")}, [lint_rule(select=["E4", "F"])])
    )
    assert [f.message.split(" (ruff ")[1][:4] for f in outdated] == ["E402", "F401"]
    assert all(f.line == 4 and OLD_NOQA in f.message and not f.fixable for f in outdated)
    added = judge({"a.py": FileSides("X = 1\n", "# ruff: noqa: F401\nimport os\nX = 1\n")})
    (finding,) = mine(added)
    assert finding.line == 2 and ADDED_NOQA in finding.message
    assert finding.level is Level.WARNING


ADDED_NOQA = "This change adds a comment that silences ruff's"
OLD_NOQA = "written for the code as it was"


def test_an_old_noqa_does_not_cover_a_backslash_continuation_added_in_front_of_it() -> None:
    base = "import os  # noqa\nX = 1\n"
    # Ruff takes the noqa of line 1 from the end of its logical line: line 2, unchanged.
    head = "import sys; \\\nimport os  # noqa\nX = 1\n"
    (finding,) = mine(judge({"a.py": FileSides(base, head)}, [lint_rule(select=["F401"])]))
    assert finding.line == 1 and "`sys` imported but unused" in finding.message
    assert OLD_NOQA in finding.message


@pytest.mark.parametrize(
    ("base", "head"),
    [
        ("VALUE = compute()  # noqa\n", "breakpoint(); \\\nVALUE = compute()  # noqa\n"),
        ('X = """\ntext"""  # noqa\n', 'X = breakpoint() or """\ntext"""  # noqa\n'),
    ],
    ids=["backslash-continuation", "multi-line-string"],
)
def test_an_old_noqa_does_not_hide_a_breakpoint_added_in_front_of_it(base: str, head: str) -> None:
    report = judge({"app/a.py": FileSides(base, head)}, [lint_rule(select=["T100"]), DEBUG])
    assert sorted((f.rule, f.line) for f in report.findings) == [
        ("content/debug", 1),
        ("style/ruff-lint", 1),
    ]
    assert all(OLD_NOQA in f.message for f in report.findings)
    assert report.conclusion is Conclusion.FAILURE


def test_an_old_range_suppression_covers_old_lines_only() -> None:
    base = "# ruff: disable[F401]\nimport sys\n# ruff: enable[F401]\n"
    head = "# ruff: disable[F401]\nimport sys\nimport os\n# ruff: enable[F401]\n"
    (finding,) = mine(judge({"a.py": FileSides(base, head)}))
    assert finding.line == 3 and OLD_NOQA in finding.message


def test_range_suppression_added_by_the_change_is_reported() -> None:
    head = "# ruff: disable[F401]\nimport os\n# ruff: enable[F401]\n"
    (finding,) = mine(judge({"a.py": FileSides(None, head)}))
    assert finding.line == 2 and ADDED_NOQA in finding.message


@pytest.mark.parametrize(
    "path", ["my app/with space.py", "pkg/ünïcödé_名前.py", "-leading.py", "--help.py"]
)
def test_awkward_paths_are_checked_and_named_exactly(path: str) -> None:
    report = judge({path: FileSides(None, "import os\n")}, [lint_rule(), FORMAT])
    assert [(f.rule, f.path, f.line) for f in report.findings] == [("style/ruff-lint", path, 1)]


def test_an_unsafe_path_is_not_written_and_is_reported() -> None:
    changeset = changeset_from_files({"../escape.py": FileSides(None, "import os\n")})
    runner = RecordingRunner()
    output = run_batch(
        CheckContext(changeset=changeset),
        codes=["F"],
        rules=[lint_rule()],
        runner=runner,
    )
    assert runner.calls == []  # nothing was written or run
    assert [(p.path, p.unreadable is not None) for p in output.syntax_errors] == [
        ("../escape.py", True)
    ]
    assert output.violations == ()


@pytest.mark.parametrize(
    ("result", "words"),
    [
        (ProcessResult(2, b"", b"ruff failed\n  Cause: something broke\n"), "something broke"),
        (ProcessResult(1, b"not json", b""), "could not be read"),
        (ProcessResult(0, b'{"a": 1}', b""), "unexpected shape"),
        (ProcessResult(-11, b"", b""), "exit status -11"),
    ],
)
def test_a_failing_ruff_raises_a_plain_check_error(result: ProcessResult, words: str) -> None:
    changeset = changeset_from_files({"a.py": FileSides(None, "x = 1\n")})
    with pytest.raises(CheckError, match=words):
        run_batch(
            CheckContext(changeset=changeset),
            codes=["F"],
            rules=[lint_rule()],
            runner=FixedRunner(result),
        )


def test_a_base_ruff_toml_that_is_not_toml_is_a_located_config_error() -> None:
    changeset = changeset_from_files(
        {"a.py": FileSides(None, "import os\n")}, base_files={"ruff.toml": "line-length = \n"}
    )
    with pytest.raises(ConfigError) as info:
        evaluate(changeset, Config(rules=(lint_rule(),)))
    assert (info.value.file, info.value.line) == ("ruff.toml", 1)


def test_the_engine_turns_a_ruff_failure_into_an_error_finding() -> None:
    # Well-formed, but not a code ruff knows: ruff refuses to run. Validation refuses such a
    # code now; a config checked against another ruff version can still name one.
    rule = replace(lint_rule(), params=RuffParams.model_construct(select=("QQQ",)))
    report = judge({"a.py": FileSides(None, "x = 1\n")}, [rule])
    (finding,) = report.findings
    assert finding.level == "error" and finding.line is None
    assert "could not check this change" in finding.message
    assert "QQQ" in finding.message


# --- formatting suppressions the change adds -------------------------------------------------

TURNS_OFF = "This change adds a comment"


def fmt_rule(**params: object) -> Rule:
    return Rule(
        id="style/ruff-format",
        check="ruff",
        level="warning",
        title="not formatted",
        why="why",
        fix="Format it.",
        params=RuffParams.model_validate({"format": True, **params}),
    )


def formatting(base: str | None, head: str, **params: object) -> list[Finding]:
    return mine(judge({"a.py": FileSides(base, head)}, [fmt_rule(**params)]), "style/ruff-format")


def test_an_added_fmt_off_region_is_named_once_with_its_lines() -> None:
    head = "X = 1\n# fmt: off\nTABLE = [\n    1,0,\n    0,1,\n]\n# fmt: on\nY = 2\n"
    (finding,) = formatting("X = 1\nY = 2\n", head)
    assert (finding.line, finding.end_line, finding.level) == (2, 7, Level.WARNING)
    assert TURNS_OFF in finding.message and "`# fmt: off` on line 2" in finding.message
    assert "lines 2 to 7" in finding.message and finding.fixable is False


def test_an_added_fmt_off_without_on_runs_to_the_end_of_the_file() -> None:
    (finding,) = formatting(None, "X = 1\n# fmt: off\nY = [1,2]\nZ = [3,4]\n")
    assert (finding.line, finding.end_line) == (2, 4)


@pytest.mark.parametrize(
    ("comment", "spelled"),
    [
        ("# fmt: skip", "# fmt: skip"),
        ("#fmt:skip", "# fmt: skip"),
        ("# noqa: E501 # fmt: skip", "# fmt: skip"),
        ("# yapf: disable", "# yapf: disable"),
        ("# fmt: off", "# fmt: off"),
    ],
)
def test_an_added_trailing_skip_names_its_whole_statement(comment: str, spelled: str) -> None:
    head = f"X = 1\nVALUES = [1,2,\n    3]  {comment}\n"
    # (ruff would still respell the comment itself: that is a layout finding of its own)
    (finding,) = [f for f in formatting("X = 1\n", head) if TURNS_OFF in f.message]
    assert (finding.line, finding.end_line) == (2, 3)
    assert f"`{spelled}` on line 3" in finding.message


def test_yapf_disable_and_enable_make_a_region() -> None:
    head = "# yapf: disable\nA = [1,2]\n# yapf: enable\nB = 1\n"
    (finding,) = formatting(None, head)
    assert (finding.line, finding.end_line) == (1, 3)


def test_old_formatting_suppressions_on_unchanged_lines_are_not_named() -> None:
    base = "# fmt: off\nA = [1,2]\n# fmt: on\nB = [1,2]  # fmt: skip\nC = 1\n"
    head = "# fmt: off\nA = [1,2]\n# fmt: on\nB = [1,2]  # fmt: skip\nC = 2\n"
    assert formatting(base, head) == []


def test_an_edit_of_another_comment_keeps_an_old_skip_unnamed() -> None:
    base = "B = [1,2]  # fmt: skip  # type: ignore\n"
    assert formatting(base, "B = [1,2]  # fmt: skip\n") == []
    (finding,) = formatting(base, "B = [1,3]  # fmt: skip\n")
    assert finding.line == 1 and TURNS_OFF in finding.message


def test_moving_the_end_of_an_old_region_is_named() -> None:
    # The old lines B1..B3 stay; the change moves the `# fmt: on` below them.
    rows = "B1 = [1,2]\nB2 = [3,4]\nB3 = [5,6]\n"
    base = f"# fmt: off\nA = [1,2]\n# fmt: on\n{rows}C = 1\n"
    head = f"# fmt: off\nA = [1,2]\n{rows}# fmt: on\nC = 1\n"
    (finding,) = formatting(base, head)
    assert (finding.line, finding.end_line) == (1, 6)
    assert "`# fmt: on` on line 6" in finding.message


def test_a_fmt_comment_inside_a_string_is_not_a_suppression() -> None:
    head = 'HELP = """\n# fmt: off\n"""\nTEXT = "x  # fmt: skip"\n'
    assert formatting(None, head) == []


def test_a_look_alike_that_ruff_does_not_honour_is_not_named() -> None:
    assert formatting(None, "A = 1  # FMT: OFF\nB = 2  # fmt: off please\n") == []


def test_the_level_of_an_added_formatting_suppression_is_the_teams() -> None:
    head = "A = [1,2]  # fmt: skip\n"
    (finding,) = formatting(None, head, added_suppression="error")
    assert finding.level is Level.ERROR
    assert formatting(None, head, added_suppression="off") == []


def test_added_suppression_belongs_to_the_formatting_rule() -> None:
    with pytest.raises(ValidationError, match="added_suppression"):
        RuffParams.model_validate({"added_suppression": "error"})
    with pytest.raises(ValidationError):
        RuffParams.model_validate({"format": True, "added_suppression": "loud"})
