"""The local command's way to other repositories' configs (``extends``, the organisation's
``.github`` repository): GitHub's API, read-only, with the token the user already has.

GitHub Actions gives every job ``GITHUB_TOKEN``; the GitHub CLI's users have ``GH_TOKEN``. With
either set, ``prgate check`` reads the configs the App would read, so both reach one verdict.
Without one, a config that needs another repository cannot be judged here, and the command says
how to give it access. The token is taken out of the environment once read: no child process
(git, ruff) inherits it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, MutableMapping
from pathlib import Path

from prgate.config.fetchers import ConfigFetcher
from prgate.errors import HiddenRepository, SourceError
from prgate.github.errors import GitHubError, NotFound, RateLimited
from prgate.github.http import ApiSettings, Http
from prgate.github.pulls import read_content, repo_path

#: The variables a token is read from, in order.
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
#: Where GitHub's API is: Actions sets this (GitHub Enterprise Server too).
API_VARIABLE = "GITHUB_API_URL"
#: GitHub's web address, which the ``origin`` remote names: Actions sets this.
SERVER_VARIABLE = "GITHUB_SERVER_URL"
DEFAULT_API = "https://api.github.com"
DEFAULT_SERVER = "https://github.com"

NEEDS_TOKEN = (
    "Set GITHUB_TOKEN (or GH_TOKEN) to a token that can read it (in GitHub Actions, "
    "GITHUB_TOKEN is there already: pass it as an environment variable), or run the check "
    "with --config FILE naming a config that does not need other repositories."
)


class GitHubReposFetcher:
    """This repository through ``local``; other repositories (at their default branch) through
    GitHub's contents API."""

    def __init__(self, local: ConfigFetcher, open_http: Callable[[], Http]) -> None:
        self.local = local
        self._open = open_http
        self.calls = 0

    def read(self, repo: str | None, path: str) -> bytes | None:
        if repo is None:
            return self.local.read(None, path)
        try:
            with self._open() as http:
                self.calls += 1
                data = read_content(http, repo, path)
                if data is None:
                    # No such file, or no such repository (or none this token may see).
                    self.calls += 1
                    http.json("GET", repo_path(repo))
                return data
        except NotFound:
            raise HiddenRepository(
                f"GitHub says {repo} does not exist, or the token in use may not read it"
            ) from None
        except RateLimited:
            raise SourceError(
                f"GitHub's rate limit stopped prgate from reading {repo}; try again later"
            ) from None
        except GitHubError as exc:
            raise SourceError(f"prgate could not read {repo} from GitHub: {exc}") from None


def take_token(env: MutableMapping[str, str]) -> str | None:
    """The user's GitHub token, removed from ``env`` (so that no child process inherits it)."""
    found: str | None = None
    for name in TOKEN_VARIABLES:
        value = env.pop(name, None)
        if found is None and value and value.strip():
            found = value.strip()
    return found


def opener(token: str, env: MutableMapping[str, str]) -> Callable[[], Http]:
    """Opens a read-only client of GitHub's API with ``token``."""
    settings = ApiSettings(base_url=(env.get(API_VARIABLE) or DEFAULT_API).rstrip("/"))
    return lambda: Http(settings, authorization=f"Bearer {token}")


_REMOTE = re.compile(
    r"^(?:[a-z+]+://(?:[^@/]+@)?(?P<h1>[^/:]+)(?::\d+)?/|[^@/]+@(?P<h2>[^:/]+):)"
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


def github_repo_of(root: Path, env: MutableMapping[str, str]) -> str | None:
    """``owner/name`` of the repository's ``origin`` remote when it is on GitHub, else ``None``."""
    from prgate.sources.git import git_env

    try:
        done = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=root,
            env=git_env(),
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _REMOTE.match(done.stdout.decode("utf-8", errors="replace").strip())
    if done.returncode != 0 or match is None:
        return None
    server = (env.get(SERVER_VARIABLE) or DEFAULT_SERVER).rstrip("/")
    host = (match.group("h1") or match.group("h2") or "").lower()
    if host != server.split("://", 1)[-1].split("/", 1)[0].lower():
        return None
    return f"{match.group('owner')}/{match.group('name')}"
