"""Reading a pull request and repository contents: the PR, its files, blobs in batches."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from prgate.errors import SourceError
from prgate.github.errors import GitHubError, NotFound
from prgate.github.http import Http

#: GitHub lists at most this many files of a pull request.
MAX_PR_FILES = 3000
#: GitHub's longest pull-request title; longer text is cut.
TITLE_LIMIT = 256
#: Blob lookups per GraphQL query: a PR's 100 files plus the base's config files fit in one.
BLOBS_PER_QUERY = 110


@dataclass(frozen=True)
class PullRequest:
    number: int
    state: str
    head_sha: str
    head_ref: str
    #: ``owner/name`` of the repository the head branch lives in (differs for forks).
    head_repo: str | None
    base_ref: str
    base_sha: str
    base_repo: str
    author: str | None
    labels: tuple[str, ...]
    changed_files: int
    draft: bool = False
    #: The title, as its author wrote it (untrusted).
    title: str = ""

    @property
    def is_fork(self) -> bool:
        return self.head_repo is None or self.head_repo.lower() != self.base_repo.lower()


@dataclass(frozen=True)
class PullFile:
    """One entry of GitHub's list of a PR's files."""

    path: str
    status: str
    previous_path: str | None
    additions: int
    deletions: int
    #: The unified diff hunks, absent for binary files and very large diffs.
    patch: str | None
    sha: str | None


@dataclass(frozen=True)
class Blob:
    oid: str
    byte_size: int
    is_binary: bool
    text: str | None
    #: GitHub gave only the start of the text (very large files).
    is_truncated: bool = False
    #: The text as UTF-8 bytes, in place of ``text`` (:func:`fetch_texts`: a large PR's files
    #: are held once, not once as text and again as bytes).
    data: bytes | None = None


def repo_path(repo: str) -> str:
    owner, name = repo.split("/", 1)
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


def get_pull(http: Http, repo: str, number: int) -> PullRequest:
    data = http.json("GET", f"{repo_path(repo)}/pulls/{number}")
    return parse_pull(data, repo)


def parse_pull(data: Mapping[str, Any], repo: str) -> PullRequest:
    head = data.get("head") or {}
    base = data.get("base") or {}
    head_repo = (head.get("repo") or {}).get("full_name")
    user = data.get("user") or {}
    return PullRequest(
        number=int(data["number"]),
        state=str(data.get("state", "open")),
        head_sha=str(head["sha"]),
        head_ref=str(head.get("ref", "")),
        head_repo=str(head_repo) if head_repo else None,
        base_ref=str(base.get("ref", "")),
        base_sha=str(base.get("sha", "")),
        base_repo=str((base.get("repo") or {}).get("full_name") or repo),
        author=str(user["login"]) if user.get("login") else None,
        labels=tuple(str(label["name"]) for label in data.get("labels") or ()),
        changed_files=int(data.get("changed_files") or 0),
        draft=bool(data.get("draft", False)),
        title=str(data.get("title") or "")[:TITLE_LIMIT],
    )


class TooManyFiles(SourceError):
    """The PR changes more files than GitHub will list: the gate cannot see all of it."""


def list_files(http: Http, repo: str, number: int, *, expected: int) -> list[PullFile]:
    """All files of the PR, 100 per page. More than GitHub's cap raises :class:`TooManyFiles`."""
    if expected > MAX_PR_FILES:
        raise TooManyFiles(_too_many(expected))
    files: list[PullFile] = []
    path = f"{repo_path(repo)}/pulls/{number}/files"
    for batch in http.pages(path, "the pull request's files"):
        files.extend(parse_file(item) for item in batch)
        if len(files) >= MAX_PR_FILES or 0 < expected <= len(files):
            break
    if len(files) >= MAX_PR_FILES and expected != len(files):
        raise TooManyFiles(_too_many(max(expected, len(files))))
    return files


def _too_many(count: int) -> str:
    return (
        f"This pull request changes {count} files; GitHub shows prgate at most {MAX_PR_FILES}, "
        "so it cannot see the whole change"
    )


