"""The ``llm`` check kind with small fake reviewers: what it keeps, and how it fails closed."""

from __future__ import annotations

import pytest
from llm.helpers import llm_rule
from pydantic import ValidationError

from prgate.checks import CheckContext, CheckResult, Rule, registry
from prgate.llm.params import LlmParams
from prgate.llm.reviewer import KIND, REVIEWER_OFF
from prgate.model import ChangeSet, Level
from prgate.sources.memory import FileSides, changeset_from_files


def rule(rule_id: str = "team/ai", level: str = "error") -> Rule:
    return llm_rule(
        rule_id,
        level,
        instructions="Look for the thing.",
        title="Something the team cares about",
        why="Because.",
        fix="Do the other thing.",
    )


def change() -> ChangeSet:
    return changeset_from_files({"a.py": FileSides(base=None, head="x = 1\ny = 2\n")})


class RecordingReviewer:
    """Answers with a prepared result and records what it was asked."""

    def __init__(self, answer: CheckResult) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def review(self, rule: Rule, changeset: ChangeSet) -> CheckResult:
        self.asked.append(rule.id)
        return self.answer


class BrokenReviewer:
    def review(self, rule: Rule, changeset: ChangeSet) -> CheckResult:
        raise RuntimeError("sk-ant-secret-in-an-exception")


def test_the_kind_is_registered_with_its_params():
    assert registry()["llm"] is KIND
    assert KIND.params is LlmParams


def test_without_a_reviewer_every_rule_is_skipped_not_passed():
    rules = [rule("team/one"), rule("team/two", "warning")]

    result = KIND.run(CheckContext(changeset=change()), rules)

    assert result.findings == []
    assert [(s.rule, s.path, s.reason) for s in result.skipped] == [
        ("team/one", None, REVIEWER_OFF),
        ("team/two", None, REVIEWER_OFF),
    ]


def test_each_rule_is_reviewed_and_only_its_own_findings_kept_at_most_at_its_level():
    mine = rule("team/ai", "warning")
    other = rule("style/ruff-lint")
    answer = CheckResult(
        findings=[
            mine.finding(path="a.py", line=1, message="kept", level=Level.ERROR, fixable=True),
            mine.finding(path="a.py", line=2, message="kept too", level=Level.NOTICE),
            other.finding(path="a.py", line=1, message="another rule's: dropped"),
        ],
        skipped=[mine.skipped("partly read", path="a.py"), other.skipped("dropped")],
    )
    fake = RecordingReviewer(answer)

    result = KIND.run(CheckContext(changeset=change(), reviewer=fake), [mine])

    assert fake.asked == ["team/ai"]
    assert [(f.rule, f.level, f.message, f.fixable) for f in result.findings] == [
        ("team/ai", Level.WARNING, "kept", False),
        ("team/ai", Level.NOTICE, "kept too", False),
    ]
    assert [(s.rule, s.reason) for s in result.skipped] == [("team/ai", "partly read")]


@pytest.mark.parametrize(
    ("level", "expected", "words"),
    [
        ("error", Level.ERROR, "cannot pass"),
        ("warning", Level.NOTICE, "does not block merging"),
        ("notice", Level.NOTICE, "does not block merging"),
    ],
)
def test_a_reviewer_that_breaks_fails_closed(level, expected, words):
    result = KIND.run(
        CheckContext(changeset=change(), reviewer=BrokenReviewer()), [rule(level=level)]
    )

    [finding] = result.findings
    assert finding.level is expected
    assert (finding.rule, finding.path, finding.line) == ("team/ai", None, None)
    assert words in finding.message
    assert "RuntimeError" in finding.message
    assert "sk-ant-secret" not in repr(finding)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"instructions": ""},
        {"instructions": "x", "paths": ["#comment"]},
        {"instructions": "x", "paths": [""]},
        {"instructions": "x", "max_chars": 10_000_000},
        {"instructions": "x", "max_files": 0},
        {"instructions": "x", "model": "claude-whatever"},
    ],
)
def test_bad_params_are_refused(params):
    with pytest.raises(ValidationError):
        LlmParams.model_validate(params)


def test_params_default_to_every_file_within_a_budget():
    params = LlmParams.model_validate({"instructions": "Look for the thing."})

    assert params.paths == ("*",)
    assert 1 <= params.max_files <= 500
    assert 1_000 <= params.max_chars <= 400_000
    with pytest.raises(ValidationError):
        params.instructions = "changed"  # type: ignore[misc]


def test_a_rule_of_kind_llm_defaults_to_warning_in_a_config(tmp_path):
    from prgate.config.loader import load_config_file

    config_file = tmp_path / ".github" / "prgate.yml"
    config_file.parent.mkdir()
    config_file.write_text(
        "packs: []\n"
        "rules:\n"
        "  team/ai-sql:\n"
        "    check: llm\n"
        "    instructions: Flag SQL built from strings.\n"
        "    paths: ['app/**']\n"
        "    title: SQL from strings\n"
        "    why: Injection.\n"
        "    fix: Use parameters.\n"
    )

    config = load_config_file(config_file)

    [found] = config.rules
    assert (found.id, found.check, found.level) == ("team/ai-sql", "llm", "warning")
    assert isinstance(found.params, LlmParams) and found.params.paths == ("app/**",)
