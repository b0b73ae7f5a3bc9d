"""evaluate(): levels, changed lines only, failing closed, notices for files it cannot read."""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, NoParams, Rule, registry
from prgate.config import Config
from prgate.engine import evaluate
from prgate.model import Conclusion, Level
from prgate.sources.memory import FileSides, changeset_from_files


def rule(rule_id: str, *, check: str = "probe", level: str = "error") -> Rule:
    return Rule(
        id=rule_id,
        check=check,
        level=level,  # type: ignore[arg-type]
        title=f"{rule_id} title",
        why="why",
        fix="fix",
    )


def probe_kind(lines: Sequence[int | None], *, fixable: bool = False) -> CheckKind:
    """A check kind that reports every rule on each of ``lines`` of every analysable file."""

    def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
        out = CheckResult()
        for r in rules:
            for f in ctx.analysable():
                for line in lines:
                    out.findings.append(
                        r.finding(path=f.path, line=line, message="found", fixable=fixable)
                    )
        return out

    return CheckKind(name="probe", params=NoParams, run=run)


def crashing_kind() -> CheckKind:
    def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
        raise RuntimeError("secret-looking text AKIA0000000000000000 must not leak")

    return CheckKind(name="crash", params=NoParams, run=run)


CHANGE = changeset_from_files(
    {"app.py": FileSides(base="a = 1\nb = 2\nc = 3\n", head="a = 1\nB = 2\nc = 3\n")}
)


def test_only_findings_on_changed_lines_or_whole_files_are_kept() -> None:
    report = evaluate(
        CHANGE, Config(rules=(rule("t/probe"),)), kinds={"probe": probe_kind([1, 2, 3, None])}
    )
    assert [(f.line, f.level) for f in report.findings] == [(None, Level.ERROR), (2, Level.ERROR)]
    assert report.conclusion is Conclusion.FAILURE


def test_warnings_do_not_block_and_off_rules_do_not_run() -> None:
    rules = (rule("t/warn", level="warning"), rule("t/off", level="off"))
    report = evaluate(CHANGE, Config(rules=rules), kinds={"probe": probe_kind([2])})
    assert [f.rule for f in report.findings] == ["t/warn"]
    assert report.conclusion is Conclusion.SUCCESS


def test_a_check_that_crashes_fails_closed_without_echoing_its_error() -> None:
    kinds = {"probe": probe_kind([2]), "crash": crashing_kind()}
    rules = (rule("t/probe", level="notice"), rule("t/crash", check="crash", level="notice"))
    report = evaluate(CHANGE, Config(rules=rules), kinds=kinds)
    crash = [f for f in report.findings if f.rule == "t/crash"]
    assert len(crash) == 1 and crash[0].level is Level.ERROR
    assert "could not" in crash[0].title
    assert "AKIA" not in crash[0].message
    assert report.conclusion is Conclusion.FAILURE
    assert any(f.rule == "t/probe" for f in report.findings)  # the other rules still ran


def test_an_unknown_check_kind_fails_closed() -> None:
    report = evaluate(CHANGE, Config(rules=(rule("t/x", check="nope"),)), kinds={})
    [finding] = report.findings
    assert finding.level is Level.ERROR and "nope" in finding.message


def test_files_it_cannot_read_are_listed_as_skipped_not_passed() -> None:
    change = changeset_from_files(
        {
            "big.py": FileSides(base=None, head="x = 1\n" * 100),
            "logo.png": FileSides(base=None, head=b"\x89PNG\x00\x00"),
            "link.py": FileSides(base=None, head="target.py", is_symlink=True),
            "vendor/lib": FileSides(base=None, head="abc", is_submodule=True),
            "ok.py": FileSides(base=None, head="y = 1\n"),
        }
    )
    report = evaluate(
        change,
        Config(rules=(rule("t/probe"),)),
        kinds={"probe": probe_kind([1])},
        max_file_bytes=100,
    )
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"big.py", "logo.png", "link.py", "vendor/lib"}
    assert "larger than" in reasons["big.py"]
    assert "binary" in reasons["logo.png"]
    assert "link" in reasons["link.py"]
    assert "submodule" in reasons["vendor/lib"]
    assert [f.path for f in report.findings] == ["ok.py"]  # only the readable file was checked


def test_editing_the_rules_is_reported_for_a_person() -> None:
    change = changeset_from_files(
        {
            ".github/prgate.yml": FileSides(base="packs: [hygiene]\n", head="packs: []\n"),
            ".github/prgate/team.yml": FileSides(base=None, head="pack: team\n"),
            "docs/prgate.yml": FileSides(base=None, head="x: 1\n"),
        }
    )
    report = evaluate(change, Config(rules=()))
    changed = [(f.rule, f.path, f.level) for f in report.findings]
    assert changed == [
        ("config/changed", ".github/prgate.yml", Level.WARNING),
        ("config/changed", ".github/prgate/team.yml", Level.WARNING),
    ]
    assert report.conclusion is Conclusion.SUCCESS


def test_fixable_findings_become_one_fix_per_file() -> None:
    report = evaluate(
        CHANGE, Config(rules=(rule("t/probe"),)), kinds={"probe": probe_kind([2], fixable=True)}
    )
    [fix] = report.fixes
    assert (fix.path, fix.rules) == ("app.py", ("t/probe",))


def test_empty_change_passes_with_the_real_packs() -> None:
    from prgate.config.loader import LocalFetcher, resolve_config

    config = resolve_config(LocalFetcher.empty())
    assert {r.check for r in config.rules} <= set(registry())
    report = evaluate(changeset_from_files({}), config)
    assert report.conclusion is Conclusion.SUCCESS
    assert report.findings == () and report.skipped == ()


def test_the_verdict_is_deterministic() -> None:
    from prgate.config.loader import LocalFetcher, resolve_config

    config = resolve_config(LocalFetcher.empty())
    change = changeset_from_files(
        {
            "b.py": FileSides(base=None, head="import os\nprint( 1 )\n"),
            "a.py": FileSides(base="x = 1\n", head="x = 1\nbreakpoint()\n"),
        }
    )
    first = evaluate(change, config)
    assert first.findings  # there is something to order
    assert all(evaluate(change, config) == first for _ in range(3))
    assert list(first.findings) == sorted(first.findings, key=lambda f: f.sort_key())
