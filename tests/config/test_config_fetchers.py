"""Fetchers: a folder, and a ref of a real git repository (never the working tree)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from prgate.config.fetchers import DirectoryFetcher, GitRefFetcher
from prgate.config.loader import resolve_config
from prgate.errors import SourceError


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "prgate.yml").write_text("packs: [hygiene]\n", encoding="utf-8")
    (tmp_path / "-dash file.txt").write_text("dash\n", encoding="utf-8")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    return tmp_path


def test_reads_files_at_the_ref_not_the_working_tree(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "feature")
    (repo / ".github" / "prgate.yml").write_text("packs: [safe-zones]\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", "loosen")
    (repo / "ruff.toml").write_text("line-length = 1\n", encoding="utf-8")
    fetcher = GitRefFetcher(repo, "main")
    assert fetcher.read(None, ".github/prgate.yml") == b"packs: [hygiene]\n"
    assert fetcher.read(None, "-dash file.txt") == b"dash\n"
    assert fetcher.read(None, "ruff.toml") is None
    assert fetcher.read(None, ".github") is None
    config = resolve_config(fetcher)
    assert config.source == ".github/prgate.yml"
    assert {r.id for r in config.rules} >= {"content/secrets", "size/limit"}
    assert config.rule("paths/forbidden") is None


def test_unknown_ref_is_a_source_error(repo: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        GitRefFetcher(repo, "no-such-branch").read(None, ".github/prgate.yml")
    with pytest.raises(SourceError, match="does not exist"):
        GitRefFetcher(repo, "--output=/tmp/x").read(None, ".github/prgate.yml")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a git repository"):
        GitRefFetcher(tmp_path, "main").read(None, "x")


def test_other_repositories_cannot_be_read_locally(repo: Path) -> None:
    for fetcher in (GitRefFetcher(repo, "main"), DirectoryFetcher(repo)):
        with pytest.raises(SourceError, match="no access to other repositories"):
            fetcher.read("acme/.github", ".github/prgate.yml")


def test_symlinks_at_the_ref_are_not_followed(repo: Path) -> None:
    (repo / "ruff.toml").symlink_to("/etc/hostname")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "link")
    with pytest.raises(SourceError, match="symbolic link"):
        GitRefFetcher(repo, "HEAD").read(None, "ruff.toml")


def test_directory_fetcher_reads_inside_its_folder_only(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"A")
    fetcher = DirectoryFetcher(tmp_path)
    assert fetcher.read(None, "a.txt") == b"A"
    assert fetcher.read(None, "missing.txt") is None
    for bad in ("../a.txt", "/etc/passwd", ""):
        with pytest.raises(SourceError):
            fetcher.read(None, bad)
