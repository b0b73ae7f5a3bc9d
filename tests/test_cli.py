"""`prgate check`, `fix`, `rules test` and `config validate` on real repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from prgate.cli import main

BIN = Path(sys.executable).parent
AWS_KEY = "AKIA" + "Q3EGRJ7XKPL2VDZM"  # built at run time so this file holds no credential

CONFIG = """\
packs: [python-style, safe-zones, feature-flags, hygiene]
rules:
  paths/forbidden:
    paths: ["infra/**"]
  flags/guarded:
    paths: ["app/features/**"]
    functions: ["flags.enabled"]
  flags/registered:
    registry: flags.yml
    functions: ["flags.enabled"]
  size/limit:
    max_files: 3
"""


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A repository whose base holds the team's config, with a branch checked out."""
    root = tmp_path / "sample repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, ".github/prgate.yml", CONFIG)
    write(root, "flags.yml", "flags: [new-checkout]\n")
    write(root, "app/__init__.py", "")
    write(root, "app/orders.py", "def total(items):\n    return sum(items)\n")
    write(root, "tests/test_orders.py", "def test_total():\n    assert True\n")
    write(root, "infra/main.tf", 'resource "x" "y" {}\n')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def break_every_pack(root: Path) -> None:
    write(
        root,
        "app/orders.py",
        "import os\ndef total(items):\n    print(items)\n    return sum(items)\n",
    )
    write(root, "app/settings.py", f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n')
    write(root, "app/features/checkout.py", "def new_checkout(cart):\n    return len(cart)\n")
    write(
        root,
        "app/features/gift.py",
        "from app import flags\n\n\ndef gift(cart):\n"
        '    if flags.enabled("gift-cards"):\n        return 1\n    return 0\n',
    )
    write(root, "infra/main.tf", 'resource "x" "z" {}\n')


def check_json(root: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["check", str(root), "--format", "json", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_check_json_has_findings_from_every_built_in_pack(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_every_pack(sample)
    code, report = check_json(sample, capsys=capsys)
    assert code == 1
    assert set(report) == {"conclusion", "findings", "skipped", "agent_prompt", "config"}
    assert report["conclusion"] == "failure"
    rules = {f["rule"] for f in report["findings"]}
    assert {
        "style/ruff-lint",  # python-style
        "style/ruff-format",
        "paths/forbidden",  # safe-zones
        "flags/guarded",  # feature-flags
        "flags/registered",
        "content/secrets",  # hygiene
        "content/debug",
        "size/limit",
        "tests/required",
    } <= rules
    for finding in report["findings"]:
        assert set(finding) == {
            "rule",
            "level",
            "path",
            "line",
            "end_line",
            "title",
            "message",
            "fix",
            "fixable",
        }
        assert finding["level"] in {"error", "warning", "notice"}
    assert AWS_KEY not in json.dumps(report)
    assert "prgate check" in report["agent_prompt"]
    lint = [f for f in report["findings"] if f["rule"] == "style/ruff-lint"]
    assert any(f["path"] == "app/orders.py" and f["line"] == 1 for f in lint)


def test_clean_change_passes_with_exit_0(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(sample, "app/orders.py", "def total(items):\n    return sum(items) + 0\n")
    write(sample, "tests/test_orders.py", "def test_total():\n    assert 1 == 1\n")
    code, report = check_json(sample, capsys=capsys)
    assert (code, report["conclusion"]) == (0, "success"), report["findings"]


def test_head_config_cannot_loosen_the_rules(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(sample, "infra/main.tf", 'resource "x" "changed" {}\n')
    write(sample, ".github/prgate.yml", "packs: []\n")
    git(sample, "add", "-A")
    git(sample, "commit", "-qm", "try to switch the gate off")
    code, report = check_json(sample, "--head", "feature", capsys=capsys)
    assert code == 1
    rules = {f["rule"]: f for f in report["findings"]}
    assert rules["paths/forbidden"]["level"] == "error"
    assert rules["config/changed"]["level"] == "warning"
    assert rules["config/changed"]["path"] == ".github/prgate.yml"


def test_config_flag_uses_the_named_file(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(sample, "infra/main.tf", 'resource "x" "changed" {}\n')
    other = sample.parent / "lenient.yml"
    other.write_text("packs: [hygiene]\n")
    code, report = check_json(sample, "--config", str(other), capsys=capsys)
    assert "paths/forbidden" not in {f["rule"] for f in report["findings"]}
    assert code == 0


def test_a_protected_path_blocks_locally_and_names_who_can_approve_even_with_a_label(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A config from when a label lifted the rule, and the base's code owners.
    write(
        sample,
        ".github/prgate.yml",
        "packs: [safe-zones]\nrules:\n  paths/protected:\n"
        '    paths: ["db/**"]\n    unless_label: approved-by-eng\n',
    )
    write(sample, ".github/CODEOWNERS", "* @everyone-else\n/db/ @dba-lead @octo-org/data\n")
    git(sample, "add", "-A")
    git(sample, "commit", "-qm", "protect db")
    git(sample, "checkout", "-qb", "db-change")
    write(sample, "db/001.sql", "select 1;\n")
    base = ["--base", "feature"]

    def blocking_message(*extra: str) -> str:
        code, report = check_json(sample, *base, *extra, capsys=capsys)
        assert code == 1
        (finding,) = report["findings"]
        assert finding["rule"] == "paths/protected" and finding["level"] == "error"
        text = (finding["message"] + finding["fix"]).lower()
        assert "label" not in text
        assert "cannot see reviews" in finding["message"]
        return str(finding["message"])

    for labels in ([], ["--label", "approved-by-eng"]):
        message = blocking_message(*labels)
        assert "@dba-lead" in message and "@octo-org/data" in message
        assert "@everyone-else" not in message and ".github/CODEOWNERS" in message

    # Named users and teams too, given as a config file.
    config = sample.parent / "approvers.yml"
    config.write_text(
        "packs: [safe-zones]\nrules:\n  paths/protected:\n"
        '    paths: ["db/**"]\n    approvers: {users: [lead], teams: [octo-org/dba]}\n'
    )
    message = blocking_message("--config", str(config), "--label", "approved-by-eng")
    for name in ("@lead", "@octo-org/dba", "@dba-lead", "@octo-org/data"):
        assert name in message


def test_config_validate_warns_that_unless_label_no_longer_lifts_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.yml"
    old.write_text(
        "packs: [safe-zones]\nrules:\n  paths/protected:\n    unless_label: approved-by-eng\n"
    )
    assert main(["config", "validate", str(old)]) == 0
    captured = capsys.readouterr()
    assert "valid" in captured.out
    assert "warning" in captured.err and "old.yml:4:" in captured.err
    assert "unless_label" in captured.err and "approvers" in captured.err
    current = tmp_path / "current.yml"
    current.write_text("packs: [safe-zones]\n")
    assert main(["config", "validate", str(current)]) == 0
    assert capsys.readouterr().err == ""


def test_cannot_judge_exits_2_with_plain_message(
    tmp_path: Path, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert "not inside a git repository" in capsys.readouterr().err
    assert main(["check", str(sample), "--base", "no-such-branch"]) == 2
    assert "no-such-branch" in capsys.readouterr().err
    assert main(["check", str(sample), "--output", str(tmp_path)]) == 2
    assert "could not write the report" in capsys.readouterr().err


def test_broken_config_on_base_exits_2_with_location(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(sample, "checkout", "-q", "main")
    write(sample, ".github/prgate.yml", "packs: [hygiene]\nrules:\n  size/limit:\n    levle: off\n")
    git(sample, "commit", "-qam", "typo")
    git(sample, "checkout", "-q", "feature")
    assert main(["check", str(sample)]) == 2
    err = capsys.readouterr().err
    assert ".github/prgate.yml:4" in err
    assert "level" in err  # the suggestion


def test_fix_reformats_and_says_what_it_changed(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(sample, "app/orders.py", "import os\ndef total( items ):\n    return sum( items )\n")
    write(sample, "tests/test_orders.py", "def test_total():\n    assert 2 == 2\n")
    assert main(["fix", str(sample)]) == 0
    out = capsys.readouterr().out
    assert "app/orders.py" in out
    assert (sample / "app/orders.py").read_text() == ("def total(items):\n    return sum(items)\n")
    code, report = check_json(sample, capsys=capsys)
    assert code == 0, report["findings"]


def test_output_file_and_text_format(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    break_every_pack(sample)
    target = sample.parent / "report.sarif"
    assert main(["check", str(sample), "--format", "sarif", "--output", str(target)]) == 1
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert main(["check", str(sample)]) == 1
    text = capsys.readouterr().out
    assert "app/settings.py" in text
    assert "\x1b[" not in text  # no colour when not a terminal


def test_rules_test_runs_built_in_and_repo_packs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "test"]) == 0
    assert "python-style" in capsys.readouterr().out
    pack = tmp_path / "team.yml"
    pack.write_text(
        "pack: team\ndescription: The team's own rules.\nrules:\n"
        "  team/no-todo:\n    check: pattern\n    level: warning\n"
        "    pattern: 'TODO'\n    title: TODO left\n    why: It gets lost.\n"
        "    fix: Open a ticket.\n    cases:\n"
        "      - name: flagged\n        files: {a.py: {head: 'x = 1  # TODO\\n'}}\n"
        "        expect: [{path: a.py, line: 1}]\n"
        "      - name: wrongly expected clean\n        files: {b.py: {head: '# TODO\\n'}}\n"
        "        expect: []\n"
    )
    assert main(["rules", "test", str(pack)]) == 1
    assert "wrongly expected clean" in capsys.readouterr().out


def test_config_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yml"
    good.write_text("packs: [hygiene]\nrules:\n  size/limit:\n    max_files: 10\n")
    assert main(["config", "validate", str(good)]) == 0
    bad = tmp_path / "bad.yml"
    bad.write_text("packs: [hygiene]\nautofix: {enabeld: true}\n")
    assert main(["config", "validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yml:2:" in err and "enabled" in err


def test_console_script_exit_codes(sample: Path) -> None:
    break_every_pack(sample)
    proc = subprocess.run(
        [str(BIN / "prgate"), "check"], cwd=sample, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stderr
    proc = subprocess.run(
        [str(BIN / "prgate"), "check", "--head", "nope"], cwd=sample, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("prgate: ")


def test_wheel_ships_the_built_in_packs(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(root),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    [wheel] = tmp_path.glob("prgate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for pack in ("python-style", "safe-zones", "feature-flags", "hygiene"):
        assert f"prgate/rules/{pack}.yml" in names
    assert "prgate/config/prgate.schema.json" in names
    assert any(n.startswith("prgate/render/templates/") for n in names)


def test_an_old_noqa_does_not_hide_a_breakpoint_added_in_front_of_it(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(sample, "app/orders.py", "TOTAL = compute()  # noqa\n")
    git(sample, "commit", "-qam", "a line the team silenced on purpose")
    git(sample, "branch", "-f", "main", "HEAD")
    write(sample, "app/orders.py", "breakpoint(); \\\nTOTAL = compute()  # noqa\n")
    write(sample, "tests/test_orders.py", "def test_total():\n    assert 1 == 1\n")
    code, report = check_json(sample, capsys=capsys)
    found = sorted(
        (f["rule"], f["line"], f["level"], f["message"].partition(" (ruff ")[2][:4])
        for f in report["findings"]
        if f["path"] == "app/orders.py" and f["rule"] != "style/ruff-format"
    )
    # The breakpoint (E702, two statements on one line, is taste: not in the default
    # selection of a repository without ruff settings).
    assert found == [("content/debug", 1, "warning", "T100")]
    assert all(
        "written for the code as it was" in f["message"]
        for f in report["findings"]
        if f["rule"] != "style/ruff-format"
    )
    assert code == 0  # content/debug is a warning


def test_code_carrying_bidi_controls_is_a_finding_of_the_default_packs(
    sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Trojan Source: a right-to-left override makes the code read differently than it runs.
    rlo = "\u202e"
    write(sample, "app/orders.py", f'def total(items):\n    return sum(items)  # "{rlo}" end\n')
    write(sample, "tests/test_orders.py", "def test_total():\n    assert 1 == 1\n")
    code, report = check_json(sample, capsys=capsys)
    bidi = [f for f in report["findings"] if "PLE2502" in f["message"]]
    assert [(f["rule"], f["path"], f["line"], f["level"]) for f in bidi] == [
        ("style/ruff-lint", "app/orders.py", 2, "error")
    ]
    assert rlo not in json.dumps(report, ensure_ascii=False)  # shown escaped, never raw
    assert code == 1
