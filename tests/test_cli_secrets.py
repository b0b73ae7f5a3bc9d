"""`prgate check` as a real process on a real repository: no secret of its environment reaches a
child process (git, ruff, the flag parser's processes, the fork server, the resource tracker),
and a key written into the change is in none of its outputs, though the secrets rule reports it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from childwatch import AWS_KEY, SECRETS, Watch, leaks
from linkrepos import git

CONFIG = """\
packs: [python-style, hygiene, feature-flags]
rules:
  flags/guarded:
    paths: ["app/**"]
"""
BASE_VIEWS = "def invoices(order):\n    return order.lines\n"
HEAD_VIEWS = (
    "def invoices(order):\n    return order.lines\n\n\n"
    "def refund(order):\n    return order.total\n\n\n"
    f"KEY = {AWS_KEY}\n"
)
KEY_LINE = 9
MASKED = "AKIA…[hidden: an AWS access key ID]"
#: Text that reads as a private key, as an App's would be set (not a real key).
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQ7fcVx9Lk2mRt8WpZ3HyN6cJ0dF4sE1aQ\n"
    "Tb5Yh2Kx9Wn4Lm7Rq3Vp8Js6Gd1Fc0Za5Ue2Xo9Nk4Hm7Ry3Bt6Wq1Lp8Js5Gd\n"
    "-----END RSA PRIVATE KEY-----\n"
)
ALL_SECRETS = {**SECRETS, "PRGATE_PRIVATE_KEY": PEM}


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, ".github/prgate.yml", CONFIG)
    write(root, "feature-flags.yml", "- new-invoices\n")
    write(root, "app/views.py", BASE_VIEWS)
    write(root, "tests/test_views.py", "def test_views():\n    assert True\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    write(root, "app/views.py", HEAD_VIEWS)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a refund, and a key")
    return root


def check(repo: Path, fmt: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "prgate", "check", str(repo), "--base", "main", "--format", fmt],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # the key blocks the change
    assert AWS_KEY not in proc.stderr
    return proc.stdout


def base_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "LANG": "C.UTF-8"}


def test_no_child_process_starts_with_a_secret(repo: Path, tmp_path: Path) -> None:
    watch = Watch(tmp_path / "watch")
    out = check(repo, "json", watch.env({**base_env(tmp_path), **ALL_SECRETS}))
    assert any(f["rule"] == "flags/guarded" for f in json.loads(out)["findings"])

    seen = watch.seen()
    for role, envs in seen.items():
        for env in envs:
            assert leaks(env, ALL_SECRETS) == [], (role, sorted(env))
            assert "PATH" in env, role  # what a tool needs is still there
    assert {"git", "ruff", "worker", "forkserver", "tracker"} <= set(seen), sorted(seen)
    assert all("PYTHONPATH" not in env for env in seen["forkserver"] + seen["tracker"])


def test_a_key_written_without_quotes_is_in_no_output_but_is_reported(
    repo: Path, tmp_path: Path
) -> None:
    env = base_env(tmp_path)
    outputs = {fmt: check(repo, fmt, env) for fmt in ("text", "json", "sarif", "markdown")}
    for fmt, out in outputs.items():
        assert AWS_KEY not in out, fmt
        assert AWS_KEY[4:] not in out, fmt
        assert MASKED in out, fmt  # ruff's "Undefined name" names it, masked

    report = json.loads(outputs["json"])
    (secret,) = [f for f in report["findings"] if f["rule"] == "content/secrets"]
    assert (secret["path"], secret["line"], secret["level"]) == ("app/views.py", KEY_LINE, "error")
    assert "an AWS access key ID" in secret["message"]
    (undefined,) = [f for f in report["findings"] if "ruff F821" in f["message"]]
    assert undefined["message"] == f"Undefined name `{MASKED}` (ruff F821)"
    assert MASKED in report["agent_prompt"]

    sarif = json.loads(outputs["sarif"])
    (result,) = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "content/secrets"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/views.py"
    assert location["region"]["startLine"] == KEY_LINE


def test_a_message_of_the_command_line_masks_a_key_it_quotes(repo: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "prgate", "check", str(repo), "--base", AWS_KEY],
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert AWS_KEY not in proc.stderr
    assert f"The base '{MASKED}' is not a branch" in proc.stderr
