"""The ``overlap`` check kind: changed files that other open pull requests also change."""

from __future__ import annotations

from dataclasses import replace

from prgate.checks import CheckContext, CheckResult, Rule
from prgate.checks.overlap import KIND, NOT_KNOWN
from prgate.model import ChangeSet, OpenPull
from prgate.sources.memory import FileSides, changeset_from_files


def _rule(level: str = "notice", **params: object) -> Rule:
    return Rule(
        id="coord/overlap",
        check="overlap",
        level=level,  # type: ignore[arg-type]
        title="shared",
        why="why",
        fix="fix",
        params=KIND.params.model_validate(params),
    )


def _change(*others: OpenPull | None) -> ChangeSet:
    changeset = changeset_from_files(
        {
            "db/0002.sql": FileSides(base=None, head="ALTER TABLE t ADD c int;\n"),
            "app/core.py": FileSides(base="a = 1\n", head="a = 2\n"),
        }
    )
    if others == (None,):
        return changeset
    return replace(changeset, open_pulls=tuple(o for o in others if o is not None))


def _run(changeset: ChangeSet, rule: Rule) -> CheckResult:
    return KIND.run(CheckContext(changeset=changeset), [rule])


def test_each_shared_file_is_one_finding_naming_the_pull_requests() -> None:
    others = [
        OpenPull(7, "Add a `column`\nnow", ("db/0002.sql",)),
        OpenPull(3, "Core", ("app/core.py", "db/0002.sql")),
    ]
    found = _run(_change(*others), _rule()).findings
    assert [(f.path, f.line, f.level.value) for f in found] == [
        ("app/core.py", None, "notice"),
        ("db/0002.sql", None, "notice"),
    ]
    assert "#3 (`Core`) also changes this file" in found[0].message
    # Titles are quoted as data on one line, without backticks of their own.
    assert "#3 (`Core`) and #7 (`Add a 'column' now`) also change" in found[1].message


def test_only_files_matching_paths_are_reported_at_the_rule_s_level() -> None:
    others = [OpenPull(3, "Core", ("app/core.py", "db/0002.sql"))]
    found = _run(_change(*others), _rule("error", paths=["db/**"])).findings
    assert [(f.path, f.level.value) for f in found] == [("db/0002.sql", "error")]


def test_many_pull_requests_are_counted_past_three() -> None:
    others = [OpenPull(n, f"PR {n}", ("app/core.py",)) for n in range(1, 7)]
    (finding,) = _run(_change(*others), _rule()).findings
    assert "#1 (`PR 1`), #2 (`PR 2`), #3 (`PR 3`) and 3 more also change" in finding.message


def test_without_the_app_nothing_is_found_and_a_blocking_rule_says_it_did_not_judge() -> None:
    assert _run(_change(None), _rule()).findings == []
    assert _run(_change(None), _rule()).skipped == []
    blocking = _run(_change(None), _rule("error"))
    assert blocking.findings == []
    assert [s.reason for s in blocking.skipped] == [NOT_KNOWN]


def test_no_other_open_pull_request_finds_nothing() -> None:
    assert _run(_change(), _rule("error")) == CheckResult()