def parse_file(item: Mapping[str, Any]) -> PullFile:
    patch = item.get("patch")
    prev = item.get("previous_filename")
    return PullFile(
        path=str(item["filename"]),
        status=str(item.get("status", "modified")),
        previous_path=str(prev) if prev else None,
        additions=int(item.get("additions") or 0),
        deletions=int(item.get("deletions") or 0),
        patch=str(patch) if isinstance(patch, str) else None,
        sha=str(item["sha"]) if item.get("sha") else None,
    )


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a folder: its git mode tells a file from a link (120000) or a submodule
    (160000)."""

    name: str
    mode: int
    oid: str


#: Git modes of a symbolic link and of a submodule entry.
SYMLINK_MODE = 0o120000
SUBMODULE_MODE = 0o160000
#: Folder listings per GraphQL query, on top of the blobs.
TREES_PER_QUERY = 60
#: What is asked of each blob; ``text`` only once its size is known to be within the limits.
_BLOB_FIELDS = "oid byteSize isBinary isTruncated"
#: Bytes of file text one GraphQL answer carries at most (it is held whole while it is parsed).
TEXT_BYTES_PER_QUERY = 16 * 1024 * 1024


def fetch_blobs(
    http: Http, repo: str, wanted: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Blob | None]:
    """Blobs at ``(rev, path)`` in as few GraphQL queries as possible.

    ``None`` means nothing is there (or it is not a file). Files GitHub returns without text
    (binary) keep ``text`` ``None``.
    """
    return fetch_objects(http, repo, wanted, ())[0]


def repository_query(http: Http, repo: str, fields: Sequence[str]) -> Mapping[str, Any]:
    """One GraphQL query of aliased ``fields`` on ``repo``; the repository's answer by alias."""
    owner, name = repo.split("/", 1)
    query = (
        "query($owner: String!, $name: String!) {\n"
        "  repository(owner: $owner, name: $name) {\n" + "\n".join(fields) + "\n  }\n}"
    )
    data = http.graphql(query, {"owner": owner, "name": name})
    repository = data.get("repository")
    if not isinstance(repository, dict):
        raise NotFound(f"GitHub did not show the repository {repo}")
    return repository


