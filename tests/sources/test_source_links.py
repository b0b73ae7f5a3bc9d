"""Links and submodules through `prgate check` on real git repositories: findings, not skips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakegithub import Gitlink, Symlink
from linkrepos import local_repo

from prgate.cli import main
from prgate.sources.git import open_change

CONFIG = """\
packs: [feature-flags, hygiene]
rules:
  flags/guarded:
    paths: ["app/features/**"]
  flags/registered:
    level: "off"
  tests/required:
    level: "off"
  size/limit:
    level: "off"
"""
BASE = {
    ".github/prgate.yml": CONFIG,
    "app/__init__.py": "",
    "app/features/__init__.py": "",
    "lib/helpers/util.py": "def helper():\n    return 1\n",
}
SUBMODULE_COMMIT = "5" * 40


def check(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    main(["check", str(root), "--base", "main", "--format", "json", *extra])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


def guarded(report: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["message"] for f in report["findings"] if f["rule"] == "flags/guarded"}


@pytest.mark.parametrize("commit", [True, False], ids=["commit", "work tree"])
def test_a_folder_link_under_a_guarded_folder_fails_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], commit: bool
) -> None:
    head = {"app/features/plugins": Symlink("../../lib/helpers")}
    root = local_repo(tmp_path / "r", BASE, head, commit=commit)
    report = check(root, capsys, *(["--head", "feature"] if commit else []))
    assert report["conclusion"] == "failure"
    message = guarded(report)["app/features/plugins"]
    assert "adds a link at app/features/plugins that points to `../../lib/helpers`" in message
    assert "does not follow links" in message
    (finding,) = [f for f in report["findings"] if f["path"] == "app/features/plugins"]
    assert finding["level"] == "error"
    assert "Replace the link with the file itself" in finding["fix"]


def test_a_link_pointing_into_a_guarded_folder_from_outside_fails_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = {"lib/shortcut.py": Symlink("../app/features/__init__.py")}
    root = local_repo(tmp_path / "r", BASE, head)
    report = check(root, capsys, "--head", "feature")
    assert report["conclusion"] == "failure"
    assert "among the files this rule checks" in guarded(report)["lib/shortcut.py"]


def test_a_submodule_under_a_guarded_folder_fails_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = {"app/features/vendored": Gitlink(SUBMODULE_COMMIT)}
    root = local_repo(tmp_path / "r", BASE, head)
    report = check(root, capsys, "--head", "feature")
    assert report["conclusion"] == "failure"
    message = guarded(report)["app/features/vendored"]
    assert "adds a submodule at app/features/vendored" in message
    assert "does not look inside other repositories" in message


def test_links_and_submodules_outside_every_rule_stay_notices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = {
        "docs/guide": Symlink("../lib/helpers"),
        "third_party/lib": Gitlink(SUBMODULE_COMMIT),
    }
    root = local_repo(tmp_path / "r", BASE, head)
    report = check(root, capsys, "--head", "feature")
    assert report["conclusion"] == "success", report["findings"]
    assert {s["path"] for s in report["skipped"]} >= {"docs/guide", "third_party/lib"}


def test_the_cli_keeps_where_a_link_points(tmp_path: Path) -> None:
    head = {"app/features/plugins": Symlink("../../lib/helpers")}
    for commit in (True, False):
        root = local_repo(tmp_path / f"r{commit}", BASE, head, commit=commit)
        change = open_change(root, base="main", head="feature" if commit else None)
        (link,) = [f for f in change.changeset.files if f.path == "app/features/plugins"]
        assert link.is_symlink and link.link_target == "../../lib/helpers"
        assert link.head_bytes() is None  # never read as if it were the file
