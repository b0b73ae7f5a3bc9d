"""A real bare git repository on disk, driven with git plumbing.

The fake GitHub keeps every repository it serves as one of these. Blobs are written directly as
loose objects (fast, and exactly what ``git hash-object -w`` would write); trees are built with a
temporary index; commits with ``git commit-tree``; refs with ``git update-ref``.

Reads (objects, types, refs, revisions) go through one long-lived ``git cat-file
--batch-command`` per repository instead of a process each, and what a full sha names (an
object, a ``sha:path``, a commit's fields, a tree's listing, a merge base) is kept in memory:
it cannot change. Everything here is safe to call from several threads at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import tempfile
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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


@dataclass(frozen=True)
class Symlink:
    """A symbolic link (git mode 120000): its blob holds ``target``."""

    target: str


@dataclass(frozen=True)
class Gitlink:
    """A submodule entry (git mode 160000): ``commit`` of another repository."""

    commit: str


FileValue = str | bytes | Symlink | Gitlink | None


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


_OBJECT_TYPES = ("blob", "tree", "commit", "tag")
#: Questions written to ``git cat-file`` at once (well under a pipe's 64 KiB).
_CHUNK_BYTES = 16 * 1024
#: What ``git cat-file --batch-command`` answers: sha, type, size, content (``contents`` only).
Answer = tuple[str, str, int, bytes | None]
#: Git commands that never move a ref (any other one forgets the refs remembered).
_READ_ONLY = frozenset(
    {"cat-file", "rev-parse", "ls-tree", "ls-files", "diff", "merge-base", "for-each-ref"}
)
#: Bytes of object contents kept in memory per repository (least recently used dropped first).
CACHE_BYTES = 64 * 1024 * 1024


def _git_env() -> dict[str, str]:
    return {**os.environ, **_GIT_ENV_BASE}


class _CatFile:
    """One ``git cat-file --batch-command`` process, asked one question at a time (a lock keeps
    threads from interleaving). Started when first needed; started again if it died."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            ["git", f"--git-dir={self._path}", "cat-file", "--batch-command"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_git_env(),
        )
        self._proc = proc
        return proc

    def ask(self, command: str, spec: str) -> Answer | None:
        """``info`` or ``contents`` of ``spec``: (sha, type, size, content or None), or None when
        git does not find it. ``spec`` must be one line."""
        return self.ask_many(command, [spec])[0]

    def ask_many(self, command: str, specs: list[str]) -> list[Answer | None]:
        """``ask`` for each of ``specs``, the questions written in chunks small enough for the
        pipe (so that neither side waits on the other), the answers read in order."""
        results: list[Answer | None] = []
        chunk: list[bytes] = []
        size = 0
        for spec in specs:
            line = f"{command} {spec}\n".encode()
            if chunk and size + len(line) > _CHUNK_BYTES:
                results += self._exchange(command, chunk)
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            results += self._exchange(command, chunk)
        return results

    def _exchange(self, command: str, lines: list[bytes]) -> list[Answer | None]:
        with self._lock:
            if self._closed:
                raise GitError("the repository is closed")
            for attempt in (1, 2):
                proc = self._proc if self._proc is not None else self._start()
                assert proc.stdin is not None and proc.stdout is not None
                try:
                    proc.stdin.write(b"".join(lines))
                    proc.stdin.flush()
                    return [self._read_answer(proc.stdout, command) for _ in lines]
                except (BrokenPipeError, OSError):
                    self._stop()
                    if attempt == 2:
                        raise GitError("git cat-file stopped answering") from None
            raise AssertionError("unreachable")

    @staticmethod
    def _read_answer(stdout: IO[bytes], command: str) -> Answer | None:
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise BrokenPipeError("git cat-file ended")
        parts = header.decode(errors="replace").split(" ")
        if (
            len(parts) != 3
            or parts[1] not in _OBJECT_TYPES
            or not _is_hex(parts[0])
            or not parts[2].strip().isdigit()
        ):
            return None  # "<spec> missing" / "<spec> ambiguous"
        size = int(parts[2])
        content: bytes | None = None
        if command == "contents":
            data = stdout.read(size + 1)
            if len(data) != size + 1:
                raise BrokenPipeError("git cat-file ended")
            content = data[:size]
        return parts[0], parts[1], size, content

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()