def fetch_objects(
    http: Http,
    repo: str,
    blobs: Sequence[tuple[str, str]],
    trees: Sequence[tuple[str, str]],
    *,
    text: bool = True,
    extra: Sequence[str] = (),
    answers: dict[str, Any] | None = None,
) -> tuple[
    dict[tuple[str, str], Blob | None],
    dict[tuple[str, str], dict[str, TreeEntry] | None],
]:
    """Blobs at ``(rev, path)`` and folder listings at ``(rev, folder)`` (``""`` for the root),
    together, in as few GraphQL queries as possible (one for a PR of 100 files).

    With ``text=False`` only the blobs' sizes and kinds come back (``text`` stays ``None``):
    what to read is decided from them before any contents travel (:func:`fetch_texts`).

    ``extra`` fields (aliased) go with the first query, their answers by alias into
    ``answers``: other reads of the same moment that then cost no call of their own."""
    blob_keys = list(dict.fromkeys(blobs))
    tree_keys = list(dict.fromkeys(trees))
    found: dict[tuple[str, str], Blob | None] = {}
    listed: dict[tuple[str, str], dict[str, TreeEntry] | None] = {}
    chunks = max(-(-len(blob_keys) // BLOBS_PER_QUERY), -(-len(tree_keys) // TREES_PER_QUERY), 0)
    if extra and not chunks:
        chunks = 1
    blob_fields = _BLOB_FIELDS + (" text" if text else "")
    for n in range(chunks):
        some_blobs = blob_keys[n * BLOBS_PER_QUERY : (n + 1) * BLOBS_PER_QUERY]
        some_trees = tree_keys[n * TREES_PER_QUERY : (n + 1) * TREES_PER_QUERY]
        fields = [
            f"    f{i}: object(expression: {json.dumps(f'{rev}:{path}')}) "
            f"{{ ... on Blob {{ {blob_fields} }} }}"
            for i, (rev, path) in enumerate(some_blobs)
        ] + [
            f"    t{i}: object(expression: {json.dumps(f'{rev}:{folder}')}) "
            "{ ... on Tree { entries { name mode oid } } }"
            for i, (rev, folder) in enumerate(some_trees)
        ]
        asked = list(extra) if n == 0 else []
        repository = repository_query(http, repo, fields + asked)
        if asked and answers is not None:
            ours = {f"f{i}" for i in range(len(some_blobs))}
            ours |= {f"t{i}" for i in range(len(some_trees))}
            answers.update({k: v for k, v in repository.items() if k not in ours})
        for i, key in enumerate(some_blobs):
            found[key] = _parse_blob(repository.get(f"f{i}"))
        for i, key in enumerate(some_trees):
            listed[key] = _parse_tree(repository.get(f"t{i}"))
    return found, listed


def fetch_texts(
    http: Http,
    repo: str,
    blobs: Mapping[tuple[str, str], Blob],
    *,
    bytes_per_query: int = TEXT_BYTES_PER_QUERY,
    extra: Sequence[str] = (),
    answers: dict[str, Any] | None = None,
) -> dict[tuple[str, str], Blob]:
    """The text of ``blobs`` (found by :func:`fetch_objects` with ``text=False``), in queries
    of at most ``bytes_per_query`` bytes of text (or :data:`BLOBS_PER_QUERY` blobs), so that
    one answer never holds more than that at once. A blob larger than ``bytes_per_query``
    goes alone. ``extra``: as :func:`fetch_objects` (asked even when no text is)."""
    out: dict[tuple[str, str], Blob] = {}
    batch: list[tuple[str, str]] = []
    size = 0
    first = list(extra)
    for key, blob in blobs.items():
        if batch and (size + blob.byte_size > bytes_per_query or len(batch) >= BLOBS_PER_QUERY):
            out.update(_texts(http, repo, batch, first, answers))
            batch, size, first = [], 0, []
        batch.append(key)
        size += blob.byte_size
    if batch or first:
        out.update(_texts(http, repo, batch, first, answers))
    return out


def _texts(
    http: Http,
    repo: str,
    keys: Sequence[tuple[str, str]],
    extra: Sequence[str] = (),
    answers: dict[str, Any] | None = None,
) -> dict[tuple[str, str], Blob]:
    found, _ = fetch_objects(http, repo, keys, (), extra=extra, answers=answers)
    out: dict[tuple[str, str], Blob] = {}
    for key in keys:
        blob = found.pop(key, None)
        if blob is None:  # it was there a moment ago, at a commit that cannot change
            raise GitHubError(f"GitHub did not return the contents of {key[1]} at {key[0][:12]}")
        data = blob.text.encode("utf-8") if blob.text is not None else None
        out[key] = replace(blob, text=None, data=data)
    return out


def _parse_tree(node: object) -> dict[str, TreeEntry] | None:
    if not isinstance(node, dict) or not isinstance(node.get("entries"), list):
        return None
    out: dict[str, TreeEntry] = {}
    for item in node["entries"]:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            out[item["name"]] = TreeEntry(
                name=item["name"], mode=int(item.get("mode") or 0), oid=str(item.get("oid", ""))
            )
    return out


def read_blob(http: Http, repo: str, oid: str) -> bytes:
    """A blob's bytes through the git data API (for what GraphQL gives no text of)."""
    data = http.json("GET", f"{repo_path(repo)}/git/blobs/{quote(oid, safe='')}")
    if isinstance(data, dict) and data.get("encoding") == "base64":
        content = data.get("content")
        if isinstance(content, str):
            return base64.b64decode(content)
    raise GitHubError(f"GitHub did not return the contents of the blob {oid[:12]}")


def _parse_blob(node: object) -> Blob | None:
    if not isinstance(node, dict) or "oid" not in node:
        return None
    text = node.get("text")
    return Blob(
        oid=str(node["oid"]),
        byte_size=int(node.get("byteSize") or 0),
        is_binary=bool(node.get("isBinary")),
        text=text if isinstance(text, str) else None,
        is_truncated=bool(node.get("isTruncated")),
    )


def read_content(http: Http, repo: str, path: str, *, ref: str | None = None) -> bytes | None:
    """One file through the contents API; ``None`` when it does not exist."""
    params = {"ref": ref} if ref else None
    try:
        data = http.json("GET", f"{repo_path(repo)}/contents/{quote(path)}", params=params)
    except NotFound:
        return None
    if not isinstance(data, dict) or data.get("type") != "file":
        return None
    if data.get("encoding") == "base64" and isinstance(data.get("content"), str):
        return base64.b64decode(data["content"])
    raise GitHubError(f"GitHub did not return the contents of {path}")


#: Repository roles that may push: GitHub's ``role_name`` of the permission answer.
WRITE_ROLES = frozenset({"admin", "maintain", "write"})


def can_write(http: Http, repo: str, user: str) -> bool:
    """Whether ``user`` may push to ``repo`` (role admin, maintain or write, or a custom role
    built on write), from ``GET /repos/{o}/{r}/collaborators/{user}/permission``.

    The answer's ``permission`` is GitHub's plain level (``admin``, ``write``, ``read``,
    ``none``; maintain counts as write, a custom role as the role it is built on);
    ``role_name`` and ``user.permissions.push`` say the same in other words. Someone GitHub
    does not know (404) may not.
    """
    try:
        data = http.json(
            "GET", f"{repo_path(repo)}/collaborators/{quote(user, safe='')}/permission"
        )
    except NotFound:
        return False
    if not isinstance(data, dict):
        return False
    if data.get("permission") in ("admin", "write") or data.get("role_name") in WRITE_ROLES:
        return True
    person = data.get("user")
    rights = person.get("permissions") if isinstance(person, dict) else None
    return isinstance(rights, dict) and rights.get("push") is True


def open_pulls_at(http: Http, repo: str, sha: str) -> list[int]:
    """The numbers of the open pull requests of ``repo`` whose head is commit ``sha``, in order
    (every page: one that is left out could be the one whose rules fail)."""
    return sorted(pulls_at(http, repo, sha))


def pulls_at(http: Http, repo: str, sha: str) -> dict[int, PullRequest]:
    """The open pull requests of ``repo`` whose head is commit ``sha``, by number, as GitHub
    lists them now (one call for up to 100: the list gives each one's head, base, labels and
    author, all a judgement needs but the count of files, which is then left at 0)."""
    found: dict[int, PullRequest] = {}
    path = f"{repo_path(repo)}/commits/{sha}/pulls"
    for batch in http.pages(path, "the pull requests of a commit"):
        for item in batch:
            if not isinstance(item, dict) or item.get("state") != "open":
                continue
            if str((item.get("head") or {}).get("sha") or "") == sha:
                try:
                    pull = parse_pull(item, repo)
                except (KeyError, TypeError, ValueError):
                    raise GitHubError(
                        "GitHub listed the pull requests of a commit in an unexpected shape"
                    ) from None
                found[pull.number] = replace(pull, changed_files=0)
    return found
