"""The rules a pull request proposes (its head's config), loaded for its backtest and nothing else.

The head of a pull request is written by its author, so its config is untrusted. It never judges
anything that counts: the pull request's own verdict is decided by its base's rules. It is read
with the same strict loader and limits as a base's config, and it may read no more than that:

- in this repository, only the config file and the repository's own packs (under
  ``.github/prgate/``), at the pull request's head;
- another repository (``extends``, the organisation's config) only when the base's config read
  that same file, and then as the base's loading read it: a proposal cannot make the App read
  anything new elsewhere with its access.

What cannot be loaded is raised as a :class:`~prgate.errors.PrgateError` with a plain reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import DEFAULT_MAX_FILE_BYTES
from prgate.config import CONFIG_PATH, REPO_PACKS_DIR, Config
from prgate.config.loader import resolve_config
from prgate.errors import SourceError
from prgate.github.http import Http
from prgate.github.pulls import PullFile, fetch_blobs
from prgate.sources.fetchplan import Contents
from prgate.sources.github import CONFIG_FILES, GitHubConfigFetcher

#: A pull request that changes one of these (or a file under the packs folder) proposes rules.
RULE_FILES = CONFIG_FILES


def proposes_rules(files: Sequence[PullFile]) -> bool:
    """Whether a pull request with these files changes prgate's rules (its config or packs)."""
    for f in files:
        for path in (f.path, f.previous_path):
            if path and (path in RULE_FILES or path.startswith(f"{REPO_PACKS_DIR}/")):
                return True
    return False


class ProposedFetcher:
    """Reads a proposed config's files (see the module's rules)."""

    def __init__(
        self,
        http: Http,
        repo: str,
        head_sha: str,
        base: GitHubConfigFetcher,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self._http = http
        self._repo = repo
        self._head = head_sha
        self._base = base
        self._limit = max_file_bytes
        self._cache: dict[str, bytes | None] = {}

    def read(self, repo: str | None, path: str) -> bytes | None:
        if repo is not None and repo.lower() != self._repo.lower():
            return self._elsewhere(repo, path)
        if path not in (*RULE_FILES, CONFIG_PATH) and not _is_pack(path):
            raise SourceError(
                f"a proposed config is read from {CONFIG_PATH} and {REPO_PACKS_DIR}/ only, "
                f"not from {path}"
            )
        if path not in self._cache:
            found = fetch_blobs(self._http, self._repo, [(self._head, path)])
            contents = Contents(self._http, self._repo, limit=self._limit)
            self._cache[path] = contents.whole(found[(self._head, path)], path)
        return self._cache[path]

    def _elsewhere(self, repo: str, path: str) -> bytes | None:
        for (known_repo, known_path), data in self._base.cache.items():
            if known_repo is not None and known_repo.lower() == repo.lower() and known_path == path:
                return data
        raise SourceError(
            f"the backtest reads another repository's config only when the base branch's "
            f"config already uses it, and {repo} is not used there"
        )


def _is_pack(path: str) -> bool:
    folder, _, name = path.rpartition("/")
    return folder == REPO_PACKS_DIR and name.endswith((".yml", ".yaml")) and "/" not in name


def load_proposed(
    http: Http, repo: str, head_sha: str, base: GitHubConfigFetcher, *, org: str
) -> Config:
    """The config at ``head_sha``, read within the rules above; raises what stops it."""
    return resolve_config(ProposedFetcher(http, repo, head_sha, base), org=org)
