"""Evaluation reads only what check kinds declare, and shares work once per evaluation."""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import (
    CheckContext,
    CheckKind,
    CheckResult,
    NoParams,
    Reads,
    Rule,
    declared_reads,
    registry,
)
from prgate.config import Config
from prgate.engine import evaluate
from prgate.model import Conclusion
from prgate.sources.memory import FileSides, changeset_from_files

CHANGE = changeset_from_files(
    {"app.py": FileSides(base="a = 1\n", head="a = 2\n")},
    head_files={"settings.yml": "x: 1\n", "other.yml": "y: 2\n"},
)


def rule(rule_id: str, check: str) -> Rule:
    return Rule(id=rule_id, check=check, level="error", title="t", why="w", fix="f")


def reading_kind(name: str, path: str, *, declares: bool) -> CheckKind:
    """A kind that reports whether ``path`` exists at head; it declares the read or not."""

    def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
        out = CheckResult()
        data = ctx.changeset.read_head(path)
        for r in rules:
            out.findings.append(r.finding(path=None, message=f"read {data!r}"))
        return out

    def reads(_rule: Rule) -> Reads:
        return Reads(head=frozenset({path}))

    return CheckKind(name=name, params=NoParams, run=run, reads=reads if declares else None)


def test_a_declared_read_is_served_and_an_undeclared_one_is_an_internal_error() -> None:
    kinds = {
        "good": reading_kind("good", "settings.yml", declares=True),
        "bad": reading_kind("bad", "other.yml", declares=False),
    }
    config = Config(rules=(rule("t/good", "good"), rule("t/bad", "bad")))
    report = evaluate(CHANGE, config, kinds=kinds)
    by_rule = {f.rule: f for f in report.findings}
    assert by_rule["t/good"].message == "read b'x: 1\\n'"
    assert by_rule["t/bad"].title.startswith("prgate could not run the rule")
    assert "internal error occurred (UndeclaredRead)" in by_rule["t/bad"].message
    assert report.conclusion is Conclusion.FAILURE


def test_the_flag_registry_is_declared_by_its_rule() -> None:
    kinds = registry()
    kind = kinds["flag-registry"]
    params = kind.params.model_validate({"registry": "config/flags.yml"})
    r = Rule(
        id="flags/registered", check="flag-registry", level="error", title="t", why="w", fix="f"
    )
    from dataclasses import replace

    reads = declared_reads([replace(r, params=params)], kinds)
    assert reads == Reads(head=frozenset({"config/flags.yml"}))
    assert declared_reads([replace(r, params=params, level="off")], kinds) == Reads()


def test_shared_work_is_done_once_per_evaluation_and_not_kept_across_them() -> None:
    built: list[int] = []

    def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
        value = ctx.prepared.get("count", lambda: built.append(1) or len(built))
        return CheckResult(findings=[r.finding(path=None, message=str(value)) for r in rules])

    kinds = {
        "a": CheckKind(name="a", params=NoParams, run=run),
        "b": CheckKind(name="b", params=NoParams, run=run),
    }
    config = Config(rules=(rule("t/a", "a"), rule("t/b", "b")))
    first = evaluate(CHANGE, config, kinds=kinds)
    assert [f.message for f in first.findings] == ["1", "1"]
    second = evaluate(CHANGE, config, kinds=kinds)  # the same ChangeSet: built again
    assert [f.message for f in second.findings] == ["2", "2"]
