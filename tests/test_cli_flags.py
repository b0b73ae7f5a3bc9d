"""`prgate check` and `prgate config validate` with the feature-flags pack, on real repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from linkrepos import git

from prgate.cli import main

VIEWS = """\
from flask import Flask

app = Flask(__name__)


@app.route("/invoices")
def invoices():
    return render_template("invoices.html")


class Billing:
    def total(self, order):
        return order.amount
"""


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def repo(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, ".github/prgate.yml", config)
    write(root, "feature-flags.yml", "- new-invoices\n")
    write(root, "app/views.py", VIEWS)
    write(root, "app/helpers.py", "def slug(text):\n    return text.lower()\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["check", str(root), "--base", "main", "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_without_paths_the_rule_is_inactive_and_validate_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(tmp_path, "packs: [feature-flags]\n")
    write(root, "app/helpers.py", "def slug(text):\n    return text.strip().lower()\n")
    write(root, "lib/dates.py", "def today():\n    return date.today()\n")
    code, report = check(root, capsys)
    assert (code, report["findings"]) == (0, [])

    assert main(["config", "validate", str(root / ".github/prgate.yml")]) == 0
    err = capsys.readouterr().err
    assert "prgate: notice: `flags/guarded`" in err
    assert "checks nothing: it has no `paths`" in err
    assert "level to `off`" in err


def test_validate_is_quiet_once_the_team_names_its_flagged_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(
        tmp_path, 'packs: [feature-flags]\nrules:\n  flags/guarded:\n    paths: ["app/**"]\n'
    )
    capsys.readouterr()
    assert main(["config", "validate", str(root / ".github/prgate.yml")]) == 0
    assert "notice" not in capsys.readouterr().err


def test_the_advice_keeps_the_old_path_of_a_function_that_existed_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(
        tmp_path, 'packs: [feature-flags]\nrules:\n  flags/guarded:\n    paths: ["app/**"]\n'
    )
    changed = VIEWS.replace(
        '    return render_template("invoices.html")',
        '    return render_template("invoices.html", pdf=True)',
    ).replace("        return order.amount", "        return order.amount * 1.2")
    write(
        root,
        "app/views.py",
        changed + "\n\ndef export(order):\n    return render_pdf(order)\n",
    )
    code, report = check(root, capsys)
    assert code == 1
    findings = {f["line"]: f for f in report["findings"]}  # type: ignore[union-attr]
    assert sorted(findings) == [7, 12, 16]

    view = findings[7]
    assert "`invoices` existed before this change" in view["message"]
    # Returning early while the flag is off would answer nothing on every request.
    assert ": return" not in view["fix"] and "if not" not in view["fix"]
    assert '`if flags.enabled("your-flag-name"):`' in view["fix"]
    assert "old code in the `else:` branch" in view["fix"]

    method = findings[12]
    assert "The method `Billing.total` existed before this change" in method["message"]
    assert "`Billing.total` existed before this change" in method["fix"]
    assert ": return" not in method["fix"]

    new = findings[16]
    assert new["message"] == "The new function `export` runs without checking a feature flag."
    assert "`export` is new" in new["fix"]
    assert '`if not flags.enabled("your-flag-name"): return`' in new["fix"]


def test_only_comment_edits_pass_with_the_rule_on_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repo(
        tmp_path, 'packs: [feature-flags]\nrules:\n  flags/guarded:\n    paths: ["**/*.py"]\n'
    )
    write(
        root,
        "app/views.py",
        VIEWS.replace("def invoices():\n", "def invoices():\n    # the list page\n"),
    )
    write(root, "app/helpers.py", "# helpers\ndef slug(text):\n    return text.lower()\n")
    code, report = check(root, capsys)
    assert (code, report["findings"]) == (0, [])
