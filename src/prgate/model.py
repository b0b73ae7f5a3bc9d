"""Frozen values shared by every part of prgate: the change, what was found, the verdict."""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

#: Reads one file's bytes on demand; ``None`` when the file does not exist on that side.
Loader = Callable[[], bytes | None]
#: Reads any repository path on one side of the change; ``None`` when it does not exist.
PathReader = Callable[[str], bytes | None]


def _nothing() -> bytes | None:
    return None


def _no_path(_path: str) -> bytes | None:
    return None


@dataclass(frozen=True)
class TreeListing:
    """Every file path of the head tree (for tools that must see the whole project, such as
    ruff deciding which imports are the project's own). ``complete`` is false when the source
    could list only part of it (GitHub cuts very large listings short)."""

    paths: tuple[str, ...]
    complete: bool = True


def _no_tree() -> TreeListing | None:
    return None


class UndeclaredRead(RuntimeError):
    """A check read something its kind did not declare, or that the source did not fetch.

    Evaluation never reaches the network: every read is declared and fetched before judging.
    Reaching this is a bug in prgate (the engine reports it as an internal error)."""


#: Bytes near the start of a file in which a NUL makes it binary, as git judges.
BINARY_SNIFF_BYTES = 8000


def looks_binary(data: bytes | None) -> bool:
    """Whether ``data`` holds a NUL byte near its start: git's own test, used by every source."""
    return data is not None and b"\0" in data[:BINARY_SNIFF_BYTES]


class Level(StrEnum):
    """How much a finding matters. Only ``error`` blocks a change."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


class Conclusion(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


class FileStatus(StrEnum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"


@dataclass(frozen=True, slots=True)
class LineRange:
    """Lines ``start`` to ``end`` of a file at head, 1-based and inclusive."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 1 or self.end < self.start:
            raise ValueError(f"bad line range {self.start}-{self.end}")


@dataclass(frozen=True)
class FileChange:
    """One file of a change. Contents are read only when a check asks for them."""

    path: str
    status: FileStatus
    old_path: str | None = None
    #: Line ranges added (or changed) at head, sorted and not overlapping.
    added: tuple[LineRange, ...] = ()
    #: Number of lines removed from the base version.
    removed_lines: int = 0
    #: A NUL byte near the start of the file (git's test); its bytes are still readable.
    is_binary: bool = False
    is_symlink: bool = False
    is_submodule: bool = False
    #: Size in bytes at head, when known without reading the file.
    size: int | None = None
    #: Where a symbolic link points, as written in the link (only for links).
    link_target: str | None = None
    head_loader: Loader = field(default=_nothing, repr=False, compare=False)
    base_loader: Loader = field(default=_nothing, repr=False, compare=False)

    @property
    def added_lines(self) -> int:
        return sum(r.end - r.start + 1 for r in self.added)

    @property
    def is_deleted(self) -> bool:
        return self.status is FileStatus.DELETED

    @property
    def is_regular(self) -> bool:
        """A real file whose contents prgate may read (not a link, submodule or binary)."""
        return not (self.is_symlink or self.is_submodule or self.is_binary)

    def head_bytes(self) -> bytes | None:
        if self.is_deleted or self.is_symlink or self.is_submodule:
            return None
        return self.head_loader()

    def base_bytes(self) -> bytes | None:
        if self.is_symlink or self.is_submodule or self.status is FileStatus.ADDED:
            return None
        return self.base_loader()

    def head_text(self) -> str | None:
        """The file at head as text; undecodable bytes become U+FFFD. ``None`` for non-text."""
        data = self.head_bytes()
        if data is None or self.is_binary:
            return None
        return data.decode("utf-8", errors="replace")

    def base_text(self) -> str | None:
        data = self.base_bytes()
        if data is None or self.is_binary:
            return None
        return data.decode("utf-8", errors="replace")

    def is_utf8(self) -> bool:
        data = self.head_bytes()
        if data is None:
            return False
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def touches(self, line: int | None, end_line: int | None = None) -> bool:
        """Whether lines ``line``..``end_line`` overlap what the change added."""
        if line is None:
            return True
        last = end_line if end_line is not None else line
        starts = [r.start for r in self.added]
        i = bisect.bisect_right(starts, last) - 1
        return i >= 0 and self.added[i].end >= line

    def added_line_numbers(self) -> Iterable[int]:
        for r in self.added:
            yield from range(r.start, r.end + 1)


@dataclass(frozen=True)
class OpenPull:
    """Another open pull request of the same repository that changes some of the same files.
    Its title is the author's words (untrusted): renderers escape it."""

    number: int
    title: str
    #: The files it changes that this change changes too (sorted).
    paths: tuple[str, ...]


@dataclass(frozen=True)
class ChangeSet:
    """The one snapshot of a change that every check reads."""

    files: tuple[FileChange, ...]
    labels: frozenset[str] = frozenset()
    author: str | None = None
    #: Human words for the two sides, such as ``main`` and ``working tree``.
    base_name: str = "base"
    head_name: str = "head"
    read_head: PathReader = field(default=_no_path, repr=False, compare=False)
    read_base: PathReader = field(default=_no_path, repr=False, compare=False)
    #: Who reviewed the pull request and what they saw, fetched before judging (``None``:
    #: nothing was needed, or no pull request is known).
    approvals: Approvals | None = None
    #: The head tree's listing, when the source has it (``None``: not listed).
    head_tree: Callable[[], TreeListing | None] = field(default=_no_tree, repr=False, compare=False)
    #: The other open pull requests of the repository that change the same files, as the App
    #: knows them (``None``: not known, as in ``prgate check``).
    open_pulls: tuple[OpenPull, ...] | None = None

    def file(self, path: str) -> FileChange | None:
        for f in self.files:
            if f.path == path:
                return f
        return None

    def reading_only(self, *, head: frozenset[str], base: frozenset[str]) -> ChangeSet:
        """This change, with ``read_head``/``read_base`` limited to the paths given: any other
        read raises :class:`UndeclaredRead` (what a check reads must be declared)."""
        return replace(
            self,
            read_head=_only(self.read_head, head, "head"),
            read_base=_only(self.read_base, base, "base"),
        )


