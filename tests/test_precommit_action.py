"""`.pre-commit-hooks.yaml` and `action.yml`: read by their own tools' rules, and run for real.

The pre-commit hooks run through `pre-commit try-repo` on real repositories, offline. The
`language: python` hook makes pre-commit build an environment with prgate and all its
dependencies (about a minute and a half here), so its entry is run directly as a child process,
and the `language: system` hook, which runs the same command, goes through pre-commit itself.
The Action's `run:` scripts run with bash against a real repository and a local `origin`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from linkrepos import git, write_files
from pre_commit.clientlib import load_manifest
from prgaterun import BIN, child_env

from prgate.prepush import hook_arguments

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"

CLEAN = {"app/orders.py": "def total(items):\n    return sum(items) + 0\n"}
CLEAN_TEST = {"tests/test_orders.py": "def test_total():\n    assert True\n"}
BLOCKED = {"app/orders.py": "import os\n\n\ndef total(items):\n    return sum(items)\n"}


def pushed_repo(root: Path, feature: dict[str, str]) -> Path:
    """``main`` with one file, ``feature`` with ``feature`` committed on top."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, {"app/orders.py": "def total(items):\n    return sum(items)\n"})
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    write_files(root, feature)
    git(root, "commit", "-qm", "feature")
    return root


# --- pre-commit -----------------------------------------------------------------------------


def test_hooks_manifest_is_valid_for_pre_commit_and_runs_on_push() -> None:
    hooks = {h["id"]: h for h in load_manifest(str(HOOKS))}
    assert set(hooks) == {"prgate", "prgate-system"}
    for hook in hooks.values():
        assert hook["stages"] == ["pre-push"]
        assert hook["pass_filenames"] is False
        assert hook["always_run"] is True
    assert hooks["prgate"]["language"] == "python"
    assert hooks["prgate"]["entry"] == "python -m prgate.prepush"
    # pre-commit 4.4+ calls `system` "unsupported"; `system` is kept for older versions
    assert hooks["prgate-system"]["language"] in ("system", "unsupported")
    assert yaml.safe_load(HOOKS.read_text())[1]["language"] == "system"


def test_hook_arguments_judge_the_pushed_commit_against_the_default_branch() -> None:
    sha = "a" * 40
    assert hook_arguments({"PRE_COMMIT_TO_REF": sha, "PRE_COMMIT_FROM_REF": "b" * 40}) == [
        "check",
        "--head",
        sha,
    ]
    assert hook_arguments({}) == ["check"]  # by hand: the working tree
    assert hook_arguments({"PRE_COMMIT_TO_REF": "0" * 40}) == ["check"]


