"""What a new user of `prgate check` trips on: an empty change (the head is the base, on `main`
or in a shallow CI clone whose `origin/HEAD` is the branch itself) must say that nothing was
judged, never "nothing blocks", and must not pass in CI; help with examples; the CLI without the
App's extra dependencies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from linkrepos import git

BIN = Path(sys.executable).parent / "prgate"


def check(root: Path, *args: str, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [str(BIN), "check", *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "origin"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.py").write_text("x = 1\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "one")
    git(root, "checkout", "-qb", "feature")
    (root / "b.py").write_text("y = 2\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "two")
    git(root, "checkout", "-q", "main")
    return root


def test_on_the_base_itself_nothing_is_judged_and_says_so(tmp_path: Path) -> None:
    root = repo(tmp_path)
    done = check(root, ci=False)
    assert done.returncode == 0, done.stderr
    assert "nothing was judged" in done.stdout and "same commit as the base" in done.stdout
    assert "nothing blocks" not in done.stdout + done.stderr


def test_in_ci_the_base_being_the_head_cannot_pass(tmp_path: Path) -> None:
    root = repo(tmp_path)
    done = check(root, ci=True)
    assert done.returncode == 2
    assert "nothing was judged" in done.stderr
    assert "--base origin/main" in done.stderr and "fetch-depth: 0" in done.stderr
    assert done.stdout == ""


def test_a_shallow_ci_clone_whose_origin_head_is_the_branch(tmp_path: Path) -> None:
    origin = repo(tmp_path)
    git(origin, "checkout", "-q", "feature")  # what a clone of the PR's branch sees
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    assert check(clone, ci=True).returncode == 2
    # Named base, but the shallow clone holds no common history: say how to fetch it.
    git(clone, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    done = check(clone, "--base", "origin/main", ci=True)
    assert done.returncode == 2
    assert "shallow" in done.stderr and "fetch-depth: 0" in done.stderr


def test_a_branch_already_merged_is_no_change_in_ci(tmp_path: Path) -> None:
    root = repo(tmp_path)
    git(root, "merge", "-q", "--ff-only", "feature")
    (root / "c.py").write_text("z = 3\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "three")
    done = check(root, "--base", "main", "--head", "feature", ci=True)
    assert done.returncode == 2 and "already part of the base" in done.stderr


def test_machine_formats_still_print_their_report(tmp_path: Path) -> None:
    root = repo(tmp_path)
    done = check(root, "--format", "json", ci=False)
    assert done.returncode == 0
    assert json.loads(done.stdout)["findings"] == []
    assert "nothing was judged" in done.stderr


def test_a_real_change_is_judged_as_before(tmp_path: Path) -> None:
    root = repo(tmp_path)
    done = check(root, "--base", "main", "--head", "feature", ci=True)
    assert done.returncode == 0, done.stderr
    assert "nothing was judged" not in done.stderr


def test_help_shows_examples_and_exit_codes() -> None:
    for args, wanted in (
        (["check", "--help"], ["examples:", "--base origin/main", "exit codes:", "2  prgate"]),
        (["config", "validate", "--help"], ["example:", "exit codes: 0 valid"]),
        (["fix", "--help"], ["prgate fix && prgate check"]),
        (["--help"], ["prgate COMMAND --help"]),
    ):
        done = subprocess.run([str(BIN), *args], capture_output=True, text=True, check=False)
        assert done.returncode == 0
        for text in wanted:
            assert text in done.stdout, (args, text)


APP_ONLY = ("fastapi", "uvicorn", "githubkit", "psycopg", "prometheus_client", "psycopg_pool")


def _without_app_extra(code: str) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` in a Python where the App's extra dependencies cannot be imported."""
    prelude = f"import sys\nfor m in {APP_ONLY!r}:\n    sys.modules[m] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, check=False
    )


def test_the_command_line_works_without_the_app_extra(tmp_path: Path) -> None:
    root = repo(tmp_path)
    done = _without_app_extra(
        "from prgate.cli import main\n"
        f"rc = main(['check', {str(root)!r}, '--base', 'main', '--head', 'feature'])\n"
        "leaked = [m for m in sys.modules if m.split('.')[0] in "
        f"{APP_ONLY!r} and sys.modules[m] is not None]\n"
        "print('leaked', leaked)\n"
        "sys.exit(rc)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "leaked []" in done.stdout


def test_serve_without_the_app_extra_says_what_to_install() -> None:
    done = _without_app_extra("from prgate.cli import main\nsys.exit(main(['serve']))\n")
    assert done.returncode == 2
    assert 'pip install ".[app]"' in done.stderr and "fastapi" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_format_says_which_configuration_judged_the_change(tmp_path: Path) -> None:
    root = repo(tmp_path)
    for fmt in ("text", "json", "markdown", "sarif"):
        done = check(root, "--base", "main", "--head", "feature", "--format", fmt, ci=False)
        shown = done.stdout.replace("\\", "")  # markdown escapes its punctuation
        assert "defaults (packs python-style, web-style and hygiene)" in shown, fmt
    git(root, "checkout", "-q", "main")
    (root / ".github").mkdir()
    (root / ".github" / "prgate.yml").write_text("packs: [hygiene]\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "config")
    git(root, "checkout", "-q", "feature")
    git(root, "rebase", "-q", "main")
    done = check(root, "--base", "main", "--format", "json", ci=False)
    assert json.loads(done.stdout)["config"] == {"source": ".github/prgate.yml", "notes": []}


def test_sarif_of_a_whole_change_finding_has_a_location(tmp_path: Path) -> None:
    # `tests/required` speaks of the whole change; code scanning refuses results without a file.
    root = repo(tmp_path)
    done = check(root, "--base", "main", "--head", "feature", "--format", "sarif", ci=False)
    results = json.loads(done.stdout)["runs"][0]["results"]
    whole = [r for r in results if r["ruleId"] == "tests/required"]
    assert whole, results
    location = whole[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "b.py"
    assert location["region"] == {"startLine": 1}


def test_mcp_without_its_extra_says_what_to_install() -> None:
    prelude = "import sys\nsys.modules['mcp'] = None\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + "from prgate.cli import main\nsys.exit(main(['mcp']))\n"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert 'pip install ".[mcp]"' in done.stderr and "Traceback" not in done.stderr
