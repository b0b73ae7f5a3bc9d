"""Resolving a repository's config: files, extends, packs, overrides, fallbacks and errors."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from prgate.checks.paths import PathsParams
from prgate.config import Config
from prgate.config.loader import ConfigText, resolve_config
from prgate.errors import ConfigError, SourceError
from prgate.packs import DEFAULT_PACKS, load_builtin

CONFIG = ".github/prgate.yml"


class FakeFetcher:
    """Files by (repo, path); repositories in ``unreachable`` raise like a failed fetch."""

    def __init__(
        self,
        files: Mapping[tuple[str | None, str], str],
        *,
        unreachable: frozenset[str] = frozenset(),
    ) -> None:
        self.files = dict(files)
        self.unreachable = unreachable
        self.reads: list[tuple[str | None, str]] = []

    def read(self, repo: str | None, path: str) -> bytes | None:
        self.reads.append((repo, path))
        if repo in self.unreachable:
            raise SourceError(f"cannot read {repo}")
        text = self.files.get((repo, path))
        return text.encode() if text is not None else None


def resolve(files: Mapping[tuple[str | None, str], str], **kw: object) -> Config:
    return resolve_config(FakeFetcher(files), **kw)  # type: ignore[arg-type]


def error_of(files: Mapping[tuple[str | None, str], str], **kw: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        resolve(files, **kw)
    return info.value


def ids(config: Config) -> list[str]:
    return [r.id for r in config.rules]


def pack_ids(*names: str) -> list[str]:
    return [pr.rule.id for n in names for pr in load_builtin(n).rules]


def test_defaults_when_nothing_exists() -> None:
    config = resolve({})
    assert ids(config) == pack_ids(*DEFAULT_PACKS)
    assert config.source.startswith("defaults")
    assert config.autofix is True and config.llm is False


def test_defaults_fetch_only_the_base_repository() -> None:
    fetcher = FakeFetcher({})
    resolve_config(fetcher)
    assert {repo for repo, _ in fetcher.reads} == {None}


def test_packs_override_and_toggles() -> None:
    config = resolve(
        {
            (None, CONFIG): (
                "packs: [safe-zones]\n"
                "rules:\n"
                "  paths/forbidden:\n"
                "    level: warning\n"
                "    paths: ['secret/**']\n"
                "  paths/protected: {level: 'off'}\n"
                "autofix: {enabled: false}\n"
                "llm: {enabled: true}\n"
            )
        }
    )
    assert ids(config) == pack_ids("safe-zones")
    forbidden = config.rule("paths/forbidden")
    assert forbidden is not None and forbidden.level == "warning"
    assert isinstance(forbidden.params, PathsParams)
    assert list(forbidden.params.paths) == ["secret/**"]
    protected = config.rule("paths/protected")
    assert protected is not None and not protected.enabled
    assert (config.autofix, config.llm) == (False, True)
    assert config.source == CONFIG


def test_an_override_keeps_the_parameters_it_does_not_set() -> None:
    packed = load_builtin("safe-zones").rule("paths/protected")
    assert packed is not None
    config = resolve(
        {(None, CONFIG): "packs: [safe-zones]\nrules:\n  paths/protected: {level: notice}\n"}
    )
    rule = config.rule("paths/protected")
    assert rule is not None and rule.level == "notice"
    assert rule.params == packed.rule.params


def test_inline_rule_of_the_repository() -> None:
    config = resolve(
        {
            (None, CONFIG): (
                "packs: []\n"
                "rules:\n"
                "  team/no-todo:\n"
                "    check: pattern\n"
                "    level: warning\n"
                "    pattern: 'TODO(?:[^(]|$)'\n"
                "    paths: ['**/*.py']\n"
                "    title: TODO without a ticket\n"
                "    why: Nobody will find it again.\n"
                "    fix: Link a ticket.\n"
            )
        }
    )
    assert ids(config) == ["team/no-todo"]
    rule = config.rules[0]
    assert (rule.check, rule.level, rule.title) == ("pattern", "warning", "TODO without a ticket")


def test_a_repository_pack() -> None:
    pack = (
        "pack: team\n"
        "description: Our own rules.\n"
        "rules:\n"
        "  team/no-print:\n"
        "    check: pattern\n"
        "    level: error\n"
        "    pattern: 'print\\('\n"
        "    title: A print call\n"
        "    why: It clutters the logs.\n"
        "    fix: Use the logger.\n"
    )
    config = resolve(
        {
            (None, CONFIG): "packs: [team]\nrules:\n  team/no-print: {level: notice}\n",
            (None, ".github/prgate/team.yml"): pack,
        }
    )
    assert ids(config) == ["team/no-print"]
    assert config.rules[0].level == "notice"


def test_unknown_key_names_it_and_suggests_the_nearest() -> None:
    err = error_of(
        {(None, CONFIG): "packs: [safe-zones]\nrules:\n  paths/forbidden:\n    levle: error\n"}
    )
    assert err.reason == "`levle` is not a setting here. Did you mean `level`?"
    assert (err.file, err.line, err.column) == (CONFIG, 4, 5)
    assert err.hint is not None and "`paths`" in err.hint


def test_unknown_top_level_key() -> None:
    err = error_of({(None, CONFIG): "pack: [hygiene]\n"})
    assert err.reason == "`pack` is not a setting here. Did you mean `packs`?"
    assert (err.line, err.column) == (1, 1)


def test_unquoted_off_turns_a_rule_off() -> None:
    # YAML 1.1 reads a bare `off` as false; the contract's example writes it unquoted.
    config = resolve({(None, CONFIG): "packs: [hygiene]\nrules:\n  size/limit:\n    level: off\n"})
    rule = config.rule("size/limit")
    assert rule is not None and rule.level == "off" and not rule.enabled


def test_bad_level_is_located_at_the_value() -> None:
    err = error_of(
        {(None, CONFIG): "packs: [safe-zones]\nrules:\n  paths/forbidden:\n    level: fatal\n"}
    )
    assert "`'fatal'` is not a valid `level`" in err.reason
    assert "'error'" in err.reason and "'off'" in err.reason
    assert (err.line, err.column) == (4, 12)


def test_bad_pattern_parameters() -> None:
    err = error_of(
        {
            (None, CONFIG): (
                "packs: []\n"
                "rules:\n"
                "  team/x:\n"
                "    check: pattern\n"
                "    level: error\n"
                "    pattern: '(?<=a)b'\n"
                "    title: t\n"
                "    why: w\n"
                "    fix: f\n"
            )
        }
    )
    assert err.reason.startswith("`pattern`: ") and "RE2" in err.reason
    assert (err.line, err.column) == (6, 14)


def test_inline_rule_with_missing_texts_and_unknown_kind() -> None:
    err = error_of({(None, CONFIG): "packs: []\nrules:\n  team/x: {check: patern, level: error}\n"})
    assert err.reason == "`patern` is not a check kind. Did you mean `pattern`?"
    err = error_of(
        {
            (
                None,
                CONFIG,
            ): "packs: []\nrules:\n  team/x: {check: pattern, level: error, pattern: x}\n"
        }
    )
    messages = [e.describe() for e in getattr(err, "errors", [err])]
    assert any("`title` is missing" in m for m in messages)
    assert any("`why` is missing" in m for m in messages)


def test_rule_id_must_be_group_and_name() -> None:
    err = error_of({(None, CONFIG): "packs: []\nrules:\n  notodo: {check: pattern}\n"})
    assert "not a valid rule id" in err.reason and "team/no-todo" in (err.hint or "")
    assert (err.line, err.column) == (3, 3)


def test_override_of_unknown_rule_names_the_packs() -> None:
    err = error_of({(None, CONFIG): "packs: [hygiene]\nrules:\n  team/nothing: {level: error}\n"})
    assert "`team/nothing` is not a rule of the packs in use (`hygiene`)" in err.reason
    assert err.hint is not None and "`safe-zones`" in err.hint and ".github/prgate/" in err.hint
    assert (err.line, err.column) == (3, 3)


def test_override_of_a_rule_in_a_pack_not_enabled_says_which_pack() -> None:
    err = error_of(
        {(None, CONFIG): "packs: [hygiene]\nrules:\n  paths/forbidden: {level: error}\n"}
    )
    assert err.hint == "It is a rule of the pack `safe-zones`: add `safe-zones` to `packs`."


def test_an_inline_rule_cannot_reuse_a_packed_id() -> None:
    err = error_of(
        {
            (None, CONFIG): (
                "packs: [safe-zones]\nrules:\n  paths/forbidden:\n"
                "    {check: paths, level: error, title: t, why: w, fix: f, paths: [x]}\n"
            )
        }
    )
    assert "already a rule" in err.reason and "re-tuned" in err.reason


def test_unknown_pack_suggests_and_lists() -> None:
    err = error_of({(None, CONFIG): "packs: [hygeine]\n"})
    assert err.reason == "There is no pack `hygeine`. Did you mean `hygiene`?"
    assert (err.line, err.column) == (1, 9)
    assert err.hint is not None and ".github/prgate/hygeine.yml" in err.hint


def test_extends_merges_parent_first() -> None:
    config = resolve(
        {
            (None, CONFIG): (
                "extends: my-org/.github\npacks: [safe-zones]\n"
                "rules:\n  size/limit: {max_files: 3}\n"
            ),
            ("my-org/.github", CONFIG): (
                "packs: [hygiene]\nrules:\n  size/limit: {level: warning, max_files: 9}\n"
                "llm: {enabled: true}\n"
            ),
        }
    )
    assert ids(config) == pack_ids("hygiene", "safe-zones")
    limit = config.rule("size/limit")
    assert limit is not None and limit.level == "warning"
    assert limit.params.model_dump()["max_files"] == 3
    assert config.llm is True
    assert config.source == f"my-org/.github:{CONFIG} + {CONFIG}"


def test_extends_loop_is_detected() -> None:
    err = error_of(
        {
            (None, CONFIG): "extends: a/.github\n",
            ("a/.github", CONFIG): "extends: b/.github\n",
            ("b/.github", CONFIG): "extends: a/.github\n",
        }
    )
    assert "loop" in err.reason and "a/.github → b/.github → a/.github" in err.reason
    assert err.file == f"b/.github:{CONFIG}" and err.line == 1


def test_extends_depth_is_limited() -> None:
    files = {(None, CONFIG): "extends: o/r0\n"}
    for i in range(10):
        files[(f"o/r{i}", CONFIG)] = f"extends: o/r{i + 1}\n"
    assert "more than" in error_of(files).reason


def test_extends_unreachable_explains_what_and_how() -> None:
    fetcher = FakeFetcher(
        {(None, CONFIG): "extends: my-org/.github\n"}, unreachable=frozenset({"my-org/.github"})
    )
    with pytest.raises(ConfigError) as info:
        resolve_config(fetcher)
    err = info.value
    assert "`extends: my-org/.github`" in err.reason and "could not read it" in err.reason
    assert (err.file, err.line, err.column) == (CONFIG, 1, 10)


def test_extends_to_a_repository_without_config() -> None:
    err = error_of({(None, CONFIG): "extends: my-org/.github\n"})
    assert "no .github/prgate.yml" in err.reason


def test_fallback_to_the_org_config() -> None:
    config = resolve({("acme/.github", CONFIG): "packs: [safe-zones]\n"}, org="acme")
    assert ids(config) == pack_ids("safe-zones")
    assert config.source == f"acme/.github:{CONFIG}"
    assert config.notices and "acme/.github" in config.notices[0]


def test_org_packs_are_read_from_the_org_repository() -> None:
    pack = (
        "pack: org-rules\ndescription: d\nrules:\n  org/x:\n    check: pattern\n    level: error\n"
        "    pattern: x\n    title: t\n    why: w\n    fix: f\n"
    )
    config = resolve(
        {
            ("acme/.github", CONFIG): "packs: [org-rules]\n",
            ("acme/.github", ".github/prgate/org-rules.yml"): pack,
            (None, ".github/prgate/org-rules.yml"): "this must not be read",
        },
        org="acme",
    )
    assert ids(config) == ["org/x"]
    assert config.rules[0].origin.startswith("pack org-rules")


def test_the_repository_config_wins_over_the_org() -> None:
    config = resolve(
        {(None, CONFIG): "packs: [hygiene]\n", ("acme/.github", CONFIG): "packs: [safe-zones]\n"},
        org="acme",
    )
    assert ids(config) == pack_ids("hygiene")


def test_org_unreachable_is_a_config_error() -> None:
    fetcher = FakeFetcher({}, unreachable=frozenset({"acme/.github"}))
    with pytest.raises(ConfigError) as info:
        resolve_config(fetcher, org="acme")
    assert "acme/.github" in info.value.reason


def test_override_text_replaces_the_repository_config() -> None:
    config = resolve(
        {(None, CONFIG): "packs: [hygiene]\n"},
        override=ConfigText(file="mine.yml", data=b"packs: [safe-zones]\n"),
    )
    assert ids(config) == pack_ids("safe-zones")
    assert config.source == "mine.yml"


def test_several_errors_are_reported_together() -> None:
    err = error_of(
        {
            (
                None,
                CONFIG,
            ): "packs: [safe-zones]\nrules:\n  paths/forbidden: {levle: error}\n  paths/protected: {level: x}\n"
        }
    )
    lines = str(err).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{CONFIG}:3:") and lines[1].startswith(f"{CONFIG}:4:")


def test_tool_settings_files_are_not_read_by_config_loading() -> None:
    # A broken ruff.toml is the ruff rules' business (a located config error when they run),
    # not a reason to refuse prgate's own config.
    fetcher = FakeFetcher({(None, "ruff.toml"): "line-length = \n"})
    config = resolve_config(fetcher)  # type: ignore[arg-type]
    assert ids(config) == pack_ids(*DEFAULT_PACKS)
    assert {path for _, path in fetcher.reads}.isdisjoint({"ruff.toml", "pyproject.toml"})


def test_empty_config_file_means_defaults() -> None:
    assert ids(resolve({(None, CONFIG): "# nothing yet\n"})) == pack_ids(*DEFAULT_PACKS)


def test_config_that_is_not_a_mapping() -> None:
    err = error_of({(None, CONFIG): "- hygiene\n"})
    assert "mapping" in err.reason and err.line == 1


def test_an_empty_rules_section_is_allowed() -> None:
    assert ids(resolve({(None, CONFIG): "packs: [hygiene]\nrules:\n  # none yet\n"})) == pack_ids(
        "hygiene"
    )