class GitRepo:
    """A bare repository at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache_lock = threading.Lock()
        self._diffs: dict[tuple[str, str], list[DiffEntry]] = {}
        # Keyed by what a full sha names; the values cannot change.
        self._objects: OrderedDict[str, tuple[str, str, bytes]] = OrderedDict()
        self._object_bytes = 0
        self._types: dict[str, str] = {}
        self._commits: dict[str, CommitInfo] = {}
        self._trees: dict[tuple[str, bool], list[TreeEntry]] = {}
        self._merge_bases: dict[tuple[str, str], str] = {}
        # What each ref pointed at when last read; forgotten whenever a ref may have moved
        # (``_ref_generation`` tells a read that raced with a write not to remember its answer).
        self._refs: dict[str, str | None] = {}
        self._ref_generation = 0
        self._cat = _CatFile(path)
        weakref.finalize(self, self._cat.close)

    def close(self) -> None:
        """Stop the repository's ``git cat-file`` (reads start it again)."""
        self._cat.close()
        self._cat = _CatFile(self.path)
        weakref.finalize(self, self._cat.close)

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
        try:
            proc = subprocess.run(
                ["git", "-c", "core.quotepath=false", f"--git-dir={self.path}", *args],
                input=input,
                capture_output=True,
                env=full_env,
                check=False,
            )
        finally:
            if not args or args[0] not in _READ_ONLY:
                self._forget_refs()
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
            tmp = obj.with_name(f"{obj.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(zlib.compress(store))
            tmp.replace(obj)
        return sha

    def _info(self, spec: str) -> tuple[str, str] | None:
        """(sha, type) of what ``spec`` (a sha, a ref, any revision) names now, or None."""
        if not spec or "\n" in spec or "\r" in spec or spec.strip() != spec:
            return None
        found = self._cat.ask("info", spec)
        return None if found is None else (found[0], found[1])

    def object_type(self, sha: str) -> str | None:
        if not _is_hex(sha):
            return None
        full = len(sha) == 40
        if full:
            with self._cache_lock:
                known = self._types.get(sha)
            if known is not None:
                return known
        found = self._info(sha)
        if found is None:
            return None
        if full:
            with self._cache_lock:
                self._types[sha] = found[1]
        return found[1]

    def resolve(self, rev: str) -> str | None:
        """The commit sha ``rev`` (sha, branch, refs/...) names, or None."""
        if not rev or rev.startswith("-") or any(c in rev for c in " \n\t\r:"):
            return None
        if _is_full_sha(rev):
            return rev if self.object_type(rev) == "commit" else None
        for candidate in (rev, f"refs/heads/{rev}", f"refs/{rev}"):
            found = self._info(f"{candidate}^{{commit}}")
            if found is not None and found[1] == "commit":
                return found[0]
        return None

    def ref_sha(self, ref: str) -> str | None:
        """The sha a full ref (refs/heads/x) points at, or None."""
        if ref.startswith("-"):
            return None
        with self._cache_lock:
            if ref in self._refs:
                return self._refs[ref]
            generation = self._ref_generation
        found = self._info(ref)
        sha = None if found is None else found[0]
        with self._cache_lock:
            if generation == self._ref_generation:
                self._refs[ref] = sha
        return sha

    def _forget_refs(self) -> None:
        """After anything that may have moved a ref (called once the change is on disk)."""
        with self._cache_lock:
            self._ref_generation += 1
            self._refs.clear()

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
        key = (a, b)
        immutable = len(a) == 40 and len(b) == 40 and _is_hex(a) and _is_hex(b)
        if immutable:
            with self._cache_lock:
                known = self._merge_bases.get(key)
            if known is not None:
                return known
        out = self.git("merge-base", a, b, check=False).decode().strip()
        if out and immutable:
            with self._cache_lock:
                self._merge_bases[key] = out
        return out or None

    # ------------------------------------------------------------------ trees
    def build_tree(self, base_tree: str | None, changes: Mapping[str, FileValue]) -> str:
        """A new tree: ``base_tree`` (or empty) with files set (str/bytes, a :class:`Symlink`, a
        :class:`Gitlink`) or removed (None)."""
        entries: list[tuple[str, str, str | None]] = []
        for path, value in changes.items():
            if value is None:
                entries.append((path, "0", None))
            elif isinstance(value, Symlink):
                entries.append((path, "120000", self.write_blob(value.target)))
            elif isinstance(value, Gitlink):
                entries.append((path, "160000", value.commit))
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
        key = (tree_ish, recursive)
        immutable = _is_full_sha(tree_ish.partition(":")[0])
        if immutable:
            with self._cache_lock:
                known = self._trees.get(key)
            if known is not None:
                return list(known)
        result = self._ls_tree(tree_ish, recursive=recursive)
        if immutable:
            with self._cache_lock:
                self._trees[key] = list(result)
        return result

    def _ls_tree(self, tree_ish: str, *, recursive: bool) -> list[TreeEntry]:
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
        if _is_full_sha(commit):
            found = self._info(f"{commit}^{{tree}}")
            if found is not None and found[1] == "tree":
                return found[0]
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
        author: tuple[str, str] = ("Fake Builder", "builder@example.com"),
        committer: tuple[str, str] | None = None,
    ) -> str:
        """Commit ``changes`` on top of ``parent`` (default: ``ref``'s tip) and move ``ref``.
        ``author``/``committer`` are (name, e-mail)."""
        if parent is None:
            parent = self.ref_sha(ref)
        base_tree = self.tree_of(parent) if parent else None
        tree = self.build_tree(base_tree, changes)
        sha = self.commit(
            tree,
            [parent] if parent else [],
            message,
            author=(*author, when),
            committer=(*(committer or author), when),
        )
        self.update_ref(ref, sha)
        return sha

    def commit_info(self, sha: str) -> CommitInfo:
        with self._cache_lock:
            known = self._commits.get(sha)
        if known is not None:
            return known
        found = self.read_objects([sha])[0] if _is_full_sha(sha) else None
        if found is not None and found[1] == "commit":
            info = _parse_commit(sha, found[2].decode("utf-8", errors="replace"))
            with self._cache_lock:
                self._commits[sha] = info
            return info
        # Anything else (a short sha, a tag, a missing object): as ``git cat-file commit`` says.
        raw = self.git("cat-file", "commit", sha).decode("utf-8", errors="replace")
        return _parse_commit(sha, raw)

    # ------------------------------------------------------------------ reading
    def read_objects(self, specs: list[str]) -> list[tuple[str, str, bytes] | None]:
        """For each ``rev:path`` (or sha) spec: (sha, type, content) or None when missing."""
        results: list[tuple[str, str, bytes] | None] = []
        for spec in specs:
            safe = spec if "\n" not in spec and "\r" not in spec and spec.strip() == spec else ""
            immutable = _is_full_sha(safe.partition(":")[0])
            if immutable:
                with self._cache_lock:
                    known = self._objects.get(safe)
                    if known is not None:
                        self._objects.move_to_end(safe)
                if known is not None:
                    results.append(known)
                    continue
            found = self._cat.ask("contents", safe) if safe else None
            if found is None or found[3] is None:
                results.append(None)
                continue
            item = (found[0], found[1], found[3])
            results.append(item)
            if immutable:
                self._remember(safe, item)
        return results

    def prefetch(self, specs: list[str]) -> None:
        """Read the objects that ``sha:path`` specs (or shas) name in one exchange with git, so
        that ``read_objects`` finds them in memory (other specs are left alone)."""
        wanted: list[str] = []
        with self._cache_lock:
            for spec in dict.fromkeys(specs):
                if (
                    "\n" not in spec
                    and "\r" not in spec
                    and spec.strip() == spec
                    and _is_full_sha(spec.partition(":")[0])
                    and spec not in self._objects
                ):
                    wanted.append(spec)
        if not wanted:
            return
        for spec, found in zip(wanted, self._cat.ask_many("contents", wanted), strict=True):
            if found is not None and found[3] is not None:
                self._remember(spec, (found[0], found[1], found[3]))

    def _remember(self, spec: str, item: tuple[str, str, bytes]) -> None:
        size = len(item[2])
        if size > CACHE_BYTES // 8:
            return
        with self._cache_lock:
            if spec in self._objects:
                return
            self._objects[spec] = item
            self._object_bytes += size
            self._types.setdefault(item[0], item[1])
            while self._object_bytes > CACHE_BYTES and self._objects:
                _spec, dropped = self._objects.popitem(last=False)
                self._object_bytes -= len(dropped[2])

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
        with self._cache_lock:
            known = self._diffs.get(key)
        if known is None:
            known = self._diff(base, head)
            with self._cache_lock:
                known = self._diffs.setdefault(key, known)
        return list(known)

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


def _parse_commit(sha: str, raw: str) -> CommitInfo:
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


def _is_full_sha(value: str) -> bool:
    return len(value) == 40 and _is_hex(value)
