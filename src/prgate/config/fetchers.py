"""Where config files are read from: the seam between config loading and the world.

``ConfigFetcher`` is owned by the loader; the App plugs in a GitHub fetcher, the local command
uses :class:`GitRefFetcher` (a ref of a local repository) or :class:`DirectoryFetcher` (a folder).
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath
from typing import Protocol

from prgate.errors import SourceError

LOCAL_ONLY = (
    "Without a GitHub token, the local command reads only this repository; it has no access to "
    "other repositories on GitHub."
)


class ConfigFetcher(Protocol):
    """Reads one file for config loading.

    ``repo`` is ``None`` for the repository being judged (at the base of the change), or
    ``owner/name`` for another repository (its default branch). Returns ``None`` when the file
    does not exist; raises :class:`SourceError` when it cannot be read at all.
    """

    def read(self, repo: str | None, path: str) -> bytes | None: ...


def _safe_relative(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise SourceError(f"refusing to read {path!r}: not a path inside the repository")
    return p


class DirectoryFetcher:
    """Reads files from a folder on disk, standing for the repository being judged."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, repo: str | None, path: str) -> bytes | None:
        if repo is not None:
            raise SourceError(f"cannot read {repo}. {LOCAL_ONLY}")
        full = self.root.joinpath(*_safe_relative(path).parts)
        if not full.is_file():
            return None
        try:
            return full.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {full}: {exc.strerror or exc}") from None


class LocalFetcher(DirectoryFetcher):
    """A folder, optionally with a config file named directly (``--config FILE``).

    ``config`` is the file's name and contents; it stands for ``.github/prgate.yml`` while the
    folder supplies the repository's own packs and ruff settings.
    """

    def __init__(self, root: Path | None, *, config: tuple[str, bytes] | None = None) -> None:
        super().__init__(root if root is not None else Path())
        self.config = config
        self._empty = root is None

    @classmethod
    def for_config_file(cls, path: Path) -> LocalFetcher:
        """The config in ``path``, with packs and ruff settings from its repository folder."""
        from prgate.config.loader import repository_root

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
        return cls(repository_root(path), config=(str(path), data))

    @classmethod
    def empty(cls) -> LocalFetcher:
        """A repository with nothing in it (no commits on the base yet): the defaults apply."""
        return cls(None)

    def read(self, repo: str | None, path: str) -> bytes | None:
        if self._empty:
            if repo is not None:
                raise SourceError(f"cannot read {repo}. {LOCAL_ONLY}")
            return None
        return super().read(repo, path)


class GitRefFetcher:
    """Reads files as they are at one ref (the base) of a local git repository.

    Uses ``git ls-tree`` and ``git cat-file`` (no shell, literal paths), never the working tree.
    """

    def __init__(self, repo_path: Path, ref: str) -> None:
        self.repo_path = repo_path
        self.ref = ref
        self._commit: str | None = None

    @property
    def commit(self) -> str:
        if self._commit is None:
            self._commit = self._resolve()
        return self._commit

    def _git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        from prgate.sources.gitrun import git_env

        env = {**git_env(), "GIT_LITERAL_PATHSPECS": "1"}  # none of the caller's secrets
        try:
            return subprocess.run(
                ["git", *args],
                cwd=self.repo_path,
                capture_output=True,
                env=env,
                check=False,
                timeout=60,
            )
        except FileNotFoundError:
            raise SourceError("git is not installed, or not on the PATH") from None
        except NotADirectoryError:
            raise SourceError(f"{self.repo_path} is not a folder") from None
        except subprocess.TimeoutExpired:
            raise SourceError("git took too long to answer") from None

    def _resolve(self) -> str:
        done = self._git(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{self.ref}^{{commit}}"
        )
        if done.returncode == 0:
            return done.stdout.decode().strip()
        err = done.stderr.decode(errors="replace").lower()
        if "not a git repository" in err:
            raise SourceError(f"{self.repo_path} is not a git repository")
        raise SourceError(
            f"the ref {self.ref!r} does not exist in {self.repo_path} "
            "(a branch, tag or commit was expected)"
        )

    def read(self, repo: str | None, path: str) -> bytes | None:
        if repo is not None:
            raise SourceError(f"cannot read {repo}. {LOCAL_ONLY}")
        rel = str(_safe_relative(path))
        listing = self._git("ls-tree", "-z", "--full-tree", self.commit, "--", rel)
        if listing.returncode != 0:
            raise SourceError(f"git could not list {rel} at {self.ref}")
        entry = next((e for e in listing.stdout.split(b"\0") if e), None)
        if entry is None:
            return None
        meta, _, name = entry.partition(b"\t")
        mode, kind, oid = meta.decode().split(" ")
        if name.decode("utf-8", errors="replace") != rel or kind != "blob":
            return None
        if mode == "120000":
            raise SourceError(
                f"{rel} is a symbolic link at {self.ref}; prgate does not follow links"
            )
        blob = self._git("cat-file", "blob", oid)
        if blob.returncode != 0:
            raise SourceError(f"git could not read {rel} at {self.ref}")
        return blob.stdout
