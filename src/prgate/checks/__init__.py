"""The check interface: what a check kind receives, what it returns, and the registry of kinds.

A *check* is code (one module in this package per kind). A *rule* is data (YAML in a pack) that
names a check kind, a level, parameters and three texts for people. The engine groups the enabled
rules by kind and calls each kind once with all its rules, so that kinds which run an external tool
(ruff) run it once per evaluation: see :mod:`prgate.checks.tools`, the seam for such tools.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from prgate.model import ChangeSet, FileChange, Finding, Level, Skipped

if TYPE_CHECKING:
    from prgate.checks.flagsandbox import Limits
    from prgate.checks.tools import Tool

RuleLevel = Literal["error", "warning", "notice", "off"]
_T = TypeVar("_T")

#: Files larger than this at head are not analysed (reported as skipped). 1 MiB.
DEFAULT_MAX_FILE_BYTES = 1024 * 1024


class Params(BaseModel):
    """Base of every check kind's parameters: strict, frozen, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class NoParams(Params):
    pass


@dataclass(frozen=True)
class Rule:
    """One enabled or disabled rule, after packs and the repo's config were merged."""

    id: str
    check: str
    level: RuleLevel
    title: str
    why: str
    fix: str
    params: Params = field(default_factory=NoParams)
    #: Where the rule came from, for messages: ``pack hygiene`` or ``.github/prgate.yml``.
    origin: str = ""

    @property
    def enabled(self) -> bool:
        return self.level != "off"

    def finding(
        self,
        *,
        path: str | None,
        message: str,
        line: int | None = None,
        end_line: int | None = None,
        column: int | None = None,
        fixable: bool = False,
        fix: str | None = None,
        level: Level | None = None,
        code: str | None = None,
    ) -> Finding:
        """A finding of this rule, carrying its title, level and fix text."""
        if level is None:
            if self.level == "off":
                raise ValueError(f"rule {self.id} is off and cannot report")
            level = Level(self.level)
        return Finding(
            rule=self.id,
            level=level,
            path=path,
            line=line,
            end_line=end_line if end_line is not None else line,
            title=self.title,
            message=message,
            fix=fix if fix is not None else self.fix,
            fixable=fixable,
            column=column,
            code=code,
        )

    def skipped(self, reason: str, *, path: str | None = None) -> Skipped:
        return Skipped(rule=self.id, path=path, reason=reason)

    def cannot_check(self, *, path: str, looks_for: str, message: str, fix: str) -> Finding:
        """A finding of this rule, at its level, for a file in its scope it could not judge."""
        finding = self.finding(path=path, message=message, fix=fix)
        return replace(finding, title=f"prgate could not check this file for {looks_for}")


#: Given a settings file's path and its contents, the other repository paths it names (a ruff
#: ``extend``), to be read at base too.
Follow = Callable[[str, bytes], Iterable[str]]
#: Reads many paths at base at once (one batch for a remote source).
FetchBase = Callable[[Sequence[str]], Mapping[str, bytes | None]]
#: How many rounds of files named by settings files are followed (an ``extend`` chain).
MAX_FOLLOW_ROUNDS = 4


@dataclass(frozen=True)
class Reads:
    """What a check kind reads besides the changed files (whose contents at head and base every
    source provides): repository paths at head and at base, such as a flag registry. Sources
    fetch all of it before judging; evaluation reads nothing else.

    ``settings`` are file names (``pyproject.toml``) read at base in the folder of every changed
    file and in each folder above it, as a tool's own configuration discovery does; ``follow``
    names further files from their contents; ``tree`` asks for the head tree's listing.
    """

    head: frozenset[str] = frozenset()
    base: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()
    follow: tuple[Follow, ...] = ()
    tree: bool = False

    def __or__(self, other: Reads) -> Reads:
        return Reads(
            head=self.head | other.head,
            base=self.base | other.base,
            settings=self.settings | other.settings,
            follow=self.follow + tuple(f for f in other.follow if f not in self.follow),
            tree=self.tree or other.tree,
        )


def settings_candidates(names: Iterable[str], paths: Iterable[str]) -> frozenset[str]:
    """``names`` in the folder of every path of ``paths`` and in every folder above it."""
    folders = {""}
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(len(parts)):
            folders.add("/".join(parts[: i + 1]))
    return frozenset(f"{d}/{n}" if d else n for d in folders for n in names)


def read_settings(reads: Reads, changeset: ChangeSet, fetch: FetchBase) -> dict[str, bytes | None]:
    """The settings files ``reads`` names for ``changeset``, read at base with ``fetch``
    (the ancestors' files in one batch, then each round of files they name)."""
    if not reads.settings:
        return {}
    paths = [p for f in changeset.files for p in (f.path, f.old_path) if p]
    wanted = set(settings_candidates(reads.settings, paths))
    found: dict[str, bytes | None] = {}
    for _ in range(MAX_FOLLOW_ROUNDS + 1):
        new = sorted(wanted - found.keys())
        if not new:
            break
        got = fetch(new)
        for path in new:
            data = got.get(path)
            found[path] = data
            if data is not None:
                for follow in reads.follow:
                    wanted.update(follow(path, data))
    return found