def _only(read: PathReader, allowed: frozenset[str], side: str) -> PathReader:
    def guarded(path: str) -> bytes | None:
        if path not in allowed:
            raise UndeclaredRead(f"a check read {path!r} at {side} without declaring it")
        return read(path)

    return guarded


@dataclass(frozen=True)
class Finding:
    rule: str
    level: Level
    path: str | None
    line: int | None
    end_line: int | None
    title: str
    message: str
    fix: str
    fixable: bool = False
    #: 1-based column of ``line`` where known (used by SARIF and annotations).
    column: int | None = None
    #: Written by the AI reviewer: its title, message and fix are a model's words, which a
    #: change can steer. Renderers show them to people as quoted advisory notes and never pass
    #: them to an agent as instructions.
    from_ai: bool = False
    #: The external tool's own code for the problem (ruff's ``F401``), as data for fixes; it
    #: takes no part in comparing findings (their words already name it).
    code: str | None = field(default=None, compare=False)

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path or "", self.line or 0, self.rule, self.message)


@dataclass(frozen=True)
class Skipped:
    """Something that was not judged, and why: never to be mistaken for a pass."""

    rule: str | None
    path: str | None
    reason: str


@dataclass(frozen=True)
class Fix:
    """An automatic fix available for one file; its contents are computed by ``fixes``."""

    path: str
    rules: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Report:
    conclusion: Conclusion
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()
    fixes: tuple[Fix, ...] = ()
    #: Which configuration judged the change, in words: ``.github/prgate.yml`` (on the base),
    #: the organisation's (``org/.github:.github/prgate.yml``), a chain joined with ``+``, or
    #: the default packs. Empty when no configuration could be read.
    config_source: str = ""
    #: What the configuration's loading had to say (defaults used, an organisation config that
    #: could not be looked for).
    config_notes: tuple[str, ...] = ()
    #: ``(rule id, why it matters)`` of each rule with findings, from the base's configuration.
    rule_why: tuple[tuple[str, str], ...] = ()
    #: A file of the change to place findings about the whole change on, where every result
    #: needs a file (SARIF for code scanning): the first changed file that exists at head.
    anchor: str | None = None

    def why(self, rule: str) -> str:
        """Why ``rule`` matters, as the team wrote it ("" when unknown)."""
        return next((text for rid, text in self.rule_why if rid == rule), "")

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level is Level.ERROR)

    def counts_by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.rule] = counts.get(f.rule, 0) + 1
        return dict(sorted(counts.items()))


@dataclass(frozen=True)
class Review:
    """One pull-request review: who, GitHub's state (``APPROVED``, ``CHANGES_REQUESTED``,
    ``COMMENTED``, ``DISMISSED``) and the commit it was given on."""

    reviewer: str
    state: str
    commit: str


@dataclass(frozen=True)
class CodeOwnersFile:
    """The base branch's CODEOWNERS file: where it was found and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class Approvals:
    """What the gate knows about a pull request's approvals, read before judging.

    ``reviews`` is ``None`` where reviews cannot be seen (``prgate check`` on a local
    repository); the code owners are known there too. Logins are kept as GitHub spells them
    and compared without regard to case.
    """

    #: The commit being judged (the pull request's head).
    head: str = ""
    #: The pull request's reviews, oldest first (``None``: not visible here).
    reviews: tuple[Review, ...] | None = None
    #: Logins of the authors and committers of the pull request's commits.
    contributors: frozenset[str] = frozenset()
    #: Whether ``contributors`` covers every commit (GitHub lists at most 250).
    all_commits_seen: bool = True
    #: ``(commit, path, blob oid or None)`` for the guarded paths at reviewed commits and head.
    oids: tuple[tuple[str, str, str | None], ...] = ()
    #: ``(org/team, login)`` pairs known to be active members.
    team_members: frozenset[tuple[str, str]] = frozenset()
    #: Teams whose members could not be read (the App lacks the permission).
    unreadable_teams: frozenset[str] = frozenset()
    codeowners: CodeOwnersFile | None = None

    def oid(self, commit: str, path: str) -> str | None:
        """The blob at ``commit:path`` as known; ``None`` when absent or not read."""
        for c, p, o in self.oids:
            if c == commit and p == path:
                return o
        return None

    def knows(self, commit: str, path: str) -> bool:
        return any(c == commit and p == path for c, p, _ in self.oids)

    def is_member(self, team: str, login: str) -> bool:
        return (team.casefold(), login.casefold()) in self.team_members

    def digest(self) -> str:
        """A stable digest of everything here: equal digests, equal approvals."""
        doc = {
            "head": self.head,
            "reviews": None
            if self.reviews is None
            else [[r.reviewer, r.state, r.commit] for r in self.reviews],
            "contributors": sorted(self.contributors),
            "all_commits_seen": self.all_commits_seen,
            "oids": sorted([c, p, o or ""] for c, p, o in self.oids),
            "team_members": sorted(list(m) for m in self.team_members),
            "unreadable_teams": sorted(self.unreadable_teams),
            "codeowners": None
            if self.codeowners is None
            else [self.codeowners.path, self.codeowners.text],
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
