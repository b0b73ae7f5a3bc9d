"""`prgate check` on real repositories: what prgate cannot read fails the rules that judge it.

A file in the scope of an enabled rule that the rule could not read or analyse (too large, not
text, not decodable, not parsable, analysed too slowly) is a finding of that rule at its level;
a file no enabled rule judges (an image) stays a notice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_cli import check_json, git

from prgate.checks.flagsandbox import Limits
from prgate.config.loader import GitRefFetcher, resolve_config
from prgate.engine import evaluate
from prgate.sources.git import open_change

AWS_KEY = "AKIA" + "Q3EGRJ7XKPL2VDZM"  # built at run time so this file holds no credential
MIB = 1024 * 1024
#: The start of a real PNG: signature, then the IHDR chunk of a 1x1 image.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)


def repo(root: Path, config: str, files: dict[str, bytes]) -> Path:
    """A repository whose base holds ``config``; ``files`` are committed on a branch."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".github").mkdir()
    (root / ".github/prgate.yml").write_text(config)
    (root / "README.md").write_text("Shop\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    for path, data in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "change")
    return root


def by_rule(report: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in report["findings"] if f["path"] == path}


def test_a_one_line_python_file_over_1_mib_fails_every_rule_that_judges_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = b"DATA = '" + b"a" * (MIB + 50 * 1024) + b"'\n"
    root = repo(
        tmp_path / "r", "packs: [python-style, hygiene]\n", {"app/data.py": big, "notes.md": b"x\n"}
    )
    code, report = check_json(root, "--base", "main", "--head", "feature", capsys=capsys)
    assert code == 1
    found = by_rule(report, "app/data.py")
    assert set(found) == {
        "style/ruff-lint",
        "style/ruff-format",
        "content/debug",
        "content/secrets",
    }
    assert [found[r]["level"] for r in sorted(found)] == ["warning", "error", "warning", "error"]
    secrets = found["content/secrets"]
    assert secrets["title"] == "prgate could not check this file for passwords, keys and tokens"
    assert secrets["message"] == (
        "This file is larger than 1 MiB (1,074 KiB), so prgate could not check it for "
        "passwords, keys and tokens."
    )
    assert secrets["fix"].startswith("Split it into smaller files, each under 1 MiB.")
    assert secrets["line"] is None
    assert report["skipped"] == []


def test_latin1_python_with_a_coding_line_cannot_hide_a_breakpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "# -*- coding: latin-1 -*-\nNAME = 'café'\nbreakpoint()\n".encode("latin-1")
    config = "packs: [hygiene]\nrules:\n  content/debug: {level: error}\n"
    root = repo(tmp_path / "r", config, {"app/menu.py": source, "tests/test_menu.py": b"\n"})
    code, report = check_json(root, "--base", "main", "--head", "feature", capsys=capsys)
    assert code == 1
    debug = by_rule(report, "app/menu.py")["content/debug"]
    assert debug["level"] == "error"
    assert "not UTF-8" in debug["message"]
    assert "print(), breakpoint() and pdb" in debug["message"]
    assert debug["fix"].startswith("Save the file as UTF-8 text")
    assert report["skipped"] == []


def test_a_secret_in_a_json_file_with_one_nul_byte_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ('{\n  "region": "eu-west-1",\n  "key": "' + AWS_KEY + '",\n  "pad": "\0"\n}\n').encode()
    root = repo(tmp_path / "r", "packs: [hygiene]\n", {"config/cloud.json": data})
    code, report = check_json(root, "--base", "main", "--head", "feature", capsys=capsys)
    assert code == 1
    secret = by_rule(report, "config/cloud.json")["content/secrets"]
    assert (secret["level"], secret["line"]) == ("error", 3)
    assert "an AWS access key ID" in secret["message"]
    assert AWS_KEY not in str(report)
    assert report["skipped"] == []


def test_valid_code_with_deeply_indented_continuation_lines_is_judged_for_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = "".join(" " * (4 * i) + f"item{i},\n" for i in range(1, 130))
    source = f"def new_checkout(cart):\n    return send(\n{args}    )\n"
    compile(source, "checkout.py", "exec")
    config = (
        "packs: [feature-flags]\nrules:\n  flags/guarded:\n    paths: ['app/features/**']\n"
        "  flags/registered: {level: off}\n"
    )
    root = repo(tmp_path / "r", config, {"app/features/checkout.py": source.encode()})
    code, report = check_json(root, "--base", "main", "--head", "feature", capsys=capsys)
    assert code == 1
    guarded = by_rule(report, "app/features/checkout.py")["flags/guarded"]
    assert (guarded["line"], guarded["message"]) == (
        1,
        "The new function `new_checkout` runs without checking a feature flag.",
    )
    assert report["skipped"] == []


def test_code_nested_past_pythons_limit_under_a_flagged_path_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "".join(" " * i + "if cart:\n" for i in range(1, 110)) + " " * 110 + "go()\n"
    config = "packs: [feature-flags]\nrules:\n  flags/guarded:\n    paths: ['app/features/**']\n"
    source = ("def new_checkout(cart):\n" + body).encode()
    root = repo(tmp_path / "r", config, {"app/features/checkout.py": source})
    code, report = check_json(root, "--base", "main", "--head", "feature", capsys=capsys)
    assert code == 1
    guarded = by_rule(report, "app/features/checkout.py")["flags/guarded"]
    assert guarded["title"] == (
        "prgate could not check this file for new code outside a feature-flag check"
    )
    assert "more than 100 levels of indentation" in guarded["message"]
    assert guarded["fix"].startswith("Simplify the most deeply nested part of the file")


def test_a_flag_scan_that_runs_out_of_time_fails_the_rule(tmp_path: Path) -> None:
    # 600 functions: libcst needs a good part of a second for them, the limit below is 0.01 s.
    source = "".join(f"def step{i}(cart):\n    return len(cart) + {i}\n\n\n" for i in range(600))
    config = "packs: [feature-flags]\nrules:\n  flags/guarded:\n    paths: ['app/features/**']\n"
    root = repo(tmp_path / "r", config, {"app/features/checkout.py": source.encode()})
    change = open_change(root, base="main", head="feature")
    assert change.base_commit is not None
    config_ = resolve_config(GitRefFetcher(change.root, change.base_commit))
    slow = evaluate(change.changeset, config_, scan_limits=Limits(timeout=0.01, workers=1))
    guarded = [f for f in slow.findings if f.rule == "flags/guarded"]
    assert [(f.path, f.line, f.level) for f in guarded] == [
        ("app/features/checkout.py", None, "error")
    ]
    assert "took too long to analyse" in guarded[0].message
    assert guarded[0].fix.startswith("Split the file into smaller modules")
    assert slow.conclusion == "failure"
    # The time allowed for every file of the change spent before this one was read.
    spent = evaluate(change.changeset, config_, scan_limits=Limits(budget=0))
    (finding,) = [f for f in spent.findings if f.rule == "flags/guarded"]
    assert "the time allowed for reading files ran out" in finding.message
    assert spent.skipped == ()


def test_an_image_no_rule_judges_stays_a_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(
        tmp_path / "r",
        "packs: [python-style, hygiene, feature-flags]\n",
        {"assets/logo.png": PNG, "fonts/brand.woff2": b"wOF2\0\1\0\0" + bytes(range(256)) * 8},
    )
    code, report = check_json(root, "--base", "main", "--head", "feature", capsys=capsys)
    assert code == 0
    assert report["findings"] == []
    assert {s["path"]: s["reason"] for s in report["skipped"]} == {
        "assets/logo.png": "a binary file: its contents were not checked",
        "fonts/brand.woff2": "a binary file: its contents were not checked",
    }
