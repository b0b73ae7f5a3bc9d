"""Rule packs: every built-in rule's cases pass, pack files are checked, the reference is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from prgate import packs
from prgate.config.messages import all_errors
from prgate.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
CONTRACT_RULES = {
    "python-style": {"style/ruff-lint", "style/ruff-format"},
    "safe-zones": {"paths/forbidden", "paths/protected"},
    "feature-flags": {"flags/guarded", "flags/registered"},
    "hygiene": {"content/secrets", "content/debug", "size/limit", "tests/required"},
}


def _builtin_cases() -> list[object]:
    """One pytest param per (pack, rule, case), so that a failure is named; a pack that does
    not load is one failing param of its own."""
    params: list[object] = []
    for name in packs.builtin_names():
        try:
            pack = packs.load_builtin(name)
        except ConfigError as exc:
            params.append(pytest.param(name, None, None, str(exc), id=f"{name}-does-not-load"))
            continue
        for pr in pack.rules:
            for i, case in enumerate(pr.cases):
                params.append(
                    pytest.param(name, pr.rule.id, i, None, id=f"{pr.rule.id}: {case.name}")
                )
    if not params:
        params.append(pytest.param("", None, None, "no built-in packs found", id="no-packs"))
    return params


@pytest.mark.parametrize(("pack_name", "rule_id", "index", "load_error"), _builtin_cases())
def test_builtin_rule_case(
    pack_name: str, rule_id: str | None, index: int | None, load_error: str | None
) -> None:
    assert load_error is None, load_error
    assert rule_id is not None and index is not None
    pack = packs.load_builtin(pack_name)
    pack_rule = pack.rule(rule_id)
    assert pack_rule is not None
    result = packs.run_case(pack, pack_rule, pack_rule.cases[index])
    assert result.passed, result.describe()


def test_the_contracts_packs_and_rules_are_built_in() -> None:
    assert packs.builtin_names()[:4] == list(CONTRACT_RULES)
    for name, rule_ids in CONTRACT_RULES.items():
        assert {pr.rule.id for pr in packs.load_builtin(name).rules} == rule_ids


def test_every_builtin_rule_has_flagged_and_clean_cases() -> None:
    # Loading a built-in pack already refuses a rule without both; this checks it stays so.
    for name in packs.builtin_names():
        for pr in packs.load_builtin(name).rules:
            assert any(c.expect for c in pr.cases), pr.rule.id
            assert any(not c.expect for c in pr.cases), pr.rule.id


def test_builtin_dir_is_the_repository_rules_folder_in_a_checkout() -> None:
    assert packs.builtin_dir().resolve() == (REPO / "rules").resolve()


def test_readme_rule_reference_is_current() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = packs.reference_section(readme)
    assert section is not None, (
        f"README.md has no {packs.REFERENCE_START} ... {packs.REFERENCE_END} section; add the two "
        f"markers and run `{packs.REFERENCE_COMMAND}`"
    )
    assert section == packs.reference_markdown(), (
        f"README.md's rule reference is out of date: run `{packs.REFERENCE_COMMAND}`"
    )


def test_reference_lists_every_rule_with_its_texts() -> None:
    text = packs.reference_markdown()
    for name in packs.builtin_names():
        assert f"### Pack `{name}`" in text
        for pr in packs.load_builtin(name).rules:
            assert f"#### `{pr.rule.id}`: {pr.rule.title}" in text
            assert pr.rule.why in text and pr.rule.fix in text
    assert "| `paths` |" in text


def test_replace_reference_rewrites_only_the_section() -> None:
    readme = f"intro\n{packs.REFERENCE_START}\nold\n{packs.REFERENCE_END}\noutro\n"
    new = packs.replace_reference(readme, "new\n")
    assert new == f"intro\n{packs.REFERENCE_START}\nnew\n{packs.REFERENCE_END}\noutro\n"
    assert packs.reference_section(new) == "new\n"
    with pytest.raises(ValueError):
        packs.replace_reference("no markers", "x")


def test_reference_command_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    target.write_text(f"# x\n{packs.REFERENCE_START}\n{packs.REFERENCE_END}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "prgate.packs", "--reference", "--write", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert packs.reference_section(target.read_text(encoding="utf-8")) == packs.reference_markdown()


# --- a repository's own packs ----------------------------------------------------------------

RULE = """\
  team/no-todo:
    check: pattern
    level: warning
    pattern: 'TODO'
    title: A TODO without a ticket
    why: Nobody will find it again.
    fix: Link a ticket or do it now.
"""


def write_pack(folder: Path, cases: str, *, name: str = "team") -> Path:
    path = folder / f"{name}.yml"
    path.write_text(f"pack: {name}\ndescription: Our rules.\nrules:\n{RULE}{cases}", "utf-8")
    return path


GOOD_CASES = """\
    cases:
      - name: a TODO added
        files: {app/a.py: {base: "x = 1\\n", head: "x = 1\\n# TODO later\\n"}}
        expect: [{path: app/a.py, line: 2}]
      - name: nothing to see
        files: {app/a.py: {head: "x = 1\\n"}}
        expect: []
"""


def test_repo_pack_cases_pass(tmp_path: Path) -> None:
    pack = packs.load_pack_file(write_pack(tmp_path, GOOD_CASES))
    results = packs.run_cases(pack)
    assert [(r.case, r.passed) for r in results] == [
        ("a TODO added", True),
        ("nothing to see", True),
    ]
    assert not pack.warnings


def test_wrong_expectations_fail_with_a_readable_diff(tmp_path: Path) -> None:
    cases = """\
    cases:
      - name: wrong line
        files: {app/a.py: {base: "x = 1\\n", head: "x = 1\\n# TODO later\\n"}}
        expect: [{path: app/a.py, line: 1}]
      - name: flags what should pass
        files: {app/a.py: {head: "# TODO\\n"}}
        expect: []
