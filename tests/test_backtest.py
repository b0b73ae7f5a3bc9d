"""`prgate rules backtest` on a real repository with merged changes of different shapes.

Every verdict the backtest reports is checked against `prgate check --base B --head H` run as
its own child process, with and without `--config`: the same engine must say the same thing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.prgaterun import child_env, prgate

CONFIG = """\
packs: [python-style, safe-zones, hygiene]
rules:
  paths/forbidden:
    paths: ["infra/**"]
"""

#: The proposal: prints block, docs/ is forbidden too, ruff's lint only warns.
PROPOSAL = """\
packs: [python-style, safe-zones, hygiene]
rules:
  paths/forbidden:
    paths: ["infra/**", "docs/**"]
  content/debug:
    level: error
  style/ruff-lint:
    level: warning
"""

#: A title that would mention, link and move a terminal's cursor if shown raw.
NASTY = "Fix @octocat's bug <b>see</b> https://evil.example \x1b[2J"


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=root, env=child_env(), capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def merge_pr(root: Path, branch: str, number: int, title: str) -> str:
    git(root, "checkout", "-q", "main")
    git(
        root,
        "merge",
        "-q",
        "--no-ff",
        branch,
        "-m",
        f"Merge pull request #{number} from someone/{branch}",
        "-m",
        title,
    )
    return git(root, "rev-parse", "HEAD")


def build_history(root: Path) -> None:
    """Eight merged changes after a first commit: merge commits and squashes, a forbidden path,
    an unused import, a print, a config edit, a branch that started before that edit."""
    git(root, "init", "-q", "-b", "main")
    write(root, ".github/prgate.yml", CONFIG)
    write(root, "src/app.py", 'def main():\n    return "ok"\n')
    write(root, "tests/test_app.py", "def test_main():\n    assert True\n")
    commit(root, "First commit")
    # 1: a squash merge of a clean change with its test
    write(root, "src/util.py", "def double(x):\n    return 2 * x\n")
    write(root, "tests/test_util.py", "def test_double():\n    assert 2 == 2\n")
    commit(root, "Add a helper (#1)")
    # 2: a PR merged with a merge commit, two commits on its branch, one with an unused import
    git(root, "checkout", "-q", "-b", "feature-a")
    write(root, "src/a.py", "import os\n\n\ndef a():\n    return 1\n")
    commit(root, "Start a")
    write(root, "tests/test_a.py", "def test_a():\n    assert True\n")
    commit(root, "Test a")
    # a branch started here, merged after the config changes (7)
    git(root, "branch", "late", "main")
    merge_pr(root, "feature-a", 2, "Add feature A")
    # 3: a squash that touches a forbidden path
    write(root, "infra/main.tf", 'resource "x" "y" {}\n')
    commit(root, "Change the servers (#3)")
    # 4: a merge commit whose change leaves a print in
    git(root, "checkout", "-q", "-b", "feature-b")
    write(root, "src/b.py", 'def b():\n    print("debug")\n    return 2\n')
    write(root, "tests/test_b.py", "def test_b():\n    assert True\n")
    commit(root, "Add b")
    merge_pr(root, "feature-b", 4, NASTY)
    # 5: a change that edits the config itself: from here on, source without tests blocks
    write(root, ".github/prgate.yml", CONFIG + "  tests/required:\n    level: error\n")
    commit(root, "Require tests (#5)")
    # 6: docs only
    write(root, "docs/guide.md", "# Guide\n")
    commit(root, "Write a guide (#6)")
    # 7: the branch that started before 3..6, merged now
    git(root, "checkout", "-q", "late")
    write(root, "src/late.py", "import sys\n\n\ndef late():\n    return 3\n")
    commit(root, "Late work")
    merge_pr(root, "late", 7, "Late feature")
    # 8: a squash with source but no test
    write(root, "src/app.py", 'def main():\n    return "still ok"\n')
    commit(root, "Tweak main (#8)")
    write(root, "proposal.yml", PROPOSAL)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("backtest") / "repo"
    root.mkdir()
    build_history(root)
    return root


@pytest.fixture(scope="module")
def report(history: Path) -> dict[str, object]:
    done = prgate(history, "rules", "backtest", "--config", "proposal.yml", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # exactly one JSON object, nothing else
    assert isinstance(data, dict)
    return data


def check_verdict(root: Path, base: str, head: str, *config: str) -> tuple[str, list[str]]:
    done = prgate(root, "check", "--base", base, "--head", head, *config, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    blocking = sorted({f["rule"] for f in data["findings"] if f["level"] == "error"})
    return data["conclusion"], blocking


def test_json_shape_and_the_changes_replayed(history: Path, report: dict[str, object]) -> None:
    assert set(report) == {"base", "changes", "rules"}
    assert report["base"] == git(history, "rev-parse", "HEAD")
    changes = report["changes"]
    assert isinstance(changes, list) and len(changes) == 8
    for item in changes:
        assert set(item) == {"base", "head", "title", "current", "proposed", "blocking"}
        assert set(item["blocking"]) == {"current", "proposed"}
    # newest first; merge commits judged from the first parent to the merged branch's tip
    first_parents = git(history, "rev-list", "--first-parent", "--parents", "-n", "8", "HEAD")
    for item, line in zip(changes, first_parents.splitlines(), strict=True):
        sha, *parents = line.split()
        assert item["base"] == parents[0]
        assert item["head"] == (parents[1] if len(parents) > 1 else sha)
    titles = [item["title"] for item in changes]
    assert titles[0] == "Tweak main (#8)"
    assert titles[1] == "Late feature"  # a PR's title, not "Merge pull request #7 ..."
    assert NASTY in titles  # JSON keeps the title; json escapes the control character
    rules = report["rules"]
    assert isinstance(rules, dict)
    assert rules["paths/forbidden"] == {
        "current": {"blocked": 1, "warned": 0},
        "proposed": {"blocked": 2, "warned": 0},
    }
    assert rules["content/debug"]["current"] == {"blocked": 0, "warned": 1}
    assert rules["content/debug"]["proposed"] == {"blocked": 1, "warned": 0}
    assert rules["style/ruff-lint"]["current"]["blocked"] == 2
    assert rules["style/ruff-lint"]["proposed"] == {"blocked": 0, "warned": 2}
    # the config edited by change 5 judges the changes after it (7 and 8), not those before
    assert rules["tests/required"]["current"] == {"blocked": 2, "warned": 0}
    assert rules["tests/required"]["proposed"] == {"blocked": 0, "warned": 2}


def test_each_verdict_is_what_prgate_check_says(history: Path, report: dict[str, object]) -> None:
    changes = report["changes"]
    assert isinstance(changes, list)
    for item in changes:
        base, head = item["base"], item["head"]
        current = check_verdict(history, base, head)
        proposed = check_verdict(history, base, head, "--config", "proposal.yml")
        assert (item["current"], item["blocking"]["current"]) == current, item["title"]
        assert (item["proposed"], item["blocking"]["proposed"]) == proposed, item["title"]
    outcomes = {(i["current"], i["proposed"]) for i in changes}
    assert ("success", "failure") in outcomes  # something newly blocks
    assert ("failure", "success") in outcomes  # something newly passes


def test_text_summary_for_a_lead(history: Path) -> None:
    done = prgate(history, "rules", "backtest", "--config", "proposal.yml", "--last", "8")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        "With the proposed rules, 3 of the last 8 changes would have been blocked "
        "(1 fewer than today); 2 would newly be blocked and 3 would newly pass." in out
    )
    assert "Newly blocked: 2, for example:" in out
    assert "Write a guide (#6)" in out and "paths/forbidden" in out
    assert "\x1b" not in out and "\\x1b[2J" in out  # the commit's escape is shown, not run


def test_markdown_escapes_commit_text(history: Path) -> None:
    done = prgate(history, "rules", "backtest", "--config", "proposal.yml", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "## prgate backtest" in out
    assert "| paths/forbidden | 1 | 2 | 0 | 0 |" in out
    assert "@octocat" not in out and "<b>" not in out and "https://evil" not in out
    assert "octocat" in out  # the title is there, made inert


def test_last_and_since(history: Path) -> None:
    done = prgate(history, "rules", "backtest", "--last", "3", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [c["title"] for c in data["changes"]] == [
        "Tweak main (#8)",
        "Late feature",
        "Write a guide (#6)",
    ]
    # the working tree's .github/prgate.yml is the proposal: nothing differs from today
    assert all(c["current"] == c["proposed"] for c in data["changes"])
    future = prgate(history, "rules", "backtest", "--since", "2999-01-01")
    assert future.returncode == 2
    assert "no merged change to replay" in future.stderr
    assert future.stdout == ""
    everything = prgate(history, "rules", "backtest", "--since", "2001-01-01", "--format", "json")
    assert everything.returncode == 0, everything.stderr
    assert len(json.loads(everything.stdout)["changes"]) == 8
    garbled = prgate(history, "rules", "backtest", "--since", "last tuesdayish")
    assert garbled.returncode == 2 and "--since takes a date" in garbled.stderr


def test_could_not(tmp_path: Path, history: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    done = prgate(plain, "rules", "backtest")
    assert done.returncode == 2 and "not inside a git repository" in done.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("packs: [safe-zones]\nrules:\n  paths/forbidden:\n    levle: error\n")
    done = prgate(history, "rules", "backtest", "--config", str(bad))
    assert done.returncode == 2, done.stdout
    assert f"{bad}:4:" in done.stderr
    missing = prgate(history, "rules", "backtest", "--config", "nope.yml")
    assert missing.returncode == 2 and "nope.yml" in missing.stderr
    assert missing.stdout == ""


def test_a_broken_config_on_a_base_fails_closed(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, ".github/prgate.yml", "packs: [no-such-pack]\n")
    write(root, "README.md", "hello\n")
    commit(root, "First commit")
    write(root, ".github/prgate.yml", CONFIG)
    commit(root, "Fix the config (#1)")
    write(root, "README.md", "hello again\n")
    commit(root, "Say it again (#2)")
    write(root, "proposal.yml", PROPOSAL)
    done = prgate(root, "rules", "backtest", "--config", "proposal.yml", "--format", "json")
    assert done.returncode == 0, done.stderr
    later, first = json.loads(done.stdout)["changes"]
    assert later["current"] == "success" and "could_not_judge" not in later
    assert first["current"] == "failure" and first["proposed"] == "success"
    assert ".github/prgate.yml:1:" in first["could_not_judge"]["current"]
    # what `prgate check` does with that change: it cannot judge it either
    check = prgate(root, "check", "--base", first["base"], "--head", first["head"])
    assert check.returncode == 2 and ".github/prgate.yml:1:" in check.stderr
