"""One seam for external tools: how a check kind that runs a formatter or linter plugs in.

A tool kind is one package under ``prgate/checks/`` (``checks/ruff/`` is the first). Nothing
outside it names the tool: the engine, ``prgate.fixes`` and the sources only go through this
module. To add a second tool:

1. Subclass :class:`Tool` once, at module level, with

   - ``name``: the tool's name (the key of its shared run, and in "<name>'s results");
   - :meth:`Tool.takes`: the files it judges (by path); a file it takes that cannot be read
     (too large, not text) is a finding of its rules, not a notice;
   - ``reads``: what it reads besides the changed files, above all the names of its settings
     files (``Reads(settings=frozenset({"pyproject.toml"}))``, plus ``follow`` for files they
     name and ``tree`` for the head's listing). They are read at BASE, in each changed file's
     folder and every folder above it, by both sources in their one batch before judging;
     the head's copies are never read, so a change cannot loosen the rules it is judged by;
   - :meth:`Tool.run`: ONE batched run over the changed files for every rule of the evaluation
     that uses the tool, its output parsed into a value the kinds read (findings carry the
     tool's rule code in :attr:`~prgate.model.Finding.code`, never only in their words). Raise
     :class:`~prgate.errors.ConfigError` when the team's settings cannot be used, any other
     error when the tool failed: each rule that needed it then says it could not run.

2. Give every :class:`~prgate.checks.CheckKind` that reads the run ``tool=`` (and
   ``tool_codes=`` when a rule asks the tool for rule codes by name); its ``run`` reads the
   shared result with :func:`tool_output`. The engine runs each tool once per evaluation
   (:func:`run_tools`), memoised in the evaluation's :class:`~prgate.checks.Prepared`.

3. For automatic fixes, implement :meth:`Tool.fix` (new contents for the files with fixable
   findings, limited to what the change introduced; it gets the findings with their codes, the
   files at head and the tool's settings files at base in a :class:`FixRequest`) and
   :meth:`Tool.fix_summary` (the words of the report's fix line). ``prgate.fixes`` dispatches
   to them by the findings' kinds and never names a tool.

4. Add the kind to :func:`prgate.checks.registry`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from prgate.checks import CheckContext, Reads, Rule, registry
from prgate.errors import CheckError, ConfigError
from prgate.model import ChangeSet, Finding

if TYPE_CHECKING:
    from prgate.checks import CheckKind

OutT = TypeVar("OutT")


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stdout: bytes
    stderr: bytes


class Runner(Protocol):
    """Runs one process to completion. The seam tests use to count or observe a tool's runs."""

    def __call__(
        self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]
    ) -> ProcessResult: ...


#: Most folders deep a path laid out for a tool may be (deeper trees are not real projects,
#: and removing them afterwards must not exhaust Python's recursion).
MAX_PATH_DEPTH = 64
#: Longest path laid out for a tool, in bytes (the system's limit, 4096, less room for the
#: private folder's own name).
MAX_PATH_BYTES = 3072


def safe_relpath(path: str, *, max_part: int = 255) -> tuple[str, ...] | None:
    """``path``'s parts when it is a plain relative path inside the repository (each part at
    most ``max_part`` bytes, at most :data:`MAX_PATH_DEPTH` parts and
    :data:`MAX_PATH_BYTES` bytes), else ``None``."""
    if not path or path.startswith("/") or "\0" in path or "\\" in path:
        return None
    if len(os.fsencode(path)) > MAX_PATH_BYTES:
        return None
    parts = tuple(path.split("/"))
    if len(parts) > MAX_PATH_DEPTH:
        return None
    if any(p in ("", ".", "..") or len(os.fsencode(p)) > max_part for p in parts):
        return None
    return parts


class FileWriter:
    """Writes files under ``root`` (a tool's private folder), creating each folder once: a
    change of hundreds of files is laid out without a system call per folder per file. A
    name whose last part is already a link or a folder is not written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: set[tuple[str, ...]] = {()}

    def folder(self, parts: tuple[str, ...]) -> None:
        depth = len(parts)
        while parts[:depth] not in self._folders:
            depth -= 1
        for end in range(depth + 1, len(parts) + 1):
            with contextlib.suppress(FileExistsError):
                os.mkdir(os.path.join(self.root, *parts[:end]))
            self._folders.add(parts[:end])

    def write(self, parts: tuple[str, ...], data: bytes, *, replace: bool = True) -> bool:
        """Write ``data`` at ``root/parts``; with ``replace=False`` an existing file is kept.
        ``False`` when it could not be written."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        flags |= os.O_TRUNC if replace else os.O_EXCL
        try:
            self.folder(parts[:-1])
            fd = os.open(self.root.joinpath(*parts), flags, 0o600)
        except FileExistsError:
            return not replace
        except OSError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True


