"""``style/ruff-lint`` and ``style/ruff-format`` on real git repositories: the team's settings on
the base branch, found as ruff finds them, and the whole tree for first-party modules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from prgate.checks.ruff import ruff_binary
from prgate.cli import main
from tests.test_cli import git, write

CONFIG = "packs: [python-style]\n"


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, ".github/prgate.yml", CONFIG)
    for path, text in files.items():
        write(root, path, text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def commit(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        write(root, path, text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "change")


def findings(root: Path, capsys: pytest.CaptureFixture[str], rule: str) -> list[dict[str, object]]:
    main(["check", str(root), "--base", "main", "--head", "HEAD", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    return [f for f in report["findings"] if f["rule"] == rule]


def teams_ruff(root: Path, path: str) -> list[tuple[str, int]]:
    """What ``ruff check`` run by the team in the checkout reports on ``path``."""
    done = subprocess.run(
        [ruff_binary(), "check", "--no-cache", "--output-format", "json", "--force-exclude", path],
        cwd=root,
        capture_output=True,
        check=False,
    )
    return sorted((i["code"], i["location"]["row"]) for i in json.loads(done.stdout or b"[]"))


SRC_LAYOUT = {
    "pyproject.toml": "[project]\nname = 'shop'\nrequires-python = '>=3.11'\n"
    "[tool.ruff]\nsrc = ['src']\n[tool.ruff.lint]\nselect = ['I', 'F']\n",
    "src/shop/__init__.py": "",
    "src/shop/orders.py": "def total(items):\n    return sum(items)\n",
    "src/shop/money.py": "X = 1\n",
}


def test_first_party_modules_are_seen_in_the_whole_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, SRC_LAYOUT)
    # Sorted as the team's ruff wants: stdlib, third party, then the project's own (shop).
    commit(
        root,
        {
            "tests/test_orders.py": "import os\n\nimport pytest\n\nfrom shop.money import X\n\n"
            "print(os, pytest, X)\n"
        },
    )
    assert teams_ruff(root, "tests/test_orders.py") == []
    assert findings(root, capsys, "style/ruff-lint") == []


def test_nested_settings_and_excludes_are_ruffs_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(
        tmp_path,
        {
            "pyproject.toml": "[tool.ruff]\nextend-exclude = ['vendored']\n"
            "[tool.ruff.lint]\nselect = ['F', 'E501']\n",
            "sub/pyproject.toml": "[tool.ruff]\nline-length = 200\n"
            "[tool.ruff.lint]\nselect = ['F']\nignore = ['F401']\n",
            "tests/ruff.toml": "extend = '../pyproject.toml'\n[lint]\nextend-select = ['B006']\n",
        },
    )
    long = "X = '" + "x" * 100 + "'\n"
    commit(
        root,
        {
            "vendored/lib.py": "import os\n" + long,
            "sub/m.py": "import os\n" + long,
            "tests/t.py": "def f(x=[]):\n    return x\n",
            "top.py": "import os\n" + long,
        },
    )
    got = sorted(
        (f["path"], f["line"], str(f["message"]).rsplit("(ruff ", 1)[1])
        for f in findings(root, capsys, "style/ruff-lint")
    )
    assert got == [("tests/t.py", 1, "B006)"), ("top.py", 1, "F401)"), ("top.py", 2, "E501)")]
    for path in ("vendored/lib.py", "sub/m.py", "top.py", "tests/t.py"):
        ours = sorted((str(f[2])[:-1], f[1]) for f in got if f[0] == path)
        assert teams_ruff(root, path) == ours


def test_the_change_cannot_loosen_the_settings_it_is_judged_by(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, {"pyproject.toml": "[tool.ruff.lint]\nselect = ['F']\n"})
    commit(
        root,
        {
            "pyproject.toml": "[tool.ruff.lint]\nselect = ['F']\nignore = ['F401']\n",
            "pkg/ruff.toml": "[lint]\nignore = ['F']\n",
            "pkg/a.py": "import os\n",
        },
    )
    assert [f["line"] for f in findings(root, capsys, "style/ruff-lint")] == [1]


def test_a_removed_display_setting_is_dropped_with_a_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, {"pyproject.toml": "[tool.ruff]\nshow-source = true\n"})
    commit(root, {"a.py": "import os\n"})
    found = findings(root, capsys, "style/ruff-lint")
    notice = [f for f in found if f["level"] == "notice"]
    assert [(f["path"], "show-source" in str(f["message"])) for f in notice] == [
        ("pyproject.toml", True)
    ]
    assert any("(ruff F401)" in str(f["message"]) for f in found)


def test_a_setting_ruff_refuses_is_a_config_error_in_ruffs_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, {"pyproject.toml": "[tool.ruff.lint]\nselct = ['F']\n"})
    commit(root, {"a.py": "import os\n"})
    code = main(["check", str(root), "--base", "main", "--head", "HEAD"])
    err = capsys.readouterr().err
    assert code == 2
    assert "pyproject.toml" in err and "unknown field `selct`" in err
    assert "not a problem of this change" in err and "again" not in err


def test_without_ruff_settings_the_conservative_default_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, {"README.md": "hi\n"})
    # E701 (two statements on a line) is taste, not in the default; F821 is a mistake.
    commit(root, {"a.py": "if True: y = undefined_name\n"})
    got = [
        str(f["message"]).rsplit("(ruff ", 1)[1] for f in findings(root, capsys, "style/ruff-lint")
    ]
    assert got == ["F821)"]


def test_format_blames_only_lines_the_change_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = "X = {'a':1}\n\n\ndef f():\n    return 1\n"
    root = repo(tmp_path, {"pyproject.toml": "[tool.ruff]\n", "m.py": old})
    commit(root, {"m.py": old + "\n\nY = [1,2]\n"})
    got = [(f["line"], f["end_line"]) for f in findings(root, capsys, "style/ruff-format")]
    assert got == [(8, 8)]


def test_fix_reformats_only_the_added_lines_with_the_teams_line_length(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = "X = {'a':1}\n"
    root = repo(
        tmp_path,
        {
            "base.toml": "line-length = 120\n",
            "ruff.toml": "extend = 'base.toml'\n",
            "m.py": old,
            "other.py": "Z = {'b':2}\n",
        },
    )
    call = "Y = dict(" + ", ".join(f"k{i}=[{i},{i}]" for i in range(8)) + ")\n"
    commit(root, {"m.py": old + call})
    assert main(["fix", str(root), "--base", "main"]) == 0
    capsys.readouterr()
    text = (root / "m.py").read_text()
    assert text.splitlines()[0] == "X = {'a':1}"  # the old line is left as it was
    assert text.splitlines()[1] == call.strip().replace(",", ", ").replace(",  ", ", ")
    assert len(text.splitlines()[1]) > 88  # 120 columns, from the extended file
    assert (root / "other.py").read_text() == "Z = {'b':2}\n"
