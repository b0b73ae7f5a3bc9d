"""`prgate check` reads the configs of other repositories (``extends``, the organisation's
``.github``) through GitHub's API with the user's token, as the App does, so both reach one
verdict; without a token it says how to give it one instead of judging by weaker rules."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakegithub import FakeGitHub
from fakegithub.state import Installation
from linkrepos import git

BIN = Path(sys.executable).parent / "prgate"
PARENT = "packs: [safe-zones]\nrules:\n  paths/forbidden:\n    paths: ['infra/**']\n"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


def org_with_dotgithub(gh: FakeGitHub, *, visible: bool = True) -> Installation:
    app = gh.add_app(slug="actions")
    inst = gh.add_installation(app, account="acme")
    gh.create_repo(
        "acme/.github",
        files={".github/prgate.yml": PARENT},
        installation=inst if visible else None,
        private=True,
    )
    gh.create_repo("acme/app", files={"a.py": "x = 1\n"}, installation=inst)
    return inst


def clone(tmp_path: Path, config: str | None) -> Path:
    """The judged repository: its origin on GitHub, a branch that adds an infra file."""
    root = tmp_path / "app"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", "https://github.com/acme/app.git")
    (root / "a.py").write_text("x = 1\n")
    if config is not None:
        (root / ".github").mkdir()
        (root / ".github" / "prgate.yml").write_text(config)
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    (root / "infra").mkdir()
    (root / "infra" / "main.tf").write_text('resource "x" "y" {}\n')
    git(root, "add", ".")
    git(root, "commit", "-qm", "infra")
    return root


def check(root: Path, gh: FakeGitHub, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "GITHUB_SERVER_URL")
    }
    env["GITHUB_API_URL"] = gh.base_url
    if token is not None:
        env["GITHUB_TOKEN"] = token
    return subprocess.run(
        [str(BIN), "check", "--base", "main"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_extends_is_read_with_the_token_and_its_rules_apply(gh: FakeGitHub, tmp_path: Path) -> None:
    inst = org_with_dotgithub(gh)
    root = clone(tmp_path, "extends: acme/.github\n")
    token = gh.issue_token(inst).token
    done = check(root, gh, token)
    assert done.returncode == 1, done.stderr
    assert "paths/forbidden" in done.stdout and "infra/main.tf" in done.stdout
    assert token not in done.stdout + done.stderr


def test_extends_without_a_token_cannot_be_judged_and_says_how(
    gh: FakeGitHub, tmp_path: Path
) -> None:
    org_with_dotgithub(gh)
    root = clone(tmp_path, "extends: acme/.github\n")
    done = check(root, gh, None)
    assert done.returncode == 2
    assert "GITHUB_TOKEN" in done.stderr and "acme/.github" in done.stderr


def test_extends_of_a_repository_the_token_cannot_see(gh: FakeGitHub, tmp_path: Path) -> None:
    inst = org_with_dotgithub(gh, visible=False)
    root = clone(tmp_path, "extends: acme/.github\n")
    done = check(root, gh, gh.issue_token(inst).token)
    assert done.returncode == 2
    assert "acme/.github" in done.stderr and "may not read it" in done.stderr


def test_without_a_repo_config_the_organisation_config_applies(
    gh: FakeGitHub, tmp_path: Path
) -> None:
    inst = org_with_dotgithub(gh)
    root = clone(tmp_path, None)
    done = check(root, gh, gh.issue_token(inst).token)
    assert done.returncode == 1, done.stderr
    assert "paths/forbidden" in done.stdout


def test_an_organisation_without_a_dotgithub_repository_means_the_defaults(
    gh: FakeGitHub, tmp_path: Path
) -> None:
    app = gh.add_app(slug="actions")
    inst = gh.add_installation(app, account="acme")
    gh.create_repo("acme/app", files={"a.py": "x = 1\n"}, installation=inst)
    root = clone(tmp_path, None)
    done = check(root, gh, gh.issue_token(inst).token)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/app.git", "acme/app"),
        ("git@github.com:acme/app.git", "acme/app"),
        ("ssh://git@github.com/acme/app", "acme/app"),
        ("https://x-access-token:abc@github.com/acme/my.app.git", "acme/my.app"),
        ("https://gitlab.com/acme/app.git", None),
        ("/srv/git/app.git", None),
    ],
)
def test_the_repository_is_known_from_its_origin_remote(
    tmp_path: Path, url: str, expected: str | None
) -> None:
    from prgate.sources.remoteconfig import github_repo_of

    git(tmp_path, "init", "-q")
    git(tmp_path, "remote", "add", "origin", url)
    assert github_repo_of(tmp_path, {}) == expected