"""
    results = packs.run_cases(packs.load_pack_file(write_pack(tmp_path, cases)))
    assert [r.passed for r in results] == [False, False]
    assert results[0].problems == (
        "expected a finding at app/a.py:1, but got none",
        results[0].problems[1],
    )
    assert results[0].problems[1].startswith("unexpected finding at app/a.py:2: ")
    assert results[1].problems[0].startswith("unexpected finding at app/a.py:1")
    assert "FAIL team/no-todo: wrong line" in results[0].describe()
    assert f"{tmp_path / 'team.yml'}:" in results[0].where


def test_case_params_override_the_rule(tmp_path: Path) -> None:
    cases = """\
    cases:
      - name: another pattern
        files: {app/a.py: {head: "FIXME\\nTODO\\n"}}
        params: {pattern: FIXME}
        expect: [{path: app/a.py, line: 1}]
      - name: clean
        files: {app/a.py: {head: "x\\n"}}
        expect: []
"""
    results = packs.run_cases(packs.load_pack_file(write_pack(tmp_path, cases)))
    assert all(r.passed for r in results), [r.describe() for r in results]


def test_a_repo_pack_rule_without_cases_is_a_warning(tmp_path: Path) -> None:
    pack = packs.load_pack_file(write_pack(tmp_path, ""))
    assert [w.reason for w in pack.warnings] == [
        "The rule `team/no-todo` lacks a case it must flag (with findings under `expect`) "
        "and a case it must pass (with `expect: []`)."
    ]


def test_a_builtin_pack_rule_without_cases_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        packs.load_pack_file(write_pack(tmp_path, ""), builtin=True)
    assert "lacks a case it must flag" in info.value.reason


def test_pack_name_must_match_its_file(tmp_path: Path) -> None:
    path = write_pack(tmp_path, GOOD_CASES)
    other = path.with_name("other.yml")
    path.rename(other)
    with pytest.raises(ConfigError) as info:
        packs.load_pack_file(other)
    assert "named `team` but its file is named `other`" in info.value.reason
    assert info.value.line == 1


def test_bad_case_is_located(tmp_path: Path) -> None:
    cases = """\
    cases:
      - name: typo
        files: {app/a.py: {head: "x\\n"}}
        expcet: []
"""
    with pytest.raises(ConfigError) as info:
        packs.load_pack_file(write_pack(tmp_path, cases))
    errors = all_errors(info.value)
    assert errors[0].reason == "`expcet` is not a setting here. Did you mean `expect`?"
    assert (errors[0].line, errors[0].column) == (14, 9)
    assert len(errors) == 1


def test_load_targets_by_name_file_and_folder(tmp_path: Path) -> None:
    write_pack(tmp_path, GOOD_CASES)
    write_pack(tmp_path, GOOD_CASES.replace("team", "x"), name="second")
    assert [p.name for p in packs.load_targets([], cwd=tmp_path)] == packs.builtin_names()
    assert [p.name for p in packs.load_targets(["hygiene"], cwd=tmp_path)] == ["hygiene"]
    assert [p.name for p in packs.load_targets(["team.yml"], cwd=tmp_path)] == ["team"]
    assert [p.name for p in packs.load_targets(["."], cwd=tmp_path)] == ["second", "team"]
    with pytest.raises(ConfigError) as info:
        packs.load_targets(["nope"], cwd=tmp_path)
    assert "`nope` is neither" in info.value.reason


def test_load_targets_finds_a_repo_pack_by_name(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "prgate"
    folder.mkdir(parents=True)
    write_pack(folder, GOOD_CASES)
    assert [p.file for p in packs.load_targets(["team"], cwd=tmp_path)] == [
        str(folder / "team.yml")
    ]


FORMAT_PACK = """\
pack: fmt
description: Layout.
rules:
  team/format:
    check: ruff
    format: true
    level: warning
    title: Not formatted
    why: Noise in reviews.
    fix: Run prgate fix.
    cases:
      - name: badly laid out
        files: {app/a.py: {head: "x=1\\n"}}
        expect: [{path: app/a.py, line: 1}]
        fixed: {app/a.py: "x  =  1\\n"}
      - name: already fine
        files: {app/a.py: {head: "x = 1\\n"}}
        expect: []
        fixed: {}
"""


def test_fixed_contents_are_compared(tmp_path: Path) -> None:
    path = tmp_path / "fmt.yml"
    path.write_text(FORMAT_PACK, encoding="utf-8")
    bad, fine = packs.run_cases(packs.load_pack_file(path))
    assert fine.passed, fine.describe()
    assert not bad.passed
    assert len(bad.problems) == 1
    assert bad.problems[0].startswith("the fix of app/a.py differs from `fixed`:")
    assert "-x  =  1" in bad.problems[0] and "+x = 1" in bad.problems[0]


def test_run_pack_targets_and_its_report(tmp_path: Path) -> None:
    write_pack(tmp_path, GOOD_CASES)
    write_pack(tmp_path, "", name="bare")
    (tmp_path / "bare.yml").write_text(
        (tmp_path / "bare.yml").read_text("utf-8").replace("team/", "bare/"), "utf-8"
    )
    results = packs.run_pack_targets(["bare.yml", "team.yml"], cwd=tmp_path)
    assert [(r.rule, r.passed, r.warning) for r in results] == [
        ("bare/no-todo", True, True),
        ("team/no-todo", True, False),
        ("team/no-todo", True, False),
    ]
    text = packs.format_case_results(results)
    assert "WARN bare/no-todo: test cases" in text
    assert "PASS team/no-todo: a TODO added" in text
    assert text.endswith("2 case(s) passed, 0 failed, 1 warning(s).\n")
