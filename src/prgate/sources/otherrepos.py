"""Config files in another repository of the account (the organisation's ``.github``, an
``extends`` target), read through the App's installation.

GitHub gives an installation no token for a repository the App is not installed on, and none
for one that does not exist: the same refusal. Judging by the default packs in both cases would
silently drop the organisation's rules whenever the App is not installed on its ``.github``
repository. So prgate asks for the repository with the judged repository's token, which sees
it when it is public (as an organisation's ``.github`` repository usually is, since it holds
the organisation's profile and community files):

- seen: it exists and the App may not read it. Config loading fails closed, saying what to
  grant (install the App on that repository too);
- not seen: it does not exist, as far as prgate can know. A *private* repository the App is
  not installed on looks exactly the same to an installation, whatever else it asks, so that
  case is the rule's limit (docs/deploy.md says to install the App on a private ``.github``);
- 403 on a repository the App is installed on (a permission it lacks there): fails closed.
"""

from __future__ import annotations

from collections.abc import Callable

from prgate.errors import SourceError
from prgate.github.errors import GitHubError, NotFound, RateLimited
from prgate.github.http import Http
from prgate.github.pulls import read_content, repo_path

#: Opens a client for another repository of the same installation (for ``extends``).
OtherRepo = Callable[[str], Http]


def read_other(http: Http, other_repo: OtherRepo, repo: str, path: str) -> bytes | None:
    """``path`` at the default branch of ``repo``; ``None`` when the file, or the repository,
    does not exist. ``http`` is the judged repository's client. Raises :class:`SourceError`
    when the repository exists and the App may not read it."""
    try:
        with other_repo(repo) as other:
            return read_content(other, repo, path)
    except NotFound:
        if repository_exists(http, repo):
            raise SourceError(not_installed(repo)) from None
        return None
    except RateLimited:
        raise
    except GitHubError as exc:
        if exc.status != 403:
            raise
        raise SourceError(
            f"GitHub refused prgate access to {repo} (403): the App's installation may not "
            "read its files there"
        ) from None


def not_installed(repo: str) -> str:
    """What to say when ``repo`` exists and the App is not installed on it."""
    return f"{repo} exists, but the prgate App is not installed on it, so prgate may not read it"


def repository_exists(http: Http, repo: str) -> bool:
    """Whether ``http``'s token sees ``repo`` (``GET /repos/{o}/{r}``); 404 says no."""
    try:
        data = http.json("GET", repo_path(repo))
    except NotFound:
        return False
    return isinstance(data, dict) and str(data.get("full_name") or "").lower() == repo.lower()
