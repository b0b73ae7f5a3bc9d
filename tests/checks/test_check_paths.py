"""The ``paths`` check kind and the shared gitignore-style globs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from prgate.checks import CheckContext, Rule
from prgate.checks.globs import compile_globs
from prgate.checks.paths import KIND, PathsParams
from prgate.model import Approvals, ChangeSet, Review
from prgate.packs import load_builtin, run_cases
from prgate.sources.memory import FileSides, changeset_from_files


def _rule(**params: object) -> Rule:
    return Rule(
        id="paths/test",
        check="paths",
        level="error",
        title="guarded",
        why="why",
        fix="fix",
        params=KIND.params.model_validate(params),
    )


def _run(changeset: ChangeSet, rule: Rule) -> dict[str | None, str]:
    result = KIND.run(CheckContext(changeset=changeset), [rule])
    assert not result.skipped
    for f in result.findings:
        assert f.line is None and f.end_line is None
    return {f.path: f.message for f in result.findings}


# --- globs ----------------------------------------------------------------------------------


def test_globs_follow_gitignore_rules() -> None:
    m = compile_globs(["infra/", "*.tf", "!keep.tf", ".github/workflows/**"])
    assert m.matches("infra/prod/main.tf")
    assert m.matches("modules/net.tf")
    assert not m.matches("modules/keep.tf")
    assert m.matches(".github/workflows/ci.yml")
    assert not m.matches("docs/.github/workflows/ci.yml")  # a slash anchors at the root
    assert not m.matches("infrastructure.md")
    assert m.matching_pattern("modules/net.tf") == "*.tf"
    assert m.matching_pattern("modules/keep.tf") is None


def test_globs_match_unusual_paths() -> None:
    m = compile_globs(["my docs/", "-rf", "données/*.csv"])
    assert m.matches("my docs/read me.md")
    assert m.matches("-rf")
    assert m.matches("sub/-rf")
    assert m.matches("données/été.csv")
    assert not m.matches("données/été.txt")


def test_empty_glob_list_matches_nothing() -> None:
    assert not compile_globs([]).matches("anything.py")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("#secret", "comment"),
        ("!", "incomplete"),
        ("a\nb", "lines"),
    ],
)
def test_unusable_glob_is_refused_with_a_reason(pattern: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        compile_globs([pattern])


def test_bad_glob_in_params_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="incomplete"):
        PathsParams.model_validate({"paths": ["infra/", "!"]})


def test_paths_are_required_and_unknown_params_refused() -> None:
    with pytest.raises(ValidationError):
        PathsParams.model_validate({})
    with pytest.raises(ValidationError):
        PathsParams.model_validate({"paths": ["a"], "unless": "x"})
    # Still read, so that older configs load; it lifts nothing (see the rule's cases).
    assert PathsParams.model_validate({"paths": ["a"], "unless_label": "ok"}).unless_label == "ok"


@pytest.mark.parametrize(
    ("approvers", "words"),
    [
        ({"codeowners": False}, "names nobody"),
        ({"users": ["not a login"]}, "not a GitHub user"),
        ({"teams": ["just-a-team"]}, "org/team-slug"),
        ({"teams": ["o/t"], "groups": ["x"]}, "groups"),
    ],
)
def test_approvers_are_checked(approvers: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        PathsParams.model_validate({"paths": ["a"], "approvers": approvers})


def test_approvers_accept_at_signs() -> None:
    params = PathsParams.model_validate(
        {"paths": ["a"], "approvers": {"users": ["@Lead"], "teams": ["@octo-org/dba"]}}
    )
    assert params.approvers is not None
    assert params.approvers.users == ("Lead",) and params.approvers.teams == ("octo-org/dba",)
    assert params.approvers.codeowners is True


# --- the check ------------------------------------------------------------------------------


def test_one_finding_per_matching_file_naming_file_and_pattern() -> None:
    cs = changeset_from_files(
        {
            "infra/main.tf": FileSides(base="a\n", head="b\n"),
            "infra/vars.tf": FileSides(base=None, head="v\n"),
            "app/views.py": FileSides(base="x\n", head="y\n"),
        }
    )
    found = _run(cs, _rule(paths=["infra/"]))
    assert set(found) == {"infra/main.tf", "infra/vars.tf"}
    assert "changes infra/main.tf" in found["infra/main.tf"]
    assert "adds infra/vars.tf" in found["infra/vars.tf"]
    assert all("infra/" in message for message in found.values())


def test_deleted_file_matches_by_its_path() -> None:
    cs = changeset_from_files({"infra/main.tf": FileSides(base="a\n", head=None)})
    found = _run(cs, _rule(paths=["*.tf"]))
    assert "deletes infra/main.tf" in found["infra/main.tf"]


def test_moving_a_file_out_of_a_guarded_folder_is_reported() -> None:
    cs = changeset_from_files(
        {"app/main.tf.bak": FileSides(base="a\n", head="a\n", old_path="infra/main.tf")}
    )
    found = _run(cs, _rule(paths=["infra/"]))
    assert list(found) == ["app/main.tf.bak"]
    assert "moves infra/main.tf" in found["app/main.tf.bak"]


def test_moving_a_file_into_a_guarded_folder_is_reported() -> None:
    cs = changeset_from_files({"infra/x.tf": FileSides(base="a\n", head="a\n", old_path="x.tf")})
    assert list(_run(cs, _rule(paths=["infra/"]))) == ["infra/x.tf"]


def test_binary_and_symlink_files_count_by_path() -> None:
    cs = changeset_from_files(
        {
            "infra/state.bin": FileSides(base=None, head=b"\0\1\2"),
            "infra/link": FileSides(base=None, head="target", is_symlink=True),
        }
    )
    assert set(_run(cs, _rule(paths=["infra/"]))) == {"infra/state.bin", "infra/link"}


def test_paths_with_spaces_unicode_and_leading_dash() -> None:
    cs = changeset_from_files(
        {
            "secret zone/a b.txt": FileSides(base=None, head="x\n"),
            "zône/é.txt": FileSides(base=None, head="x\n"),
            "-rf": FileSides(base=None, head="x\n"),
            "ok.txt": FileSides(base=None, head="x\n"),
        }
    )
    found = _run(cs, _rule(paths=["secret zone/", "zône/", "-rf"]))
    assert set(found) == {"secret zone/a b.txt", "zône/é.txt", "-rf"}


def test_a_label_lifts_nothing() -> None:
    files = {"db/migrations/0001.py": FileSides(base=None, head="x = 1\n")}
    for rule in (
        _rule(paths=["migrations/"], unless_label="approved-by-eng"),
        _rule(paths=["migrations/"], unless_label="ok", approvers={"users": ["lead"]}),
    ):
        found = _run(changeset_from_files(files, labels=["approved-by-eng", "ok"]), rule)
        assert list(found) == ["db/migrations/0001.py"]
        assert "label" not in found["db/migrations/0001.py"]


def _approved_by(reviewer: str, changeset: ChangeSet) -> ChangeSet:
    oids = [("head", "", "head")] + [("head", f.path, f"oid-{f.path}") for f in changeset.files]
    approvals = Approvals(
        head="head", reviews=(Review(reviewer, "APPROVED", "head"),), oids=tuple(oids)
    )
    return replace(changeset, approvals=approvals, author="builder")


def test_each_rule_judged_on_its_own() -> None:
    cs = _approved_by(
        "lead",
        changeset_from_files(
            {
                "infra/a.tf": FileSides(base=None, head="x\n"),
                "db/migrations/1.py": FileSides(base=None, head="x\n"),
            }
        ),
    )
    forbidden = _rule(paths=["infra/"])
    protected = Rule(
        id="paths/protected",
        check="paths",
        level="warning",
        title="t",
        why="w",
        fix="f",
        params=PathsParams.model_validate(
            {"paths": ["migrations/"], "approvers": {"users": ["lead"]}}
        ),
    )
    result = KIND.run(CheckContext(changeset=cs), [forbidden, protected])
    assert [(f.rule, f.path) for f in result.findings] == [("paths/test", "infra/a.tf")]
    other = _approved_by("someone", cs)
    result = KIND.run(CheckContext(changeset=other), [forbidden, protected])
    assert [(f.rule, f.level.value) for f in result.findings] == [
        ("paths/test", "error"),
        ("paths/protected", "warning"),
    ]


def test_safe_zones_pack_cases_pass() -> None:
    pack = load_builtin("safe-zones")
    ids = {r.rule.id for r in pack.rules}
    assert {"paths/forbidden", "paths/protected"} <= ids
    results = run_cases(pack)
    assert results and all(r.passed for r in results), [r.describe() for r in results]
