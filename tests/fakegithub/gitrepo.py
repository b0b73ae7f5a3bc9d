"""A real bare git repository on disk, driven with git plumbing.

The fake GitHub keeps every repository it serves as one of these. Blobs are written directly as
loose objects (fast, and exactly what ``git hash-object -w`` would write); trees are built with a
temporary index; commits with ``git commit-tree``; refs with ``git update-ref``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40
_GIT_ENV_BASE = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


class GitError(Exception):
    """A git command failed."""


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    type: str  # blob | tree | commit
    sha: str
    path: str
    size: int | None = None


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_date: int
    committer_name: str
    committer_email: str
    committer_date: int
    message: str


@dataclass(frozen=True)
class DiffEntry:
    status: str  # added | removed | modified | renamed | copied | changed
    filename: str
    previous_filename: str | None
    additions: int
    deletions: int
    patch: str | None
    sha: str | None  # blob sha at head (None when removed)
    binary: bool


FileValue = str | bytes | None


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


class GitRepo:
    """A bare repository at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._diffs: dict[tuple[str, str], list[DiffEntry]] = {}

    # ------------------------------------------------------------------ plumbing
    @classmethod
    def init(cls, path: Path, *, default_branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(path))
        return repo

    def git(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> bytes:
        full_env = {**os.environ, **_GIT_ENV_BASE, **(env or {})}
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=false", f"--git-dir={self.path}", *args],
            input=input,
            capture_output=True,
            env=full_env,
            check=False,
        )
        if check and proc.returncode != 0:
            raise GitError(
                f"git {' '.join(args[:3])} failed ({proc.returncode}): "
                f"{proc.stderr.decode(errors='replace').strip()}"
            )
        return proc.stdout

    def write_blob(self, data: str | bytes) -> str:
        raw = _as_bytes(data)
        store = b"blob %d\0" % len(raw) + raw
        sha = hashlib.sha1(store).hexdigest()
        obj = self.path / "objects" / sha[:2] / sha[2:]
        if not obj.exists():
            obj.parent.mkdir(parents=True, exist_ok=True)
            tmp = obj.with_name(obj.name + ".tmp")
            tmp.write_bytes(zlib.compress(store))
            tmp.replace(obj)
        return sha

    def object_type(self, sha: str) -> str | None:
        if not _is_hex(sha):
            return None
        out = self.git("cat-file", "-t", sha, check=False).decode().strip()
        return out or None

    def resolve(self, rev: str) -> str | None:
        """The commit sha ``rev`` (sha, branch, refs/...) names, or None."""
        if not rev or rev.startswith("-") or any(c in rev for c in " \n\t:"):
            return None
        for candidate in (rev, f"refs/heads/{rev}", f"refs/{rev}"):
            out = self.git(
                "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", check=False
            )
            if out.strip():
                return out.decode().strip()
        return None

    def ref_sha(self, ref: str) -> str | None:
        """The sha a full ref (refs/heads/x) points at, or None."""
        out = self.git("rev-parse", "--verify", "--quiet", ref, check=False)
        return out.decode().strip() or None

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        result: dict[str, str] = {}
        for line in out.decode().splitlines():
            name, sha = line.rsplit(" ", 1)
            result[name] = sha
        return result

    def update_ref(self, ref: str, sha: str, *, old: str | None = None) -> None:
        args = ["update-ref", ref, sha]
        if old is not None:
            args.append(old)
        self.git(*args)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        proc = subprocess.run(
            ["git", f"--git-dir={self.path}", "merge-base", "--is-ancestor", ancestor, descendant],
            capture_output=True,
            env={**os.environ, **_GIT_ENV_BASE},
            check=False,
        )
        return proc.returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        out = self.git("merge-base", a, b, check=False).decode().strip()
        return out or None

    # ------------------------------------------------------------------ trees
    def build_tree(self, base_tree: str | None, changes: Mapping[str, FileValue]) -> str:
        """A new tree: ``base_tree`` (or empty) with files set (str/bytes) or removed (None)."""
        entries: list[tuple[str, str, str | None]] = []
        for path, value in changes.items():
            if value is None:
                entries.append((path, "0", None))
            else:
                entries.append((path, "100644", self.write_blob(value)))
        return self.build_tree_from_entries(base_tree, entries)

    def build_tree_from_entries(
        self, base_tree: str | None, entries: list[tuple[str, str, str | None]]
    ) -> str:
        """Entries are (path, mode, sha); sha None removes the path (and anything under it)."""
        with tempfile.TemporaryDirectory(prefix="fakegh-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if base_tree:
                self.git("read-tree", base_tree, env=env)
            else:
                self.git("read-tree", "--empty", env=env)
            existing = self._index_paths(env)
            lines: list[bytes] = []
            subtrees: list[tuple[str, str]] = []
            for path, mode, sha in entries:
                under = [p for p in existing if p == path or p.startswith(path + "/")]
                for p in under:
                    lines.append(b"0 " + ZERO_SHA.encode() + b"\t" + p.encode() + b"\0")
                if sha is None:
                    continue
                if mode == "040000":
                    subtrees.append((path, sha))
                else:
                    lines.append(f"{mode} {sha}\t{path}".encode() + b"\0")
            if lines:
                self.git("update-index", "-z", "--index-info", input=b"".join(lines), env=env)
            for path, sha in subtrees:
                self.git("read-tree", f"--prefix={path}/", sha, env=env)
            return self.git("write-tree", env=env).decode().strip()

    def _index_paths(self, env: Mapping[str, str]) -> list[str]:
        out = self.git("ls-files", "-z", env=env)
        return [p.decode() for p in out.split(b"\0") if p]

    def tree_entries(self, tree_ish: str, *, recursive: bool = False) -> list[TreeEntry]:
        args = ["ls-tree", "-z", "--long"]
        if recursive:
            args.append("-r")
            args.append("-t")
        out = self.git(*args, tree_ish)
        result: list[TreeEntry] = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, path = record.split(b"\t", 1)
            mode, typ, sha, size = meta.decode().split()
            result.append(
                TreeEntry(
                    mode=mode,
                    type=typ,
                    sha=sha,
                    path=path.decode(),
                    size=int(size) if size != "-" else None,
                )
            )
        return result

    def tree_of(self, commit: str) -> str:
        return self.git("rev-parse", f"{commit}^{{tree}}").decode().strip()

    # ------------------------------------------------------------------ commits
    def commit(
        self,
        tree: str,
        parents: list[str],
        message: str,
        *,
        author: tuple[str, str, int] = ("Fake Builder", "builder@example.com", 1_700_000_000),
        committer: tuple[str, str, int] | None = None,
    ) -> str:
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": f"{author[2]} +0000",
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": f"{committer[2]} +0000",
        }
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        return self.git(*args, input=message.encode(), env=env).decode().strip()

    def commit_files(
        self,
        ref: str,
        changes: Mapping[str, FileValue],
        message: str,
        *,
        parent: str | None = None,
        when: int = 1_700_000_000,
    ) -> str:
        """Commit ``changes`` on top of ``parent`` (default: ``ref``'s tip) and move ``ref``."""
        if parent is None:
            parent = self.ref_sha(ref)
        base_tree = self.tree_of(parent) if parent else None
        tree = self.build_tree(base_tree, changes)
        sha = self.commit(
            tree,
            [parent] if parent else [],
            message,
            author=("Fake Builder", "builder@example.com", when),
        )
        self.update_ref(ref, sha)
        return sha

    def commit_info(self, sha: str) -> CommitInfo:
        raw = self.git("cat-file", "commit", sha).decode("utf-8", errors="replace")
        header, _, message = raw.partition("\n\n")
        tree = ""
        parents: list[str] = []
        people: dict[str, tuple[str, str, int]] = {}
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key in ("author", "committer"):
                name, _, rest = value.partition(" <")
                email, _, stamp = rest.partition("> ")
                people[key] = (name, email, int(stamp.split()[0]))
        return CommitInfo(
            sha=sha,
            tree=tree,
            parents=tuple(parents),
            author_name=people["author"][0],
            author_email=people["author"][1],
            author_date=people["author"][2],
            committer_name=people["committer"][0],
            committer_email=people["committer"][1],
            committer_date=people["committer"][2],
            message=message,
        )

    # ------------------------------------------------------------------ reading
    def read_objects(self, specs: list[str]) -> list[tuple[str, str, bytes] | None]:
        """For each ``rev:path`` (or sha) spec: (sha, type, content) or None when missing."""
        if not specs:
            return []
        safe = [s if "\n" not in s and s.strip() == s else "missing-invalid" for s in specs]
        out = self.git("cat-file", "--batch", input="".join(f"{s}\n" for s in safe).encode())
        results: list[tuple[str, str, bytes] | None] = []
        pos = 0
        for _ in safe:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode(errors="replace")
            pos = end + 1
            parts = header.split(" ")
            if len(parts) == 3 and parts[1] in ("blob", "tree", "commit", "tag"):
                size = int(parts[2])
                content = out[pos : pos + size]
                pos += size + 1
                results.append((parts[0], parts[1], content))
            else:
                results.append(None)
        return results

    def read_file(self, rev: str, path: str) -> bytes | None:
        found = self.read_objects([f"{rev}:{path}"])[0]
        if found is None or found[1] != "blob":
            return None
        return found[2]

    def files_at(self, rev: str) -> dict[str, bytes]:
        entries = [e for e in self.tree_entries(rev, recursive=True) if e.type == "blob"]
        contents = self.read_objects([e.sha for e in entries])
        return {e.path: c[2] for e, c in zip(entries, contents, strict=True) if c is not None}

    # ------------------------------------------------------------------ diffs
    def diff(self, base: str, head: str) -> list[DiffEntry]:
        """The files changed from ``base`` to ``head`` as GitHub lists them (renames detected)."""
        key = (base, head)
        if key not in self._diffs:
            self._diffs[key] = self._diff(base, head)
        return list(self._diffs[key])

    def _diff(self, base: str, head: str) -> list[DiffEntry]:
        common = ["--no-ext-diff", "--no-textconv", "--no-color", "-M", "--full-index"]
        raw = self.git("diff", *common, "-z", "--raw", "--numstat", base, head)
        records = raw.split(b"\0")
        entries: list[tuple[str, str, str | None, str]] = []  # status, path, old path, head sha
        numstats: list[tuple[str, str]] = []
        i = 0
        while i < len(records):
            rec = records[i]
            if not rec:
                i += 1
                continue
            if rec.startswith(b":"):
                meta = rec.decode().split()
                new_sha, code = meta[3], meta[4]
                if code[0] in "RC":
                    source, target = records[i + 1].decode(), records[i + 2].decode()
                    entries.append((code[0], target, source, new_sha))
                    i += 3
                else:
                    entries.append((code[0], records[i + 1].decode(), None, new_sha))
                    i += 2
            else:
                parts = rec.decode().split("\t")
                numstats.append((parts[0], parts[1]))
                # a rename's numstat is followed by two path records (old, new) when -z
                if len(parts) >= 3 and parts[2] == "":
                    i += 3
                else:
                    i += 1
        patch_text = self.git("diff", *common, base, head).decode("utf-8", errors="replace")
        chunks = _split_patch(patch_text)
        result: list[DiffEntry] = []
        status_names = {
            "A": "added",
            "D": "removed",
            "M": "modified",
            "R": "renamed",
            "C": "copied",
            "T": "changed",
        }
        for idx, (code, path, previous, new_sha) in enumerate(entries):
            adds, dels = numstats[idx] if idx < len(numstats) else ("0", "0")
            binary = adds == "-"
            chunk = chunks[idx] if idx < len(chunks) else ""
            patch: str | None = None
            if not binary:
                at = chunk.find("\n@@")
                patch = chunk[at + 1 :].rstrip("\n") if at >= 0 else None
            result.append(
                DiffEntry(
                    status=status_names.get(code, "modified"),
                    filename=path,
                    previous_filename=previous,
                    additions=0 if binary else int(adds),
                    deletions=0 if binary else int(dels),
                    patch=patch,
                    sha=None if code == "D" else new_sha,
                    binary=binary,
                )
            )
        return result


def _split_patch(text: str) -> list[str]:
    chunks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        if line.startswith("diff --git "):
            if current is not None:
                chunks.append("".join(current))
            current = [line]
        elif current is not None:
            current.append(line)
    if current is not None:
        chunks.append("".join(current))
    return chunks


def _is_hex(value: str) -> bool:
    return 4 <= len(value) <= 40 and all(c in "0123456789abcdef" for c in value)
