"""evaluate(): levels, changed lines only, failing closed, notices for files it cannot read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from prgate.checks import CheckContext, CheckKind, CheckResult, NoParams, Rule, registry
from prgate.config import Config
from prgate.engine import evaluate
from prgate.model import ChangeSet, Conclusion, FileChange, FileStatus, Level
from prgate.sources.memory import FileSides, changeset_from_files, constant


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


# --- what cannot be read fails the rules that judge it ------------------------------------------


def scoped_kind(suffix: str, looks_for: str = "probes") -> CheckKind:
    """A kind that judges files ending in ``suffix`` and finds nothing in what it can read."""

    def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
        return CheckResult()

    return CheckKind(
        name="scoped",
        params=NoParams,
        run=run,
        in_scope=lambda rule, f: f.path.endswith(suffix),
        looks_for=looks_for,
    )


def test_a_file_too_large_to_read_is_a_finding_of_each_rule_whose_scope_holds_it() -> None:
    change = changeset_from_files(
        {
            "big.py": FileSides(base=None, head="x = 1\n" * 400),
            "big.csv": FileSides(base=None, head="a,b\n" * 600),
            "small.py": FileSides(base=None, head="y = 1\n"),
        }
    )
    rules = (rule("t/strict", check="scoped"), rule("t/gentle", check="scoped", level="warning"))
    report = evaluate(
        change, Config(rules=rules), kinds={"scoped": scoped_kind(".py")}, max_file_bytes=2048
    )
    assert [(f.rule, f.path, f.level, f.line) for f in report.findings] == [
        ("t/gentle", "big.py", Level.WARNING, None),
        ("t/strict", "big.py", Level.ERROR, None),
    ]
    assert report.conclusion is Conclusion.FAILURE
    finding = report.findings[0]
    assert finding.title == "prgate could not check this file for probes"
    assert finding.message == (
        "This file is larger than 2 KiB (2 KiB), so prgate could not check it for probes."
    )
    assert finding.fix.startswith("Split it into smaller files, each under 2 KiB.")
    # No enabled rule judges the CSV file: it stays a notice.
    assert [(s.rule, s.path) for s in report.skipped] == [(None, "big.csv")]


def test_an_unreadable_file_in_the_scope_of_a_warning_rule_does_not_block() -> None:
    change = changeset_from_files({"big.py": FileSides(base=None, head="x = 1\n" * 400)})
    report = evaluate(
        change,
        Config(rules=(rule("t/gentle", check="scoped", level="warning"),)),
        kinds={"scoped": scoped_kind(".py")},
        max_file_bytes=100,
    )
    assert [f.level for f in report.findings] == [Level.WARNING]
    assert report.conclusion is Conclusion.SUCCESS


def test_a_scope_that_cannot_be_decided_holds_the_file() -> None:
    def broken(rule: Rule, f: FileChange) -> bool:
        raise ValueError("no")

    kind = CheckKind(name="scoped", params=NoParams, run=lambda ctx, rules: CheckResult())
    kind = replace(kind, in_scope=broken)
    change = changeset_from_files({"big.txt": FileSides(base=None, head="x\n" * 100)})
    report = evaluate(
        change,
        Config(rules=(rule("t/x", check="scoped"),)),
        kinds={"scoped": kind},
        max_file_bytes=10,
    )
    assert [(f.rule, f.path) for f in report.findings] == [("t/x", "big.txt")]
    assert "the rule “t/x title”" in report.findings[0].message


def _marked_binary(path: str, head: bytes, *, base: bytes | None = None) -> ChangeSet:
    """A file a source marked binary (no diff), with its real bytes, as GitHub's may."""
    return ChangeSet(
        files=(
            FileChange(
                path=path,
                status=FileStatus.MODIFIED if base is not None else FileStatus.ADDED,
                is_binary=True,
                size=len(head),
                head_loader=constant(head),
                base_loader=constant(base),
            ),
        )
    )


def _real_packs() -> Config:
    from prgate.config.loader import LocalFetcher, resolve_config

    return resolve_config(LocalFetcher.empty())


def test_a_file_marked_binary_that_is_mostly_text_is_scanned_for_secrets_whole() -> None:
    key = "AKIA" + "Q3EGRJ7XKPL2VDZM"
    head = ('{\n  "pad": "\0",\n  "key": "' + key + '"\n}\n').encode()
    report = evaluate(_marked_binary("config/cloud.json", head, base=b"{}\n"), _real_packs())
    assert [(f.rule, f.line, f.level) for f in report.findings] == [
        ("content/secrets", 3, Level.ERROR)
    ]
    assert report.skipped == ()


def test_python_marked_binary_is_judged_as_the_same_file_unmarked() -> None:
    source = "# -*- coding: latin-1 -*-\nNAME = 'café'\nbreakpoint()\n".encode("latin-1")
    marked = evaluate(_marked_binary("app/menu.py", source), _real_packs())
    plain = evaluate(
        changeset_from_files({"app/menu.py": FileSides(base=None, head=source)}), _real_packs()
    )
    assert [(f.rule, f.level, f.message) for f in marked.findings] == [
        (f.rule, f.level, f.message) for f in plain.findings
    ]
    assert {f.rule for f in marked.findings} >= {"style/ruff-lint", "content/debug"}
    assert marked.conclusion is Conclusion.FAILURE
    assert marked.skipped == ()


def test_binary_python_is_a_finding_and_a_binary_image_a_notice() -> None:
    change = changeset_from_files(
        {
            "app/blob.py": FileSides(base=None, head=b"\0\1\2\3\4\5 not code"),
            "assets/logo.png": FileSides(base=None, head=b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0"),
        }
    )
    report = evaluate(change, _real_packs())
    unread = [f for f in report.findings if f.path is not None]
    assert {(f.rule, f.path) for f in unread} == {
        ("style/ruff-lint", "app/blob.py"),
        ("style/ruff-format", "app/blob.py"),
        ("content/debug", "app/blob.py"),
    }
    assert all(f.message.startswith("This file is not text") for f in unread)
    assert report.conclusion is Conclusion.FAILURE
    assert [s.path for s in report.skipped] == ["assets/logo.png"]
