"""Running ruff: one process at a time through a small seam, in a private folder.

The folder (:class:`Workspace`) holds the project as ruff should see it: the base branch's ruff
settings files at their paths, the changed Python files as they are at head, and an empty
stand-in for every other Python file of the head tree, so that ruff tells the project's own
modules from others' as it does in the team's checkout. Ruff runs there with no cache, in the
child environment of :mod:`prgate.childenv` with a throwaway ``HOME``.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from prgate.checks.ruff.settings import PYTHON_SUFFIXES, SETTINGS_NAMES
from prgate.checks.tools import FileWriter, ProcessResult, safe_relpath
from prgate.checks.tools import run_process as run_tool_process
from prgate.childenv import child_env
from prgate.errors import CheckError

#: Seconds one ruff process may take before the check gives up (and fails closed).
RUFF_TIMEOUT = 300.0


def run_process(args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
    return run_tool_process(args, cwd=cwd, env=env, timeout=RUFF_TIMEOUT, name="ruff")


def ruff_binary() -> str:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    try:
        return os.fsdecode(find_ruff_bin())
    except FileNotFoundError:
        raise CheckError("the ruff program that comes with prgate is missing") from None


def fast_tmp_dir() -> str | None:
    """A memory-backed folder for the copies ruff reads, when the system has one (Linux)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def escape_glob(text: str) -> str:
    """``text`` as a glob matching only itself (for per-file settings)."""
    return "".join(f"[{c}]" if c in "*?[]{}!\\" else c for c in text)


class Workspace:
    """A private temporary folder holding the project ruff reads and a HOME."""

    def __init__(self) -> None:
        self._tmp = tempfile.mkdtemp(prefix="prgate-ruff-", dir=fast_tmp_dir())
        root = Path(os.path.realpath(self._tmp))
        self.tree = root / "tree"
        self.home = root / "home"
        self.tree.mkdir()
        self.home.mkdir()
        self._paths: dict[str, str] = {}
        self._writer = FileWriter(self.tree)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def write(self, path: str, data: bytes) -> Path | None:
        """Write a file; ``None`` when its path is not safe to write."""
        parts = safe_relpath(path)
        if parts is None or not self._writer.write(parts, data):
            return None
        target = self.tree.joinpath(*parts)
        self._paths[str(target)] = path
        return target

    def stand_ins(self, paths: Iterable[str], *, skip: Collection[str] = ()) -> None:
        """An empty file for every Python path of the head tree but ``skip`` (written with
        their contents), and every folder: enough for ruff to know which modules and packages
        the project has. Settings files are never stood in for (an empty ``ruff.toml`` would
        be settings of its own)."""
        for path in paths:
            name = posixpath.basename(path)
            if name in SETTINGS_NAMES or path in skip:
                continue
            parts = safe_relpath(path)
            if parts is None:
                continue
            if path.endswith(PYTHON_SUFFIXES) or name == "py.typed":
                self._writer.write(parts, b"", replace=False)
            else:
                try:
                    self._writer.folder(parts[:-1])
                except OSError:
                    continue

    def read(self, path: str) -> bytes:
        parts = safe_relpath(path)
        assert parts is not None
        return self.tree.joinpath(*parts).read_bytes()

    def repo_path(self, filename: str) -> str | None:
        """The repository path of a file ruff names (absolute, or relative to the tree)."""
        full = filename if os.path.isabs(filename) else str(self.tree / filename)
        found = self._paths.get(full)
        if found is not None:
            return found
        return self._paths.get(os.path.realpath(full))

    def repo_paths(self) -> dict[str, str]:
        """Workspace path -> repository path of every file written (for ruff's messages)."""
        return dict(sorted(self._paths.items(), key=lambda kv: -len(kv[0])))

    def env(self) -> dict[str, str]:
        """The child environment (:mod:`prgate.childenv`) with this workspace's throwaway home,
        so that no user or machine ruff settings change the verdict."""
        return child_env({"HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config")})

    def args(
        self,
        command: Sequence[str],
        files: Sequence[Path],
        *,
        options: Sequence[str] = (),
        output_format: str | None = "json",
    ) -> list[str]:
        """Ruff's arguments: ruff's own discovery of the settings written in the tree, the
        team's excludes honoured for files named (``--force-exclude``), no cache, files after
        ``--`` (names may start with a dash), relative to the tree (ruff runs there)."""
        rel = [str(f.relative_to(self.tree)) for f in files]
        fmt = ["--output-format", output_format] if output_format else []
        return [
            ruff_binary(),
            *command,
            "--no-cache",
            "--force-exclude",
            *fmt,
            *options,
            "--",
            *rel,
        ]