def _hook_repo(tmp_path: Path) -> Path:
    """A git repository holding this checkout's hook manifest, as `try-repo` needs one."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    shutil.copy(HOOKS, hooks / ".pre-commit-hooks.yaml")
    git(hooks, "init", "-q", "-b", "main")
    git(hooks, "add", "-A")
    git(hooks, "commit", "-qm", "hooks")
    return hooks


def _try_repo(hooks: Path, repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "pre-commit"),
            "try-repo",
            str(hooks),
            "prgate-system",
            "--hook-stage",
            "pre-push",
            "--from-ref",
            "main",
            "--to-ref",
            git(repo, "rev-parse", "feature"),
            "--verbose",
        ],
        cwd=repo,
        env=child_env({"PRE_COMMIT_HOME": str(home)}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_system_hook_through_pre_commit_blocks_a_bad_push_and_passes_a_good_one(
    tmp_path: Path,
) -> None:
    hooks = _hook_repo(tmp_path)
    home = tmp_path / "pre-commit-home"
    bad = pushed_repo(tmp_path / "bad", BLOCKED | CLEAN_TEST)
    ran = _try_repo(hooks, bad, home)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "style/ruff-lint" in ran.stdout and "1 problem blocks this change" in ran.stdout

    # The pushed commit is clean; an unfinished, uncommitted edit is not being pushed.
    good = pushed_repo(tmp_path / "good", CLEAN | CLEAN_TEST)
    (good / "app/orders.py").write_text("import sys\n")
    ran = _try_repo(hooks, good, home)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Passed" in ran.stdout


@pytest.mark.parametrize(("feature", "code"), [(BLOCKED | CLEAN_TEST, 1), (CLEAN | CLEAN_TEST, 0)])
def test_python_hook_entry_judges_the_pushed_commit(
    tmp_path: Path, feature: dict[str, str], code: int
) -> None:
    repo = pushed_repo(tmp_path / "r", feature)
    git(repo, "checkout", "-q", "main")  # pushing a branch that is not checked out
    (repo / "app/orders.py").write_text("import sys\n")  # not pushed: not judged
    entry = yaml.safe_load(HOOKS.read_text())[0]["entry"].split()
    assert entry[0] == "python"
    ran = subprocess.run(
        [str(BIN / "python"), *entry[1:]],
        cwd=repo,
        env=child_env({"PRE_COMMIT_TO_REF": git(repo, "rev-parse", "feature")}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == code, ran.stdout + ran.stderr
    assert ("style/ruff-lint" in ran.stdout) is (code == 1)


# --- the Action -----------------------------------------------------------------------------


def _action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


def _steps() -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in _action()["runs"]["steps"]}


def test_action_shape() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = _steps()
    assert list(steps) == [
        "Set up Python",
        "Install prgate",
        "Run prgate check",
        "Upload the findings to code scanning",
        "Verdict",
    ]
    assert steps["Set up Python"]["uses"].startswith("actions/setup-python@")
    check = steps["Run prgate check"]
    assert check["id"] == "check"
    assert "--format sarif --output" in check["run"]
    upload = steps["Upload the findings to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"].startswith("always()")  # uploaded even when the verdict fails
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert steps["Verdict"]["if"] == "always()"
    for step in steps.values():
        if "run" in step:
            assert step["shell"] == "bash"
            # inputs reach scripts through the environment, never pasted into them
            assert "${{" not in step["run"]
    assert set(action["outputs"]) == {"conclusion", "exit-code", "sarif-file"}


def _expand(value: str, outputs: dict[str, str]) -> str:
    """The few expressions action.yml uses, as the runner would fill them in."""
    defaults = {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()}

    def one(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        if expr.startswith("inputs."):
            return defaults[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(ROOT)
        if expr.startswith("steps.check.outputs."):
            return outputs.get(expr.removeprefix("steps.check.outputs."), "")
        raise AssertionError(f"unexpected expression {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def _run_step(
    name: str, workspace: Path, outputs: dict[str, str], *, path: str, base_ref: str = "main"
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    step = _steps()[name]
    out_file = workspace.parent / f"output-{name.replace(' ', '-')}"
    out_file.write_text("")
    env = child_env(
        {k: _expand(str(v), outputs) for k, v in step.get("env", {}).items()}
        | {"GITHUB_OUTPUT": str(out_file), "GITHUB_BASE_REF": base_ref}
    )
    env["PATH"] = f"{path}:{env['PATH']}"
    script = workspace.parent / "step.sh"
    script.write_text(step["run"])
    ran = subprocess.run(  # as the runner runs `shell: bash`
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    new = dict(line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line)
    return ran, new


def _pull_request_checkout(tmp_path: Path, feature: dict[str, str]) -> Path:
    """A clone of a repository with the PR's branch checked out and, as on a runner after
    actions/checkout, no remote-tracking ref of the base branch yet."""
    origin = pushed_repo(tmp_path / "origin", feature)
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", "--branch", "feature", str(origin), str(work))
    git(work, "update-ref", "-d", "refs/remotes/origin/main")
    return work


def test_action_install_step_installs_the_actions_own_copy(tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    shim.mkdir()
    record = tmp_path / "python-args"
    (shim / "python").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    (shim / "python").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    ran, _ = _run_step("Install prgate", work, {}, path=str(shim))
    assert ran.returncode == 0, ran.stderr
    args = record.read_text().splitlines()
    assert args[:3] == ["-m", "pip", "install"] and args[-1] == str(ROOT)


def test_action_blocked_change_writes_sarif_and_fails_the_job(tmp_path: Path) -> None:
    work = _pull_request_checkout(tmp_path, BLOCKED | CLEAN_TEST)
    ran, outputs = _run_step("Run prgate check", work, {}, path=str(BIN))
    assert ran.returncode == 0, ran.stderr  # the verdict is the last step's to give
    assert outputs["exit-code"] == "1" and outputs["conclusion"] == "failure"
    assert outputs["sarif"] == "true"
    sarif = json.loads((work / "prgate.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    rules = {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert "style/ruff-lint" in rules
    assert "style/ruff-lint" in ran.stdout  # the reasons, readable in the job's log
    verdict, _ = _run_step("Verdict", work, outputs, path=str(BIN))
    assert verdict.returncode == 1
    assert "::error title=prgate::" in verdict.stdout


def test_action_clean_change_passes(tmp_path: Path) -> None:
    work = _pull_request_checkout(tmp_path, CLEAN | CLEAN_TEST)
    ran, outputs = _run_step("Run prgate check", work, {}, path=str(BIN))
    assert ran.returncode == 0, ran.stderr
    assert outputs["exit-code"] == "0" and outputs["conclusion"] == "success"
    assert outputs["sarif"] == "true"
    verdict, _ = _run_step("Verdict", work, outputs, path=str(BIN))
    assert verdict.returncode == 0
    assert "nothing blocks" in verdict.stdout


def test_action_fails_closed_when_prgate_cannot_judge(tmp_path: Path) -> None:
    work = _pull_request_checkout(tmp_path, CLEAN | CLEAN_TEST)
    ran, outputs = _run_step("Run prgate check", work, {}, path=str(BIN), base_ref="no-such")
    assert ran.returncode == 0, ran.stderr
    assert outputs["exit-code"] == "2" and outputs["conclusion"] == "error"
    assert "sarif" not in outputs  # nothing to upload
    assert "The base 'origin/no-such'" in ran.stderr
    verdict, _ = _run_step("Verdict", work, outputs, path=str(BIN))
    assert verdict.returncode == 1
    assert "could not judge" in verdict.stdout
    # and when the check step never ran (prgate failed to install), the job fails too
    verdict, _ = _run_step("Verdict", work, {}, path=str(BIN))
    assert verdict.returncode == 1
