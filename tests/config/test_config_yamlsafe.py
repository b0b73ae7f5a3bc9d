"""Safe YAML loading: plain data only, limits enforced before expansion, errors located."""

from __future__ import annotations

import pytest

from prgate.config.yamlsafe import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, load_yaml
from prgate.errors import ConfigError


def refused(text: str | bytes) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_yaml(text, file="f.yml")
    assert info.value.file == "f.yml"
    return info.value


def test_plain_data_is_read_with_merge_keys() -> None:
    doc = load_yaml("a: &x {p: 1}\nb:\n  <<: *x\n  q: [1, two]\n", file="f.yml")
    assert doc.data == {"a": {"p": 1}, "b": {"p": 1, "q": [1, "two"]}}


def test_an_empty_file_is_no_data() -> None:
    assert load_yaml("# nothing\n", file="f.yml").data is None


def test_syntax_error_has_line_and_column() -> None:
    err = refused("packs: [a, b\nrules: {}\n")
    assert (err.line, err.column) == (2, 6)
    assert "not valid YAML" in err.reason


def test_tab_indentation_gets_a_specific_hint() -> None:
    err = refused("rules:\n\tlevel: error\n")
    assert err.line == 2
    assert err.hint is not None and "tab" in err.hint


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a: !!python/object/apply:os.system ['true']\n", "!!python/object/apply:os.system"),
        ("a:\n  b: !foo [1]\n", "!foo"),
        ("a: !!str 1\n", "!!str"),
        ("a: ! x\n", "!"),
    ],
)
def test_explicit_tags_are_refused(text: str, shown: str) -> None:
    err = refused(text)
    assert f"`{shown}`" in err.reason
    assert err.line is not None and err.column is not None


def billion_laughs(levels: int) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * 10)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_before_expanding() -> None:
    # Nine levels would expand to a billion strings; the file is refused from its node graph.
    err = refused(billion_laughs(9))
    assert "expands to more than" in err.reason
    assert err.line is not None


def test_a_small_use_of_aliases_is_fine() -> None:
    doc = load_yaml(billion_laughs(3), file="f.yml")
    assert len(doc.data["l2"]) == 10
    assert doc.data["l2"][0][0] == ["lol"] * 10


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    assert "aliases" in refused(text).reason


def test_a_self_referencing_alias_is_refused() -> None:
    assert "refers to itself" in refused("a: &a [1, *a]\n").reason


def test_deep_nesting_is_refused() -> None:
    err = refused("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n")
    assert "levels deep" in err.reason


def test_very_deep_nesting_does_not_crash() -> None:
    assert refused("[" * 50_000).reason


def test_oversized_file_is_refused() -> None:
    err = refused(b"# padding\n" * (MAX_BYTES // 10 + 1))
    assert "KiB" in err.reason and err.line is None


def test_duplicate_keys_are_an_error_pointing_at_the_second() -> None:
    err = refused("rules:\n  a/b: {level: error}\n  a/b: {level: off}\n")
    assert (err.line, err.column) == (3, 3)
    assert "`a/b` appears twice" in err.reason and "line 2" in err.reason


def test_non_text_keys_are_refused() -> None:
    assert "plain text" in refused("? [a, b]\n: 1\n").reason


def test_non_utf8_is_refused_with_position() -> None:
    err = refused(b"a: 1\nb: \xff\n")
    assert (err.line, err.column) == (2, 4)
    assert "UTF-8" in err.reason


def test_locate_points_at_keys_and_values() -> None:
    doc = load_yaml("x: 1\nrules:\n  a/b:\n    levle: error\n    items: [1, 2]\n", file="f")
    assert doc.locate(("rules", "a/b", "levle"), key=True) == (4, 5)
    assert doc.locate(("rules", "a/b", "levle")) == (4, 12)
    assert doc.locate(("rules", "a/b", "items", 1)) == (5, 16)
    # A missing step stops at the deepest place that exists.
    assert doc.locate(("rules", "a/b", "nothing")) == (4, 5)


def test_built_in_packs_read_the_same_with_the_fast_loader() -> None:
    """The packs that ship with prgate are read with libyaml's loader: the same data, and the
    same places for any error about a value."""
    from prgate.packs import builtin_dir, builtin_names

    names = builtin_names()
    assert "python-style" in names and "web-style" in names
    for name in names:
        data = (builtin_dir() / f"{name}.yml").read_bytes()
        guarded = load_yaml(data, file=name)
        fast = load_yaml(data, file=name, trusted=True)
        assert fast.data == guarded.data
        assert isinstance(guarded.data["rules"], dict) and guarded.data["rules"]
        for rule_id, rule in guarded.data["rules"].items():
            for key in (None, *rule):
                loc = ("rules", rule_id) if key is None else ("rules", rule_id, key)
                assert fast.locate(loc) == guarded.locate(loc)


def test_a_trusted_read_is_only_for_prgate_s_own_files() -> None:
    """A repository's pack is never read as trusted: what only the guarded reading refuses (a
    key given twice, which libyaml's loader takes, keeping the last) is still refused."""
    from prgate.config.packfile import parse_pack

    twice = "pack: x\ndescription: one\ndescription: two\nrules: {}\n"
    assert load_yaml(twice, file="x.yml", trusted=True).data["description"] == "two"
    with pytest.raises(ConfigError, match=r"(?i)twice|duplicate|more than once"):
        parse_pack(twice, file="x.yml", builtin=False)
