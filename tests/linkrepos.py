"""Local git repositories holding links and submodule entries, for the CLI's side of the tests.

Files are text (``str``/``bytes``), ``Symlink`` (a symbolic link) or ``Gitlink`` (a submodule
entry): the same values the fake GitHub takes, so one scenario builds both sides.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from fakegithub import Gitlink, Symlink

FileValue = str | bytes | Symlink | Gitlink | None


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    proc = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


def write_files(root: Path, files: Mapping[str, FileValue]) -> None:
    """Write ``files`` into the work tree and the index (links as links, gitlinks as entries)."""
    gitlinks: list[tuple[str, str]] = []
    for path, value in files.items():
        target = root / path
        if target.is_symlink() or target.is_file():
            target.unlink()
        if value is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, Symlink):
            os.symlink(value.target, target)
        elif isinstance(value, Gitlink):
            gitlinks.append((path, value.commit))
        else:
            target.write_bytes(value.encode() if isinstance(value, str) else value)
    git(root, "add", "-A")
    for path, commit in gitlinks:
        git(root, "update-index", "--add", "--cacheinfo", f"160000,{commit},{path}")


def local_repo(
    root: Path, base: Mapping[str, FileValue], head: Mapping[str, FileValue], *, commit: bool = True
) -> Path:
    """A repository with ``base`` on ``main`` and ``head`` on ``feature`` (committed, or left in
    the work tree when ``commit`` is false)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, base)
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    write_files(root, head)
    if commit:
        git(root, "commit", "-qm", "head")
    return root
