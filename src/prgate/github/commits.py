"""One fix commit through the git data API: blobs, a tree on the head's tree, a commit whose
parent is the evaluated head, and a fast-forward-only branch update."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import quote

from prgate.errors import PrgateError
from prgate.github.errors import GitHubError, RateLimited, Unprocessable
from prgate.github.http import Http
from prgate.github.pulls import repo_path


class BranchMoved(PrgateError):
    """The branch no longer points at the commit the fixes were computed on."""


def head_of(http: Http, repo: str, branch: str) -> str:
    data = http.json("GET", f"{repo_path(repo)}/git/ref/heads/{quote(branch, safe='/')}")
    return str(data["object"]["sha"])


def commit_of(http: Http, repo: str, sha: str) -> tuple[tuple[str, ...], str]:
    """The parents and the message of commit ``sha``."""
    data = http.json("GET", f"{repo_path(repo)}/git/commits/{sha}")
    parents = tuple(str(p["sha"]) for p in data.get("parents") or [] if isinstance(p, dict))
    return parents, str(data.get("message") or "")


def tree_of(http: Http, repo: str, commit: str) -> tuple[str, dict[str, str]]:
    """The sha of ``commit``'s root tree (GitHub resolves a commit sha to its tree here), and
    the mode of each file in it, so that a fix keeps an executable file executable."""
    data = http.json("GET", f"{repo_path(repo)}/git/trees/{commit}", params={"recursive": "1"})
    modes = {
        str(e["path"]): str(e["mode"])
        for e in data.get("tree") or []
        if isinstance(e, dict) and e.get("type") == "blob" and "path" in e and "mode" in e
    }
    return str(data["sha"]), modes


def push_files(
    http: Http,
    repo: str,
    *,
    branch: str,
    parent: str,
    files: Mapping[str, bytes],
    message: str,
    modes: Mapping[str, str] | None = None,
) -> str:
    """Commit ``files`` (path -> new contents) on top of ``parent`` and move ``branch`` to it,
    only as a fast-forward. Returns the new commit's sha; raises :class:`BranchMoved`."""
    base = repo_path(repo)
    if head_of(http, repo, branch) != parent:
        raise BranchMoved(f"{branch} moved past {parent[:12]}")
    base_tree, known_modes = tree_of(http, repo, parent)
    entries = []
    for path, content in sorted(files.items()):
        blob = http.json(
            "POST",
            f"{base}/git/blobs",
            json={"content": base64.b64encode(content).decode("ascii"), "encoding": "base64"},
            retry=True,  # git objects are named by their content: safe to repeat
        )
        mode = (modes or {}).get(path) or known_modes.get(path, "100644")
        entries.append({"path": path, "mode": mode, "type": "blob", "sha": str(blob["sha"])})
    tree = http.json(
        "POST",
        f"{base}/git/trees",
        json={"base_tree": base_tree, "tree": entries},
        retry=True,
    )
    commit = http.json(
        "POST",
        f"{base}/git/commits",
        json={"message": message, "tree": str(tree["sha"]), "parents": [parent]},
        retry=True,  # at worst an extra commit that no branch points at
    )
    sha = str(commit["sha"])
    move_branch(http, repo, branch=branch, parent=parent, sha=sha)
    return sha


def move_branch(http: Http, repo: str, *, branch: str, parent: str, sha: str) -> None:
    """Fast-forward ``branch`` from ``parent`` to ``sha``. An update whose answer was lost is
    recognised (the branch is already at ``sha``) rather than made again."""
    path = f"{repo_path(repo)}/git/refs/heads/{quote(branch, safe='/')}"
    for tries_left in (2, 1, 0):
        try:
            http.json("PATCH", path, json={"sha": sha, "force": False})
            return
        except Unprocessable:
            if head_of(http, repo, branch) == sha:
                return  # an earlier try landed
            raise BranchMoved(f"{branch} moved while the fixes were being pushed") from None
        except RateLimited:
            raise
        except GitHubError as exc:
            if exc.status is not None and exc.status < 500:
                raise
            now = head_of(http, repo, branch)
            if now == sha:
                return
            if now != parent:
                raise BranchMoved(f"{branch} moved while the fixes were being pushed") from None
            if not tries_left:
                raise
