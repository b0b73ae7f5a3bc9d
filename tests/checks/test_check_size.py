"""The ``size`` check kind: one finding for a pull request past the team's limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prgate.checks import CheckContext, Rule
from prgate.checks.size import DEFAULT_EXCLUDE, KIND, SizeParams
from prgate.model import ChangeSet, Finding
from prgate.sources.memory import FileSides, changeset_from_files


def _rule(**params: object) -> Rule:
    return Rule(
        id="size/limit",
        check="size",
        level="warning",
        title="too large",
        why="why",
        fix="fix",
        params=KIND.params.model_validate(params),
    )


def _run(changeset: ChangeSet, rule: Rule) -> list[Finding]:
    return KIND.run(CheckContext(changeset=changeset), [rule]).findings


def _lines(n: int, prefix: str = "x") -> str:
    return "".join(f"{prefix}{i} = {i}\n" for i in range(n))


def test_defaults_are_documented_values() -> None:
    params = SizeParams()
    assert (params.max_files, params.max_lines) == (50, 1000)
    assert params.exclude == DEFAULT_EXCLUDE


def test_too_many_files_is_one_pr_level_finding_with_numbers() -> None:
    cs = changeset_from_files(
        {f"app/m{i}.py": FileSides(base=None, head="a = 1\n") for i in range(4)}
    )
    [finding] = _run(cs, _rule(max_files=3))
    assert (finding.path, finding.line, finding.end_line) == (None, None, None)
    assert "4 files" in finding.message and "3 files" in finding.message
    assert "4 lines" in finding.message
    assert "Split" in finding.message


def test_at_the_limit_passes() -> None:
    cs = changeset_from_files({f"m{i}.py": FileSides(base=None, head="a = 1\n") for i in range(3)})
    assert _run(cs, _rule(max_files=3, max_lines=3)) == []


def test_lines_count_added_plus_removed_including_deleted_files() -> None:
    cs = changeset_from_files(
        {
            "a.py": FileSides(base=_lines(3), head=_lines(3, "y")),  # 3 removed + 3 added
            "gone.py": FileSides(base=_lines(5), head=None),  # 5 removed
        }
    )
    [finding] = _run(cs, _rule(max_lines=10))
    assert "11 lines" in finding.message and "1,000" not in finding.message
    assert _run(cs, _rule(max_lines=11)) == []


def test_large_numbers_are_grouped() -> None:
    cs = changeset_from_files({"big.py": FileSides(base=None, head=_lines(1200))})
    [finding] = _run(cs, _rule())
    assert "1,200 lines" in finding.message and "1,000 changed lines" in finding.message


def test_lock_and_generated_files_are_not_counted_by_default() -> None:
    cs = changeset_from_files(
        {
            "app.py": FileSides(base="a = 1\n", head="a = 2\n"),
            "package-lock.json": FileSides(base=None, head=_lines(5000)),
            "poetry.lock": FileSides(base=None, head=_lines(5000)),
            "web/vendor.min.js": FileSides(base=None, head=_lines(5000)),
        }
    )
    assert _run(cs, _rule(max_files=1, max_lines=2)) == []
    [finding] = _run(cs, _rule(max_files=1, max_lines=2, exclude=[]))
    assert "4 files" in finding.message


def test_excluded_files_are_mentioned_when_over() -> None:
    cs = changeset_from_files(
        {
            "a.py": FileSides(base=None, head=_lines(10)),
            "uv.lock": FileSides(base=None, head=_lines(10)),
        }
    )
    [finding] = _run(cs, _rule(max_lines=5))
    assert "10 lines" in finding.message
    assert "1 lock or generated file was not counted" in finding.message


def test_binary_files_count_as_files_without_lines() -> None:
    cs = changeset_from_files(
        {f"img{i}.png": FileSides(base=None, head=b"\x89PNG\0" * 100) for i in range(3)}
    )
    [finding] = _run(cs, _rule(max_files=2))
    assert "3 files" in finding.message and "0 lines" in finding.message


def test_null_turns_a_limit_off() -> None:
    cs = changeset_from_files({f"m{i}.py": FileSides(base=None, head=_lines(20)) for i in range(9)})
    assert _run(cs, _rule(max_files=None, max_lines=None)) == []
    [finding] = _run(cs, _rule(max_files=None, max_lines=10))
    assert "the team's limit is 10 changed lines." in finding.message


def test_empty_change_passes() -> None:
    assert _run(changeset_from_files({}), _rule(max_files=1, max_lines=1)) == []


@pytest.mark.parametrize("params", [{"max_files": 0}, {"max_lines": -1}, {"limit": 3}])
def test_bad_params_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SizeParams.model_validate(params)
