"""Running git: without a shell, with an environment that carries nothing of the caller's
secrets, and reading what it prints."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from prgate.childenv import child_env
from prgate.errors import SourceError


def git_env() -> dict[str, str]:
    """The environment git runs in: the child environment (:mod:`prgate.childenv`), where the
    user's global git settings are found, output in a stable form, never a prompt."""
    return child_env(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_OPTIONAL_LOCKS": "0",
            "LC_ALL": "C",
        },
        # Where the global settings (``safe.directory`` among them) are, besides ``~/.gitconfig``.
        # Not ``GIT_CONFIG_COUNT``/``_KEY_n``/``_VALUE_n``: those can carry an access token
        # (``http.extraHeader``), and prgate's git calls never reach a remote.
        keep=("GIT_CONFIG_GLOBAL", "XDG_CONFIG_HOME"),
    )


def run_git(root: Path, args: Sequence[str], *, check: bool = True) -> bytes:
    """Run git in ``root`` and return its standard output."""
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=root,
            env=git_env(),
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise SourceError("git is not installed, or not on the PATH.") from exc
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        detail = message[-1] if message else f"exit code {proc.returncode}"
        raise SourceError(f"git {args[0]} failed: {detail}")
    return proc.stdout


def decode_path(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")
