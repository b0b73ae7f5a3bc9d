"""The head's tree, read first when the rules want it anyway (ruff's view of the project's own
modules): its one recursive listing gives every file's size, git mode and blob id, so the
sizes of the changed files, and the modes that tell links and submodules, need no query of
their own. Only the contents travel then, in as few GraphQL queries as before, and only
within the same limits (:mod:`prgate.sources.fetchplan`).

When the listing is cut short (a very large repository), or the first reads include files of
the base whose sizes it does not give, the source reads sizes with GraphQL as usual.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prgate.github.http import Http
from prgate.github.pulls import Blob, TreeEntry, fetch_objects, fetch_texts, repo_path
from prgate.model import TreeListing
from prgate.sources.basecache import BaseCache
from prgate.sources.fetchplan import TooBigToJudge, too_big

Key = tuple[str, str]
#: Git's mode of a folder.
TREE_MODE = 0o040000


@dataclass(frozen=True)
class HeadTree:
    """Every entry of a commit's tree: path -> (mode, blob or tree id, size of a file)."""

    sha: str
    entries: Mapping[str, tuple[int, str, int | None]]
    complete: bool

    @property
    def listing(self) -> TreeListing:
        paths = tuple(sorted(p for p, (mode, _o, _s) in self.entries.items() if _is_file(mode)))
        return TreeListing(paths=paths, complete=self.complete)


def _is_file(mode: int) -> bool:
    return mode not in (TREE_MODE, 0o160000)


def read_head_tree(http: Http, repo: str, sha: str) -> HeadTree:
    """The whole tree of commit ``sha``: one recursive tree call."""
    data = http.json("GET", f"{repo_path(repo)}/git/trees/{sha}", params={"recursive": "1"})
    items = data.get("tree") if isinstance(data, dict) else None
    entries: dict[str, tuple[int, str, int | None]] = {}
    for e in items or ():
        if not isinstance(e, dict) or not isinstance(e.get("path"), str):
            continue
        try:
            mode = int(str(e.get("mode") or "0"), 8)
        except ValueError:
            continue
        size = e.get("size")
        entries[e["path"]] = (
            mode,
            str(e.get("sha") or ""),
            size if isinstance(size, int) else None,
        )
    truncated = bool(data.get("truncated")) if isinstance(data, dict) else True
    return HeadTree(sha=sha, entries=entries, complete=not truncated and items is not None)


def fetch_with_tree(
    http: Http,
    repo: str,
    tree: HeadTree,
    blobs: Sequence[Key],
    folders: Sequence[Key],
    *,
    max_file_bytes: int,
    max_fetch_bytes: int,
    extra: Sequence[str] = (),
    answers: dict[str, Any] | None = None,
) -> tuple[dict[Key, Blob | None], dict[Key, dict[str, TreeEntry] | None]] | None:
    """What :func:`~prgate.sources.fetchplan.fetch_within` gives, with the sizes and modes
    taken from ``tree``; ``None`` when the tree cannot tell (cut short, or a blob wanted at
    another commit): the caller then asks GitHub for the sizes."""
    if not tree.complete or any(rev != tree.sha for rev, _p in [*blobs, *folders]):
        return None
    found: dict[Key, Blob | None] = {}
    for key in dict.fromkeys(blobs):
        entry = tree.entries.get(key[1])
        if entry is None or not _is_file(entry[0]) or entry[2] is None:
            if entry is not None and _is_file(entry[0]):
                return None  # a file without a size: let GitHub say
            found[key] = None
            continue
        found[key] = Blob(oid=entry[1], byte_size=entry[2], is_binary=False, text=None)
    to_read = {k: b for k, b in found.items() if b is not None and b.byte_size <= max_file_bytes}
    total = sum(b.byte_size for b in to_read.values())
    if total > max_fetch_bytes:
        raise TooBigToJudge(too_big(total, max_fetch_bytes))
    # The contents come with GitHub's word on binary files (read whole later, as usual).
    found.update(fetch_texts(http, repo, to_read, extra=extra, answers=answers))
    unread = [k for k, b in found.items() if b is not None and k not in to_read]
    if unread:  # too large to read: GitHub's word on binary is all there is of them
        flags, _ = fetch_objects(http, repo, unread, (), text=False)
        found.update(flags)
    wanted = {folder for _rev, folder in folders}
    listed: dict[str, dict[str, TreeEntry]] = {
        f: {} for f in wanted if not f or tree.entries.get(f, (0, "", None))[0] == TREE_MODE
    }
    for path, (mode, oid, _size) in tree.entries.items():
        within = listed.get(posixpath.dirname(path))
        if within is not None:
            name = posixpath.basename(path)
            within[name] = TreeEntry(name=name, mode=mode, oid=oid)
    return found, {key: listed.get(key[1]) for key in dict.fromkeys(folders)}


class _NotKept(Exception):
    """A config file the cache does not hold."""


@dataclass(frozen=True)
class _KeptOnly:
    """A config fetcher that reads the base cache only (no call to GitHub)."""

    cache: BaseCache
    repo: str
    base_sha: str

    def read(self, repo: str | None, path: str) -> bytes | None:
        if repo is not None and repo.lower() != self.repo.lower():
            raise _NotKept(path)
        known, data = self.cache.get(self.repo, self.base_sha, path)
        if not known:
            raise _NotKept(path)
        return data


def rules_want_tree(cache: BaseCache, repo: str, base_sha: str) -> bool:
    """Whether the base's rules, as the cache holds its config, read the head's tree (then it
    is read first and gives the sizes). ``False`` when the cache cannot tell."""
    from prgate.checks import declared_reads
    from prgate.config.loader import resolve_config

    try:
        config = resolve_config(_KeptOnly(cache, repo, base_sha), org=repo.split("/", 1)[0])
    except Exception:  # not kept, or not usable: the usual way finds out
        return False
    return declared_reads(config.rules).tree
