"""Running oxlint and oxfmt: in a private folder, with a scrubbed environment.

The folder (:class:`Workspace`) holds the base branch's settings files at their paths and the
changed files as they are at head. A head file named like a settings file (a head-branch
``.oxlintrc.json``) is written in a folder of its own, so that nothing on the PR's branch can
change the settings of other files. The tools run there with no cache and an environment of ``PATH``, a
throwaway ``HOME`` and the locale only: never a secret.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import sysconfig
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from prgate.checks.tools import FileWriter, ProcessResult, run_process, safe_relpath
from prgate.checks.web.settings import is_settings_file
from prgate.errors import CheckError

#: Seconds one tool process may take before the check gives up (and fails closed).
TOOL_TIMEOUT = 300.0
#: The environment variables a tool may see besides ``PATH`` and ``HOME``.
KEPT_VARIABLES = ("LANG", "LC_ALL", "LC_CTYPE", "TZ")
#: Bytes of file names handed to one process at most: a command line stays far below the
#: system's limit (2 MB on Linux), and a change of hundreds of files is one run.
BATCH_BYTES = 64 * 1024
#: A memory-backed folder for the workspace when it has this much room (bytes): writing
#: hundreds of small files there is tens of times faster than on a disk.
MEMORY_DIR = "/dev/shm"
MEMORY_DIR_ROOM = 256 * 1024 * 1024


class ToolMissing(CheckError):
    """The tool's program is not installed where prgate looks for it."""


def tool_binary(name: str) -> str:
    """The installed ``name`` program: beside the running Python first, else on ``PATH``."""
    scripts = sysconfig.get_path("scripts")
    found = shutil.which(name, path=scripts) or shutil.which(name)
    if found is None:
        raise ToolMissing(
            f"the {name} program is not installed (it comes with prgate; reinstall prgate, "
            f"or `pip install {name}`)"
        )
    return found


def workspace_parent() -> str | None:
    """:data:`MEMORY_DIR` when it is a writable folder with room to spare, else the default."""
    try:
        stat = os.statvfs(MEMORY_DIR)
    except OSError:
        return None
    roomy = stat.f_bavail * stat.f_frsize >= MEMORY_DIR_ROOM
    return MEMORY_DIR if roomy and os.access(MEMORY_DIR, os.W_OK | os.X_OK) else None


def scrubbed_env(home: Path) -> dict[str, str]:
    """``PATH``, a throwaway ``HOME`` and the locale: nothing else reaches a tool."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env.update({k: os.environ[k] for k in KEPT_VARIABLES if k in os.environ})
    return env


def run_tool(args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
    name = posixpath.basename(args[0])
    return run_process(args, cwd=cwd, env=env, timeout=TOOL_TIMEOUT, name=name)


def _safe_parts(path: str) -> tuple[str, ...] | None:
    # Parts shorter than a file system allows: the workspace adds to each name.
    return safe_relpath(path, max_part=200)


class Workspace:
    """A temporary folder with the base settings and the head files (see module doc)."""

    def __init__(self, settings: Mapping[str, bytes], files: Mapping[str, str]) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="prgate-web-", dir=workspace_parent())
        self.root = Path(self._tmp.name) / "repo"
        self.home = Path(self._tmp.name) / "home"
        self.home.mkdir()
        self.root.mkdir()
        self._writer = FileWriter(self.root)
        #: Repository path -> the name it has in the workspace (relative, ``/``-separated).
        self.names: dict[str, str] = {}
        try:
            self._lay_out(settings, files)
        except BaseException:
            self._tmp.cleanup()
            raise

    def _lay_out(self, settings: Mapping[str, bytes], files: Mapping[str, str]) -> None:
        for path, data in settings.items():
            if _safe_parts(path) is not None:
                self._write(path, data)
        for i, (path, text) in enumerate(sorted(files.items())):
            parts = _safe_parts(path)
            if parts is None:
                continue
            name = path
            if is_settings_file(path) or path in settings:
                # Its own folder keeps its name (oxfmt lays out package.json its own way)
                # while no tool takes it for the settings of the files beside it.
                folder, base = posixpath.split(path)
                name = posixpath.join(folder, f"prgate-head-{i}", base)
            # A file that cannot be written (a base settings file stands where its folder
            # would be) is left out: the rules that take it say they could not judge it.
            if self._writer.write(tuple(name.split("/")), text.encode("utf-8")):
                self.names[path] = name

    def _write(self, name: str, data: bytes) -> None:
        if not self._writer.write(tuple(name.split("/")), data):
            raise CheckError("the team's settings could not be laid out for the web tools")

    def read(self, path: str) -> str:
        return self.root.joinpath(*self.names[path].split("/")).read_text("utf-8")

    def run(self, binary: str, args: Sequence[str], paths: Sequence[str]) -> list[ProcessResult]:
        """``binary args paths`` in the workspace, in batches of :data:`BATCH_BYTES` of names."""
        env = scrubbed_env(self.home)
        return [
            run_tool([binary, *args, *batch], cwd=self.root, env=env)
            for batch in batches([self.names[p] for p in paths if p in self.names])
        ]

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tmp.cleanup()


def batches(names: Sequence[str], limit: int = BATCH_BYTES) -> list[list[str]]:
    """``names`` in runs of at most ``limit`` bytes of names (one name at least per run)."""
    out: list[list[str]] = []
    size = limit
    for name in names:
        cost = len(os.fsencode(name)) + 1
        if size + cost > limit:
            out.append([])
            size = 0
        out[-1].append(name)
        size += cost
    return out


def lint_json(results: Sequence[ProcessResult]) -> list[dict[str, object]]:
    """oxlint's ``--format json`` diagnostics of every batch (fails closed on anything else)."""
    out: list[dict[str, object]] = []
    for r in results:
        try:
            data = json.loads(r.stdout.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            # Its words are not repeated: they may quote the files, which may hold secrets.
            raise CheckError(
                f"oxlint gave no result (exit code {r.returncode}); the team's .oxlintrc.json "
                "on the base branch may not be valid"
            ) from None
        diags = data.get("diagnostics") if isinstance(data, dict) else None
        if not isinstance(diags, list):
            raise CheckError("oxlint's result could not be read")
        out.extend(d for d in diags if isinstance(d, dict))
    return out
