"""The local command's way to other repositories' configs (``extends``, the organisation's
``.github`` repository): GitHub's API, read-only, with the token the user already has.

GitHub Actions gives every job ``GITHUB_TOKEN``; the GitHub CLI's users have ``GH_TOKEN``. With
either set, ``prgate check`` reads the configs the App would read, so both reach one verdict.
Without one, a config that needs another repository cannot be judged here, and the command says
how to give it access. The token is taken out of the environment once read: no child process
(git, ruff) inherits it.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Callable, MutableMapping
from pathlib import Path
from urllib.parse import quote

import httpx

from prgate.config.fetchers import ConfigFetcher
from prgate.errors import HiddenRepository, SourceError

#: The variables a token is read from, in order.
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
#: Where GitHub's API is: Actions sets this (GitHub Enterprise Server too).
API_VARIABLE = "GITHUB_API_URL"
#: GitHub's web address, which the ``origin`` remote names: Actions sets this.
SERVER_VARIABLE = "GITHUB_SERVER_URL"
DEFAULT_API = "https://api.github.com"
DEFAULT_SERVER = "https://github.com"
#: The most a config file read from GitHub may hold (the loader refuses more than 256 KiB).
MAX_BYTES = 1 << 20

NEEDS_TOKEN = (
    "Set GITHUB_TOKEN (or GH_TOKEN) to a token that can read it (in GitHub Actions, "
    "GITHUB_TOKEN is there already: pass it as an environment variable), or run the check "
    "with --config FILE naming a config that does not need other repositories."
)


class GitHubReposFetcher:
    """This repository through ``local``; other repositories (at their default branch) through
    GitHub's contents API, read-only."""

    def __init__(self, local: ConfigFetcher, open_client: Callable[[], httpx.Client]) -> None:
        self.local = local
        self._open = open_client
        self.calls = 0

    def read(self, repo: str | None, path: str) -> bytes | None:
        if repo is None:
            return self.local.read(None, path)
        owner, _, name = repo.partition("/")
        base = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        try:
            with self._open() as client:
                status, data = self._get(client, f"{base}/contents/{quote(path)}")
                if status == 404:
                    # No such file, or no such repository (or none this token may see).
                    status, _ = self._get(client, base)
                    if status == 404:
                        raise HiddenRepository(
                            f"GitHub says {repo} does not exist, or the token in use may not "
                            "read it"
                        )
                    return None
                return _file_content(data, repo, path)
        except httpx.HTTPError as exc:
            raise SourceError(
                f"prgate could not reach GitHub to read {repo} ({type(exc).__name__})"
            ) from None

    def _get(self, client: httpx.Client, url: str) -> tuple[int, bytes]:
        self.calls += 1
        with client.stream("GET", url) as response:
            status = response.status_code
            if status in (403, 429) and (
                response.headers.get("x-ratelimit-remaining") == "0"
                or "retry-after" in response.headers
            ):
                raise SourceError("GitHub's rate limit stopped prgate; try again later")
            if status == 401:
                raise SourceError("GitHub refused the token in GITHUB_TOKEN/GH_TOKEN (401)")
            if status == 404:
                return status, b""
            if status != 200:
                raise SourceError(f"GitHub answered {status} to {url.split('/contents/')[0]}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_BYTES:
                    raise SourceError(f"a file in {url.split('/contents/')[0]} is too large")
            return status, bytes(body)


def _file_content(data: bytes, repo: str, path: str) -> bytes | None:
    """The file in a contents API answer (``None``: the path is a folder or a link)."""
    try:
        item = json.loads(data)
    except ValueError:
        item = None
    if isinstance(item, dict) and item.get("type") != "file":
        return None
    if not isinstance(item, dict) or item.get("encoding") != "base64":
        raise SourceError(f"GitHub did not return the contents of {path} in {repo}")
    try:
        return base64.b64decode(str(item.get("content") or ""))
    except ValueError:
        raise SourceError(f"GitHub did not return the contents of {path} in {repo}") from None


def take_token(env: MutableMapping[str, str]) -> str | None:
    """The user's GitHub token, removed from ``env`` (so that no child process inherits it)."""
    found: str | None = None
    for name in TOKEN_VARIABLES:
        value = env.pop(name, None)
        if found is None and value and value.strip():
            found = value.strip()
    return found


def opener(token: str, env: MutableMapping[str, str]) -> Callable[[], httpx.Client]:
    """Opens a client of GitHub's REST API with ``token``."""
    base = (env.get(API_VARIABLE) or DEFAULT_API).rstrip("/")

    def open_client() -> httpx.Client:
        return httpx.Client(
            base_url=base,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "prgate",
            },
            timeout=httpx.Timeout(15.0),
            follow_redirects=True,
            trust_env=False,
        )

    return open_client


_REMOTE = re.compile(
    r"^(?:[a-z+]+://(?:[^@/]+@)?(?P<h1>[^/:]+)(?::\d+)?/|[^@/]+@(?P<h2>[^:/]+):)"
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


def github_repo_of(root: Path, env: MutableMapping[str, str]) -> str | None:
    """``owner/name`` of the repository's ``origin`` remote when it is on GitHub, else ``None``."""
    from prgate.sources.gitrun import git_env

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
