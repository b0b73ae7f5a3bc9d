"""`prgate config validate`: a config file and every pack it names, from the folder it is in."""

from __future__ import annotations

from pathlib import Path

from prgate.config.loader import load_config_file, repository_root, validate_file

PACK = """\
pack: team
description: Our rules.
rules:
  team/no-todo:
    check: pattern
    level: warning
    pattern: TODO
    title: A TODO
    why: Forgotten.
    fix: Do it.
"""


def make_repo(tmp_path: Path, config: str, pack: str | None = PACK) -> Path:
    (tmp_path / ".git").mkdir()
    folder = tmp_path / ".github" / "prgate"
    folder.mkdir(parents=True)
    if pack is not None:
        (folder / "team.yml").write_text(pack, encoding="utf-8")
    path = tmp_path / ".github" / "prgate.yml"
    path.write_text(config, encoding="utf-8")
    return path


def test_a_valid_config_with_a_repo_pack(tmp_path: Path) -> None:
    path = make_repo(tmp_path, "packs: [hygiene, team]\nrules:\n  team/no-todo: {level: error}\n")
    assert validate_file(path) == []
    config = load_config_file(path)
    rule = config.rule("team/no-todo")
    assert rule is not None and rule.level == "error"


def test_errors_in_a_named_pack_are_reported_in_the_pack(tmp_path: Path) -> None:
    path = make_repo(tmp_path, "packs: [team]\n", PACK.replace("level: warning", "level: loud"))
    errors = validate_file(path)
    assert len(errors) == 1
    assert errors[0].file == ".github/prgate/team.yml"
    assert (errors[0].line, errors[0].column) == (6, 12)


def test_a_missing_file(tmp_path: Path) -> None:
    errors = validate_file(tmp_path / "nope.yml")
    assert len(errors) == 1 and "cannot be read" in errors[0].reason


def test_extends_cannot_be_resolved_locally(tmp_path: Path) -> None:
    path = make_repo(tmp_path, "extends: acme/.github\n")
    [error] = validate_file(path)
    assert "no access to other repositories" in error.reason
    assert error.hint is not None and "--config" in error.hint


def test_repository_root(tmp_path: Path) -> None:
    path = make_repo(tmp_path, "packs: []\n")
    assert repository_root(path) == tmp_path.resolve()
    other = tmp_path / "conf" / "x.yml"
    other.parent.mkdir()
    other.write_text("packs: []\n", encoding="utf-8")
    assert repository_root(other) == tmp_path.resolve()


def test_local_fetcher_for_a_config_file_and_empty(tmp_path: Path) -> None:
    from prgate.config.fetchers import LocalFetcher
    from prgate.config.loader import resolve_config

    path = make_repo(tmp_path, "packs: [team]\n")
    (tmp_path / "ruff.toml").write_text("line-length = 80\n", encoding="utf-8")
    config = resolve_config(LocalFetcher.for_config_file(path))
    assert [r.id for r in config.rules] == ["team/no-todo"]
    assert config.source == str(path)
    empty = resolve_config(LocalFetcher.empty())
    assert empty.source.startswith("defaults")


def test_errors_of_a_named_config_file_carry_its_name(tmp_path: Path) -> None:
    from prgate.config.fetchers import LocalFetcher
    from prgate.config.loader import resolve_config
    from prgate.errors import ConfigError

    path = tmp_path / "mine.yml"
    path.write_text("packs: [team]\nrulez: {}\n", encoding="utf-8")
    try:
        resolve_config(LocalFetcher.for_config_file(path))
    except ConfigError as exc:
        assert (exc.file, exc.line, exc.reason) == (
            str(path),
            2,
            "`rulez` is not a setting here. Did you mean `rules`?",
        )
    else:
        raise AssertionError("the config should have been refused")


def _reasons(path: Path) -> list[str]:
    return [f"{e.line}:{e.reason}" for e in validate_file(path)]


def test_a_top_level_typo_does_not_hide_the_errors_below_it(tmp_path: Path) -> None:
    config = (
        "packz: [python-style]\n"
        "rules:\n"
        "  team/x:\n"
        "    check: content\n"
        "    level: error\n"
        "    title: t\n"
        "    why: w\n"
        "    fix: f\n"
        "llm: {enabled: maybe}\n"
    )
    reasons = _reasons(make_repo(tmp_path, config, pack=None))
    assert any(r.startswith("1:`packz` is not a setting") for r in reasons), reasons
    assert any(r.startswith("4:`content` is not a check kind") for r in reasons), reasons
    assert any(r.startswith("9:") for r in reasons), reasons
    # With `packs` itself in doubt, nothing is said about rules "not in the packs in use".
    assert not any("not a rule of the packs in use" in r for r in reasons), reasons


def test_unknown_rules_are_still_named_when_the_packs_are_not_in_doubt(tmp_path: Path) -> None:
    config = "packs: [hygiene]\nautofix: yes\nrules:\n  style/ruff-lint: {level: error}\n"
    reasons = _reasons(make_repo(tmp_path, config, pack=None))
    assert any(r.startswith("2:") and "autofix" in r for r in reasons), reasons
    assert any(r.startswith("4:") and "not a rule of the packs in use" in r for r in reasons)


def test_ruff_codes_that_ruff_does_not_know_or_removed_are_refused(tmp_path: Path) -> None:
    config = (
        "packs: [python-style]\n"
        "rules:\n"
        "  style/ruff-lint:\n"
        "    select: [E9, XYZ123, F401, E999, P, PLC04, PL, ALL]\n"
    )
    [reason] = _reasons(make_repo(tmp_path, config, pack=None))
    assert "'XYZ123' and 'P' are not ruff rule codes" in reason
    assert "'E999' was removed from ruff" in reason
    for fine in ("'E9'", "'F401'", "'PLC04'", "'PL'", "'ALL'"):
        assert fine not in reason


def test_a_removed_ruff_code_may_still_be_ignored(tmp_path: Path) -> None:
    config = "packs: [python-style]\nrules:\n  style/ruff-lint:\n    ignore: [E999, F401]\n"
    assert _reasons(make_repo(tmp_path, config, pack=None)) == []


def test_a_path_pattern_that_can_match_nothing_is_refused(tmp_path: Path) -> None:
    config = (
        "packs: [safe-zones]\nrules:\n  paths/forbidden:\n    paths: ['app/[a-z.py', 'ok/**']\n"
    )
    [reason] = _reasons(make_repo(tmp_path, config, pack=None))
    assert reason.startswith("4:") and "'app/[a-z.py' matches nothing" in reason
    assert "'\\['" in reason
