"""One fix commit through the git data API: blobs, a tree on the head's tree, a commit whose
parent is the evaluated head, and a fast-forward-only branch update."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import quote

from prgate.errors import PrgateError
from prgate.github.errors import Unprocessable
from prgate.github.http import Http
from prgate.github.pulls import repo_path


class BranchMoved(PrgateError):
    """The branch no longer points at the commit the fixes were computed on."""


def head_of(http: Http, repo: str, branch: str) -> str:
    data = http.json("GET", f"{repo_path(repo)}/git/ref/heads/{quote(branch, safe='/')}")
    return str(data["object"]["sha"])


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
        )
        mode = (modes or {}).get(path) or known_modes.get(path, "100644")
        entries.append({"path": path, "mode": mode, "type": "blob", "sha": str(blob["sha"])})
    tree = http.json(
        "POST",
        f"{base}/git/trees",
        json={"base_tree": base_tree, "tree": entries},
    )
    commit = http.json(
        "POST",
        f"{base}/git/commits",
        json={"message": message, "tree": str(tree["sha"]), "parents": [parent]},
    )
    sha = str(commit["sha"])
    try:
        http.json(
            "PATCH",
            f"{base}/git/refs/heads/{quote(branch, safe='/')}",
            json={"sha": sha, "force": False},
        )
    except Unprocessable:
        raise BranchMoved(f"{branch} moved while the fixes were being pushed") from None
    return sha