def run_process(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float, name: str
) -> ProcessResult:
    """Run a tool's process to completion: no input, output captured, at most ``timeout``
    seconds; a tool that cannot start or takes too long is a :class:`CheckError` naming it."""
    try:
        done = subprocess.run(
            list(args),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckError(f"{name} took longer than {int(timeout)} seconds") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CheckError(f"{name} could not be started ({reason})") from None
    return ProcessResult(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class FixRequest:
    """What a tool's :meth:`Tool.fix` receives."""

    changeset: ChangeSet
    #: Every enabled rule that uses the tool, whether it found anything or not.
    rules: tuple[Rule, ...]
    #: The fixable findings of those rules that name a file, each with its rule.
    findings: tuple[tuple[Rule, Finding], ...]
    #: Contents at head of the files those findings name that may be rewritten (regular UTF-8
    #: files with a plain path); no other file may be returned.
    heads: Mapping[str, bytes]
    #: The settings files the tool's ``reads`` name, read at base (as ``CheckContext.settings``).
    settings: Mapping[str, bytes | None]
    #: Runs the tool's processes (``None``: the tool's own default).
    runner: Runner | None = None


@dataclass(frozen=True)
class FixedFile:
    """New contents for one file, the rules whose findings they resolve, and what was done."""

    content: bytes
    rules: tuple[str, ...]
    description: str


class Tool(ABC, Generic[OutT]):
    """An external tool: its settings files, its one batched run, its fixes."""

    #: The tool's name, for messages and as the key of its run in an evaluation.
    name: str = ""
    #: What every rule of a kind using the tool reads (settings files at base, mainly).
    reads: Reads = Reads()

    @abstractmethod
    def takes(self, path: str) -> bool:
        """Whether the tool judges the file at ``path`` (the scope of a kind that does not say
        otherwise with its own ``in_scope``)."""

    @abstractmethod
    def run(self, ctx: CheckContext, rules: Sequence[Rule], codes: Sequence[str]) -> OutT:
        """One batched run for ``rules`` (every enabled rule using the tool); ``codes``: the
        tool's rule codes those rules ask for by name. ``ctx.settings`` holds the settings
        files read at base."""

    def fix(self, request: FixRequest) -> dict[str, FixedFile]:
        """``path -> new contents`` for files of ``request.heads`` (default: no fixes)."""
        return {}

    def fix_summary(self, rule_ids: Collection[str]) -> str:
        """What applying the fixes of ``rule_ids`` does to a file, for the report."""
        return "apply automatic fixes"


def tools_in_use(
    rules: Iterable[Rule], kinds: Mapping[str, CheckKind] | None = None
) -> list[tuple[Tool[Any], list[Rule]]]:
    """Each tool the enabled ``rules`` use, with those rules, in the order first used."""
    kinds = kinds if kinds is not None else registry()
    found: dict[int, tuple[Tool[Any], list[Rule]]] = {}
    for rule in rules:
        kind = kinds.get(rule.check)
        if not rule.enabled or kind is None or kind.tool is None:
            continue
        found.setdefault(id(kind.tool), (kind.tool, []))[1].append(rule)
    return list(found.values())


def run_tools(
    ctx: CheckContext, kinds: Mapping[str, CheckKind]
) -> list[tuple[list[Rule], Exception]]:
    """Run every tool ``ctx.rules`` use, once each; return the rules of each tool that failed,
    with its error. A :class:`ConfigError` (the team's tool settings cannot be used) is raised,
    as for prgate's own config."""
    plans = [
        (tool, rules, sorted({c for r in rules for c in _codes(kinds[r.check], r)}))
        for tool, rules in tools_in_use(ctx.rules, kinds)
        if not ctx.prepared.holds(_key(tool))
    ]
    # The tools run side by side: each mostly waits on its own processes.
    with ThreadPoolExecutor(max_workers=max(1, len(plans))) as pool:
        runs = [pool.submit(partial(tool.run, ctx, rules, codes)) for tool, rules, codes in plans]
    failed: list[tuple[list[Rule], Exception]] = []
    for (tool, rules, _codes_asked), run in zip(plans, runs, strict=True):
        try:
            output = run.result()
        except ConfigError:
            raise
        except Exception as exc:  # fail closed: each rule that needed the tool reports it
            failed.append((rules, exc))
            continue
        ctx.prepared.get(_key(tool), partial(_given, output))
    return failed


def _given(value: OutT) -> OutT:
    return value


def tool_output(ctx: CheckContext, tool: Tool[OutT]) -> OutT:
    """The result of ``tool``'s run in this evaluation (see :func:`run_tools`)."""

    def missing() -> OutT:
        raise CheckError(f"{tool.name}'s results were not available")

    return ctx.prepared.get(_key(tool), missing)


def provide(ctx: CheckContext, tool: Tool[OutT], output: OutT) -> CheckContext:
    """``ctx`` with ``output`` as ``tool``'s run (for running a kind on its own, in tests)."""
    ctx.prepared.get(_key(tool), lambda: output)
    return ctx


def settings_names(
    kinds: Mapping[str, CheckKind] | None = None, *, paths: Iterable[str] | None = None
) -> tuple[str, ...]:
    """The settings file names every tool of ``kinds`` reads, for a source's first batch;
    with ``paths``, only of the tools that take one of those files."""
    kinds = kinds if kinds is not None else registry()
    wanted = None if paths is None else list(paths)
    names: set[str] = set()
    for kind in kinds.values():
        tool = kind.tool
        if tool is None or (wanted is not None and not any(tool.takes(p) for p in wanted)):
            continue
        names |= tool.reads.settings
    return tuple(sorted(names))


def _codes(kind: CheckKind, rule: Rule) -> Sequence[str]:
    return kind.tool_codes(rule) if kind.tool_codes is not None else ()


def _key(tool: Tool[Any]) -> str:
    return f"tool:{tool.name}:{id(tool)}"
