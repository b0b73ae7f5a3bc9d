"""Watching what environment prgate's real child processes start with, for the tests that no
secret reaches them.

A prgate process started with :meth:`Watch.env` (``prgate check`` or ``prgate serve``) records
``/proc/PID/environ`` of each child as it runs: git and ruff through small wrappers that copy
their own and then ``exec`` the real program; multiprocessing's children (the parser process,
the fork server, the resource tracker) through ``childwatch_site/sitecustomize.py``, which
copies theirs just after each parser process starts.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from pathlib import Path

from ruff.__main__ import find_ruff_bin

SITE = Path(__file__).parent / "childwatch_site"

#: An AWS access key ID of a valid shape (not a documentation example), written unquoted in the
#: changes of these tests.
AWS_KEY = "AKIA" + "Q7XM2R5TZ9WB4K6N"

#: Secrets in the environment prgate starts with: the App's own, an AI service's key, and the
#: kinds of tokens a CI job or a deployment holds, under names no deny-list would think of too.
SECRETS: dict[str, str] = {
    "PRGATE_WEBHOOK_SECRET": "whsec-prgate-test-7f3a9c1e5b",
    "ANTHROPIC_API_KEY": "sk-ant-api03-" + "Zq8Wm3Rt6Yp1Xn4Kv7Hb2Jc5Lf9Gd0Sa",
    "GITHUB_TOKEN": "ghp_" + "Vb7Nq2Wx9Lm4Rk8Tp3Hs6Jd1Fy5Gc0Za8Ue3",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Wm3Rt6Y",
    "DEPLOY_CREDENTIAL_OF_THE_TEAM": "c0rrect-h0rse-b4ttery-st4ple-91",
}


class Watch:
    """A folder the children's environments are copied into, and the environment that makes a
    prgate process copy them there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "seen"
        self.folder.mkdir(parents=True)
        self.bin = folder / "bin"
        self.bin.mkdir()
        git = shutil.which("git")
        assert git is not None
        self._wrap(self.bin / "git", "git", git)
        self.ruff = folder / "ruff-wrapper"
        self._wrap(self.ruff, "ruff", os.fsdecode(find_ruff_bin()))

    def _wrap(self, path: Path, role: str, real: str) -> None:
        out = shlex.quote(str(self.folder / role))
        path.write_text(
            f'#!/bin/sh\ncat /proc/$$/environ > {out}-$$.env\nexec {shlex.quote(real)} "$@"\n'
        )
        path.chmod(0o755)

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with the watching switched on (and the git wrapper first on the PATH)."""
        return {
            **base,
            "PATH": f"{self.bin}{os.pathsep}{base.get('PATH', os.environ.get('PATH', ''))}",
            "PYTHONPATH": str(SITE),
            "PRGATE_TEST_WATCH": str(self.folder),
            "PRGATE_TEST_RUFF": str(self.ruff),
        }

    def seen(self) -> dict[str, list[dict[str, str]]]:
        """Each role (``git``, ``ruff``, ``worker``, ``forkserver``, ``tracker``) and the
        environments its processes started with."""
        out: dict[str, list[dict[str, str]]] = {}
        for path in sorted(self.folder.glob("*.env")):
            role = path.name.split("-", 1)[0]
            pairs = [item.split(b"=", 1) for item in path.read_bytes().split(b"\0") if item]
            env = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}
            out.setdefault(role, []).append(env)
        return out


def leaks(env: Mapping[str, str], secrets: Mapping[str, str]) -> list[str]:
    """The names of ``secrets`` whose name or value is anywhere in ``env``."""
    text = "\n".join(f"{k}={v}" for k, v in env.items())
    return sorted(
        name
        for name, value in secrets.items()
        if name in env
        or value in text
        or any(part in text for part in value.split() if len(part) >= 16)
    )