class Prepared:
    """Work shared by check kinds, done once per evaluation (a parse both flag kinds read)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._values: dict[str, object] = {}

    def holds(self, key: str) -> bool:
        """Whether the value under ``key`` was built already."""
        with self._lock:
            return key in self._values

    def get(self, key: str, build: Callable[[], _T]) -> _T:
        """The value kept under ``key``, built by ``build`` the first time it is asked for."""
        with self._lock:
            if key not in self._values:
                self._values[key] = build()
            return cast("_T", self._values[key])


class Reviewer(Protocol):
    """The optional LLM reviewer, supplied by the shell (``prgate check --llm``, the App)."""

    def review(self, rule: Rule, changeset: ChangeSet) -> CheckResult: ...


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read. Built by the engine; checks never do I/O of their own."""

    changeset: ChangeSet
    reviewer: Reviewer | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    #: Shared work of this evaluation (kept across ``dataclasses.replace``), such as each
    #: external tool's one run (see :mod:`prgate.checks.tools`).
    prepared: Prepared = field(default_factory=Prepared, compare=False, repr=False)
    #: Limits of the isolated Python parser the feature-flag kinds use (``None``: defaults).
    scan_limits: Limits | None = None
    #: Settings files read at base (see :attr:`Reads.settings`): path -> contents or ``None``.
    settings: Mapping[str, bytes | None] = field(default_factory=dict)
    #: Every enabled rule of this evaluation, for kinds that share work across kinds.
    rules: tuple[Rule, ...] = ()

    def analysable(self) -> Iterator[FileChange]:
        """Files present at head whose text checks may read: not links or submodules, not
        larger than ``max_file_bytes``, and text (a file a source marked binary counts when its
        bytes are mostly text, see :mod:`prgate.checks.text`)."""
        from prgate.checks.text import file_size, head_text

        for f in self.changeset.files:
            if f.is_deleted or f.is_symlink or f.is_submodule:
                continue
            size = file_size(f)
            if size is not None and size > self.max_file_bytes:
                continue
            if f.is_binary and head_text(f) is None:
                continue
            yield f


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def extend(self, other: CheckResult) -> None:
        self.findings.extend(other.findings)
        self.skipped.extend(other.skipped)


RunCheck = Callable[[CheckContext, Sequence[Rule]], CheckResult]


@dataclass(frozen=True)
class CheckKind:
    """A check kind: its name, its parameters' model and how to run it over all its rules."""

    name: str
    params: type[Params]
    run: RunCheck
    #: The external tool whose one run per evaluation this kind reads (see
    #: :mod:`prgate.checks.tools`); its ``reads`` are added to every rule's.
    tool: Tool[Any] | None = None
    #: The tool's own rule codes a rule asks for by name (``None``: none).
    tool_codes: Callable[[Rule], Sequence[str]] | None = None
    #: One sentence for the rule reference.
    summary: str = ""
    #: The level a rule of this kind gets when it does not say (``None``: it must say).
    default_level: RuleLevel | None = None
    #: What a rule of this kind reads besides the changed files (``None``: nothing).
    reads: Callable[[Rule], Reads] | None = None
    #: Whether a rule of this kind judges a file's contents (its scope). A file in scope that
    #: cannot be read (too large, not text) is then a finding of the rule, not a notice.
    #: ``None``: the files its ``tool`` takes, or, without a tool, no file's contents (paths,
    #: counts).
    in_scope: Callable[[Rule, FileChange], bool] | None = None
    #: What the kind looks for, to finish "prgate could not check this file for ...".
    looks_for: str = ""


def declared_reads(rules: Iterable[Rule], kinds: Mapping[str, CheckKind] | None = None) -> Reads:
    """Everything the enabled ``rules`` read besides the changed files."""
    kinds = kinds if kinds is not None else registry()
    out = Reads()
    for rule in rules:
        kind = kinds.get(rule.check)
        if not rule.enabled or kind is None:
            continue
        if kind.reads is not None:
            out = out | kind.reads(rule)
        if kind.tool is not None:
            out = out | kind.tool.reads
    return out


def registry() -> Mapping[str, CheckKind]:
    """All check kinds by name. Imported lazily so that each module stays independent."""
    from prgate.checks import (
        debug,
        flags,
        overlap,
        paths,
        pattern,
        ruff,
        secrets,
        size,
        tests,
        web,
    )
    from prgate.llm import reviewer

    kinds = [
        ruff.KIND,
        paths.KIND,
        flags.KIND,
        flags.REGISTERED_KIND,
        pattern.KIND,
        secrets.KIND,
        debug.KIND,
        size.KIND,
        tests.KIND,
        reviewer.KIND,
        web.KIND,
        overlap.KIND,
    ]
    return {k.name: k for k in kinds}
