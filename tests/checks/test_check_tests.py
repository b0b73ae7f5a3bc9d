"""The ``tests`` check kind: code changed with no test changed alongside."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prgate.checks import CheckContext, Rule
from prgate.checks.tests import KIND, SourceTestsParams
from prgate.model import ChangeSet, Finding
from prgate.sources.memory import FileSides, changeset_from_files


def _rule(**params: object) -> Rule:
    return Rule(
        id="tests/required",
        check="tests",
        level="warning",
        title="no test",
        why="why",
        fix="fix",
        params=KIND.params.model_validate(params),
    )


def _run(changeset: ChangeSet, rule: Rule | None = None) -> list[Finding]:
    return KIND.run(CheckContext(changeset=changeset), [rule or _rule()]).findings


EDIT = FileSides(base="a = 1\n", head="a = 2\n")


def test_source_without_test_is_one_pr_level_finding() -> None:
    [finding] = _run(changeset_from_files({"app/pricing.py": EDIT, "README.md": EDIT}))
    assert (finding.path, finding.line) == (None, None)
    assert "app/pricing.py" in finding.message
    assert "README.md" not in finding.message


@pytest.mark.parametrize(
    "test_path",
    ["tests/test_pricing.py", "app/tests/helpers.py", "app/pricing_test.py", "test/it.py"],
)
def test_any_changed_test_file_satisfies_it(test_path: str) -> None:
    assert _run(changeset_from_files({"app/pricing.py": EDIT, test_path: EDIT})) == []


def test_added_test_file_satisfies_it() -> None:
    files = {"app/new.py": FileSides(base=None, head="x = 1\n")}
    files["tests/test_new.py"] = FileSides(base=None, head="def test_x(): pass\n")
    assert _run(changeset_from_files(files)) == []


def test_deleted_test_does_not_count_as_a_test() -> None:
    cs = changeset_from_files(
        {"app/a.py": EDIT, "tests/test_a.py": FileSides(base="x = 1\n", head=None)}
    )
    assert len(_run(cs)) == 1


def test_deletions_only_need_no_test() -> None:
    cs = changeset_from_files(
        {
            "app/old.py": FileSides(base="a = 1\n", head=None),
            "app/trim.py": FileSides(base="a = 1\nb = 2\n", head="a = 1\n"),
        }
    )
    assert _run(cs) == []


def test_pure_rename_needs_no_test_but_rename_with_edit_does() -> None:
    moved = FileSides(base="a = 1\n", head="a = 1\n", old_path="app/old.py")
    assert _run(changeset_from_files({"app/new.py": moved})) == []
    edited = FileSides(base="a = 1\n", head="a = 2\n", old_path="app/old.py")
    [finding] = _run(changeset_from_files({"app/new.py": edited}))
    assert "app/new.py" in finding.message


def test_default_source_leaves_out_setup_migrations_and_docs() -> None:
    cs = changeset_from_files(
        {
            "setup.py": EDIT,
            "shop/migrations/0001_initial.py": EDIT,
            "docs/conf.py": EDIT,
            "conftest.py": EDIT,
            "web/app.js": EDIT,
        }
    )
    assert _run(cs) == []


def test_many_files_are_summarised() -> None:
    cs = changeset_from_files({f"app/m{i:02}.py": EDIT for i in range(8)})
    [finding] = _run(cs)
    assert "8 code files" in finding.message
    assert "app/m00.py" in finding.message and "app/m04.py" in finding.message
    assert "app/m05.py" not in finding.message
    assert "and 3 more" in finding.message


def test_custom_globs() -> None:
    rule = _rule(source=["*.ts", "!*.d.ts"], tests=["*.spec.ts"])
    cs = changeset_from_files({"web/a.ts": EDIT, "web/types.d.ts": EDIT, "app/x.py": EDIT})
    [finding] = _run(cs, rule)
    assert "web/a.ts" in finding.message and "types.d.ts" not in finding.message
    cs2 = changeset_from_files({"web/a.ts": EDIT, "web/a.spec.ts": EDIT})
    assert _run(cs2, rule) == []


def test_unusual_paths() -> None:
    [finding] = _run(changeset_from_files({"-x/ünï code.py": EDIT}))
    assert "-x/ünï code.py" in finding.message


def test_empty_change_passes() -> None:
    assert _run(changeset_from_files({})) == []


def test_bad_params_are_refused() -> None:
    with pytest.raises(ValidationError, match="incomplete"):
        SourceTestsParams.model_validate({"source": ["!"]})
    with pytest.raises(ValidationError):
        SourceTestsParams.model_validate({"test": ["x"]})


SAME_BEHAVIOUR = {
    "a comment": ("def f(x):\n    return x\n", "def f(x):\n    # the identity\n    return x\n"),
    "a docstring added": (
        "def f(x):\n    return x\n",
        'def f(x):\n    """Same."""\n    return x\n',
    ),
    "a docstring reworded": ('"""Old."""\nX = 1\n', '"""New words."""\nX = 1\n'),
    "a class docstring": ("class A:\n    pass\n", 'class A:\n    """An A."""\n'),
    "layout": ("x = [1,2,\n  3]\n", "x = [1, 2, 3]\n"),
    "function annotations": (
        "def f(a, *b, c=1, **d):\n    return a\n",
        "def f(a: int, *b: str, c: int = 1, **d: object) -> int:\n    return a\n",
    ),
    "a local annotation": (
        "def f():\n    y = 1\n    return y\n",
        "def f():\n    y: int = 1\n    z: str\n    return y\n",
    ),
    "a docstring-only new module": (None, '"""Nothing here yet."""\n'),
}
NEW_BEHAVIOUR = {
    "a value": ("X = 1\n", "X = 2\n"),
    "a call": ("def f(x):\n    return x\n", "def f(x):\n    return g(x)\n"),
    "a default value": ("def f(x=1):\n    return x\n", "def f(x: int = 2):\n    return x\n"),
    "a model field's type": ("class A:\n    x: int\n", "class A:\n    x: float\n"),
    "a module-level annotation": ("X: int = 1\n", "X: str = 1\n"),
    "a decorator": ("def f():\n    pass\n", "@cache\ndef f():\n    pass\n"),
    "a string that is not a docstring": ("X = 1\n'a'\n", "X = 1\n'b'\n"),
    "a syntax error": ("X = 1\n", "X = (1\n"),
    "a new module": (None, "X = 1\n"),
}


@pytest.mark.parametrize(("base", "head"), SAME_BEHAVIOUR.values(), ids=SAME_BEHAVIOUR.keys())
def test_edits_that_cannot_change_behaviour_need_no_test(base: str | None, head: str) -> None:
    assert _run(changeset_from_files({"app/pricing.py": FileSides(base, head)})) == []


@pytest.mark.parametrize(("base", "head"), NEW_BEHAVIOUR.values(), ids=NEW_BEHAVIOUR.keys())
def test_edits_that_may_change_behaviour_need_a_test(base: str | None, head: str) -> None:
    [finding] = _run(changeset_from_files({"app/pricing.py": FileSides(base, head)}))
    assert "app/pricing.py" in finding.message


def test_only_files_whose_behaviour_changed_are_named() -> None:
    files = {
        "app/docs_only.py": SAME_BEHAVIOUR["a docstring added"],
        "app/real.py": NEW_BEHAVIOUR["a call"],
        "app/notes.txt": ("a\n", "b\n"),
    }
    changeset = changeset_from_files({p: FileSides(*sides) for p, sides in files.items()})
    [finding] = _run(changeset, _rule(source=["*.py", "*.txt"]))
    assert "app/real.py" in finding.message and "app/notes.txt" in finding.message
    assert "docs_only" not in finding.message


def test_a_file_too_deeply_nested_to_read_counts_as_a_change() -> None:
    deep = "X = " + "(" * 400 + "1" + ")" * 400 + "\n"
    [finding] = _run(changeset_from_files({"app/deep.py": FileSides("X = 1\n", deep)}))
    assert "app/deep.py" in finding.message


def test_a_latin1_file_with_a_coding_cookie_is_read_with_its_codec() -> None:
    base = b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\n"
    head = b"# -*- coding: latin-1 -*-\n# caf\xe9\nNAME = '\xe9t\xe9'\n"
    assert _run(changeset_from_files({"app/names.py": FileSides(base, head)})) == []
    changed = head.replace(b"'\xe9t\xe9'", b"'hiver'")
    [finding] = _run(changeset_from_files({"app/names.py": FileSides(base, changed)}))
    assert "app/names.py" in finding.message
