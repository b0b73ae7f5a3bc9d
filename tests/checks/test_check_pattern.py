"""The ``pattern`` check kind: a team's RE2 pattern on added lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from prgate.checks import CheckContext, Rule
from prgate.checks.pattern import KIND, PatternParams
from prgate.config.loader import validate_file
from prgate.model import ChangeSet, Finding
from prgate.sources.memory import FileSides, changeset_from_files


def _rule(**params: object) -> Rule:
    return Rule(
        id="team/no-todo",
        check="pattern",
        level="warning",
        title="TODO without a ticket",
        why="why",
        fix="fix",
        params=KIND.params.model_validate(params),
    )


def _run(changeset: ChangeSet, *rules: Rule) -> list[Finding]:
    result = KIND.run(CheckContext(changeset=changeset), list(rules))
    return result.findings


def test_reports_each_matching_added_line_with_column() -> None:
    cs = changeset_from_files(
        {
            "app/a.py": FileSides(
                base="x = 1  # TODO old\n",
                head="x = 1  # TODO old\ny = 2  # TODO later\nz = 3\n    TODO\n",
            )
        }
    )
    found = _run(cs, _rule(pattern=r"TODO(?:[^(]|$)"))
    assert [(f.path, f.line, f.end_line, f.column) for f in found] == [
        ("app/a.py", 2, 2, 10),
        ("app/a.py", 4, 4, 5),
    ]
    assert found[0].message == "Line 2 matches the rule's pattern."


def test_message_never_echoes_the_matched_text() -> None:
    cs = changeset_from_files({"a.txt": FileSides(base=None, head="token=hunter2-very-private\n")})
    found = _run(cs, _rule(pattern="token=.*"))
    assert len(found) == 1
    assert "hunter2" not in found[0].message


def test_custom_message() -> None:
    cs = changeset_from_files({"a.py": FileSides(base=None, head="TODO\n")})
    found = _run(cs, _rule(pattern="TODO", message="Link a ticket."))
    assert [f.message for f in found] == ["Link a ticket."]


def test_paths_and_exclude_select_files() -> None:
    cs = changeset_from_files(
        {
            "app/a.py": FileSides(base=None, head="TODO\n"),
            "app/gen/b.py": FileSides(base=None, head="TODO\n"),
            "README.md": FileSides(base=None, head="TODO\n"),
        }
    )
    found = _run(cs, _rule(pattern="TODO", paths=["*.py"], exclude=["gen/"]))
    assert [f.path for f in found] == ["app/a.py"]
    everything = _run(cs, _rule(pattern="TODO"))
    assert sorted(str(f.path) for f in everything) == ["README.md", "app/a.py", "app/gen/b.py"]


def test_unchanged_deleted_and_binary_files_are_not_searched() -> None:
    cs = changeset_from_files(
        {
            "gone.py": FileSides(base="TODO\n", head=None),
            "blob.bin": FileSides(base=None, head=b"TODO\0\1\2\3\n"),
            "same.py": FileSides(base="TODO\n", head="TODO\nok\n"),
        }
    )
    assert _run(cs, _rule(pattern="TODO")) == []


def test_text_with_a_stray_nul_byte_is_searched_whole() -> None:
    # Sources mark it binary and give no diff: every line of it counts as added.
    cs = changeset_from_files(
        {"notes.json": FileSides(base=b'{"a": 1}\n', head=b'{"a": 1,\n "b": "TODO\0"}\n')}
    )
    assert cs.files[0].is_binary and not cs.files[0].added
    assert [(f.line, f.column) for f in _run(cs, _rule(pattern="TODO"))] == [(2, 8)]


def test_non_utf8_lines_are_still_searched() -> None:
    cs = changeset_from_files({"legacy.txt": FileSides(base=None, head=b"caf\xe9 TODO\nok\n")})
    found = _run(cs, _rule(pattern="TODO"))
    assert [(f.line, f.column) for f in found] == [(1, 6)]


def test_columns_count_characters_not_bytes() -> None:
    cs = changeset_from_files({"u.py": FileSides(base=None, head="ééé = 'TODO'\n")})
    assert [f.column for f in _run(cs, _rule(pattern="TODO"))] == [8]


def test_crlf_line_endings_and_unusual_paths() -> None:
    cs = changeset_from_files(
        {
            "my dir/-x ü.py": FileSides(base=None, head="a\r\nb TODO\r\n"),
        }
    )
    found = _run(cs, _rule(pattern=r"TODO$"))
    assert [(f.path, f.line) for f in found] == [("my dir/-x ü.py", 2)]


def test_several_rules_each_report() -> None:
    cs = changeset_from_files({"a.py": FileSides(base=None, head="TODO FIXME\n")})
    other = Rule(
        id="team/no-fixme",
        check="pattern",
        level="error",
        title="t",
        why="w",
        fix="f",
        params=PatternParams(pattern="FIXME"),
    )
    found = _run(cs, _rule(pattern="TODO"), other)
    assert sorted((f.rule, f.column) for f in found) == [("team/no-fixme", 6), ("team/no-todo", 1)]


@pytest.mark.parametrize("pattern", ["(?<=a)b", r"(a)\1", "(unclosed", "a{2,1}"])
def test_pattern_re2_cannot_compile_is_refused_plainly(pattern: str) -> None:
    with pytest.raises(ValidationError) as info:
        PatternParams.model_validate({"pattern": pattern})
    message = str(info.value)
    assert "is not a valid RE2 regular expression" in message
    assert "(b'" not in message  # RE2's reason is decoded, not shown as bytes


def test_empty_pattern_is_refused() -> None:
    with pytest.raises(ValidationError, match="empty"):
        PatternParams.model_validate({"pattern": ""})


def test_pattern_is_required_and_globs_validated() -> None:
    with pytest.raises(ValidationError):
        PatternParams.model_validate({"paths": ["*.py"]})
    with pytest.raises(ValidationError, match="incomplete"):
        PatternParams.model_validate({"pattern": "x", "exclude": ["!"]})


def test_pathological_pattern_runs_in_linear_time() -> None:
    # A pattern that backtracking engines take exponential time on; RE2 does not backtrack.
    line = "a" * 5000 + "!"
    cs = changeset_from_files({"a.txt": FileSides(base=None, head=line + "\n")})
    assert _run(cs, _rule(pattern=r"^(a+)+$")) == []


def test_bad_pattern_in_a_config_file_names_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "prgate.yml"
    config.write_text(
        "rules:\n"
        "  team/no-lookbehind:\n"
        "    check: pattern\n"
        "    level: warning\n"
        "    pattern: '(?<=foo)bar'\n"
        "    title: t\n"
        "    why: w\n"
        "    fix: f\n",
        encoding="utf-8",
    )
    [error] = validate_file(config)
    assert error.line == 5
    assert "not a valid RE2 regular expression" in error.reason
