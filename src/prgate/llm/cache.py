"""Remembering the AI reviewer's findings per file, so that a new push reviews only what changed.

A key names one rule's review of one file *where it is*: the scope (on the App, the installation
and the repository; ``local`` for the command line, whose cache is the user's own), the file's
path, the rule's id, the model, a hash of the file's content at head with its added line numbers,
and a hash of the rule's text (instructions, title, why, fix, paths). So a pull request never gets
another repository's review of an identical file, nor that file's path in its comment; the
session also anchors what it reads back to the current path and added lines. The value is the
file's checked findings as JSON text. A cache that fails is treated as empty: it can cost a
request, never a verdict.

Implementations: :class:`MemoryCache` (tests, rule cases), :class:`FileCache` for the command line
(``$XDG_CACHE_HOME/prgate/llm``, else ``~/.cache/prgate/llm``), and the App's store, which has the
same two methods.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from prgate.cachedir import cache_root, write_private
from prgate.checks import Rule
from prgate.llm.params import LlmParams
from prgate.model import FileChange

#: Bumped when what is cached, or what its key names, changes (2: scope and path in the key).
VERSION = "2"
#: The scope of the command line's cache (the user's own machine).
LOCAL_SCOPE = "local"
#: The command line's cache keeps at most this many bytes; the oldest entries go first.
FILE_CACHE_MAX_BYTES = 20 * 1024 * 1024
#: A single value larger than this is not kept.
MAX_VALUE_BYTES = 256 * 1024


class LlmCache(Protocol):
    def llm_cache_get(self, key: str) -> str | None: ...

    def llm_cache_put(self, key: str, value: str) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def llm_cache_get(self, key: str) -> str | None:
        return self.values.get(key)

    def llm_cache_put(self, key: str, value: str) -> None:
        self.values[key] = value


def rule_hash(rule: Rule) -> str:
    """A hash of everything in ``rule`` that shapes the review."""
    params = rule.params
    text: Mapping[str, object] = {
        "instructions": params.instructions if isinstance(params, LlmParams) else "",
        "paths": list(params.paths) if isinstance(params, LlmParams) else [],
        "title": rule.title,
        "why": rule.why,
        "fix": rule.fix,
    }
    return _sha(json.dumps(text, sort_keys=True, ensure_ascii=False))


def file_hash(change: FileChange) -> str | None:
    """A hash of ``change``'s content at head and its added lines; ``None`` without content."""
    data = change.head_bytes()
    if data is None:
        return None
    digest = hashlib.sha256(data)
    digest.update(b"\0" + ",".join(str(n) for n in change.added_line_numbers()).encode())
    return digest.hexdigest()


def cache_key(
    rule: Rule, *, model: str, file_digest: str, rule_digest: str, scope: str, path: str
) -> str:
    """The key of ``rule``'s review of the file at ``path`` in ``scope`` (see the module)."""
    parts = [VERSION, scope, path, rule.id, model, file_digest, rule_digest]
    return _sha(json.dumps(parts, ensure_ascii=False))


def app_scope(installation_id: int, repo: str) -> str:
    """The App's cache scope: one repository of one installation."""
    return f"installation:{installation_id}/{repo.lower()}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    return cache_root(environ) / "llm"


class FileCache:
    """One file per key, written atomically and readable by its owner only; size-bounded."""

    def __init__(self, folder: Path, *, max_bytes: int = FILE_CACHE_MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def _path(self, key: str) -> Path | None:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            return None
        return self.folder / f"{key}.json"

    def llm_cache_get(self, key: str) -> str | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def llm_cache_put(self, key: str, value: str) -> None:
        path = self._path(key)
        data = value.encode("utf-8")
        if path is None or len(data) > MAX_VALUE_BYTES:
            return
        # A cache that cannot be written costs a request next time, nothing more.
        if not write_private(path, data):
            return
        try:
            self._trim()
        except OSError:
            return

    def _trim(self) -> None:
        entries = []
        total = 0
        for entry in os.scandir(self.folder):
            if not entry.name.endswith(".json") or entry.name.startswith(".tmp-"):
                continue
            stat = entry.stat()
            entries.append((stat.st_mtime, entry.path, stat.st_size))
            total += stat.st_size
        entries.sort()
        for _mtime, path, size in entries:
            if total <= self.max_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size
