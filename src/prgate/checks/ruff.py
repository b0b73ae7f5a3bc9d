"""The ruff check kind: lint findings on changed lines and whole-file format findings.

Ruff runs once per evaluation for lint and once for format, over every changed Python file at
once (see :func:`run_batch`); the check kinds that need ruff (``ruff`` and ``debug``) then read
what they need from that one :class:`RuffOutput`.

Trust: the files of the change are written into a private temporary folder and ruff is told
exactly which settings to use (``--config``, built from the *base* branch's ruff settings), so a
``pyproject.toml`` or ``ruff.toml`` that the change adds is never read. Ruff runs with no cache
and an environment of ``PATH`` and a throwaway ``HOME`` only.

Default selection of ``style/ruff-lint``: ``E4, E7, E9, F, B`` without ``B008``. Since ruff 0.16
ruff's own default is about 400 rules; for code written by agents and read by people who do not
read code, prgate starts from the rules that find real mistakes (syntax and runtime errors,
undefined or unused names, likely bugs) and leaves out taste and style, which ``ruff format``
covers. ``B008`` (a call in a default argument) is left out because it misfires on common web
framework code (``Depends()``). A team chooses otherwise with the rule's ``select``/``ignore`` or
with the ``select``/``ignore`` of its own ruff settings on the base branch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Protocol

from pydantic import field_validator, model_validator

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.text import readable_as_utf8_python
from prgate.errors import CheckError
from prgate.model import FileChange, Finding, Skipped

KIND_NAME = "ruff"
#: The pack's default selection for a lint rule (see the module's docstring for why).
DEFAULT_SELECT: tuple[str, ...] = ("E4", "E7", "E9", "F", "B")
#: Left out of the default selection: misfires on ``Depends()``-style defaults.
DEFAULT_IGNORE: tuple[str, ...] = ("B008",)
#: Seconds one ruff process may take before the check gives up (and fails closed).
RUFF_TIMEOUT = 300.0
PYTHON_SUFFIXES = (".py", ".pyi")
SYNTAX_CODE = "invalid-syntax"

_SELECTOR = re.compile(r"^(ALL|[A-Z]{1,6}[0-9]{0,4})$")
_MESSAGE_CODE = re.compile(r"\(ruff ([A-Z]{1,6}[0-9]{1,4})\)")


# --- parameters -----------------------------------------------------------------------------


class RuffParams(Params):
    """``select``/``ignore``: ruff codes or prefixes (``F``, ``E7``, ``B006``, ``ALL``).

    ``format: true`` makes the rule a formatting rule (``ruff format``), which takes neither.
    """

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    format: bool = False

    @field_validator("select", "ignore")
    @classmethod
    def _codes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        for code in value:
            if not _SELECTOR.match(code):
                raise ValueError(
                    f"'{code}' is not a ruff rule code or prefix (such as F401, E7, B or ALL)"
                )
        return value

    @model_validator(mode="after")
    def _format_alone(self) -> RuffParams:
        if self.format and (self.select is not None or self.ignore is not None):
            raise ValueError("a formatting rule (format: true) takes no select or ignore")
        return self


def is_format_rule(rule: Rule) -> bool:
    return rule.check == KIND_NAME and isinstance(rule.params, RuffParams) and rule.params.format


# --- the base branch's settings -------------------------------------------------------------


@dataclass(frozen=True)
class RuffBaseConfig:
    """The base branch's ruff settings: the file they came from and its text."""

    filename: str  # "ruff.toml", ".ruff.toml" or "pyproject.toml"
    text: str


#: Top-level settings never passed on: they point at other files, change which files are read,
#: make ``ruff check`` write files, or pin a ruff version other than the one prgate runs.
_DROPPED = frozenset(
    {
        "extend",
        "cache-dir",
        "required-version",
        "fix",
        "fix-only",
        "unsafe-fixes",
        "show-fixes",
        "output-format",
        "include",
        "extend-include",
        "exclude",
        "extend-exclude",
        "force-exclude",
        "respect-gitignore",
    }
)
#: Selection settings: prgate routes findings to rules itself (see :class:`Selection`).
_SELECTION = ("select", "extend-select", "ignore", "extend-ignore")


@dataclass(frozen=True)
class BaseSettings:
    """The base's ruff settings made safe to pass on, and its own rule selection."""

    table: Mapping[str, object] = field(default_factory=dict)
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] | None = None

    def settings(
        self,
        *,
        select: Iterable[str],
        per_file_ignores: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, object]:
        """The settings to write for one ruff run, selecting exactly ``select``."""
        table = _deep_copy(self.table)
        lint = table.setdefault("lint", {})
        assert isinstance(lint, dict)
        lint["select"] = sorted(set(select))
        if per_file_ignores:
            existing = lint.setdefault("per-file-ignores", {})
            assert isinstance(existing, dict)
            for pattern, codes in per_file_ignores.items():
                existing[pattern] = sorted({*_as_codes(existing.get(pattern)), *codes})
        return table


def base_settings(config: RuffBaseConfig | None) -> BaseSettings:
    """Read the base branch's ruff settings; a file that cannot be read fails the check."""
    if config is None:
        return BaseSettings()
    try:
        data = tomllib.loads(config.text)
    except tomllib.TOMLDecodeError as exc:
        raise CheckError(
            f"the ruff settings in {config.filename} on the base branch are not valid TOML "
            f"({exc}); fix that file so ruff can read it"
        ) from None
    if config.filename.endswith("pyproject.toml"):
        tool = data.get("tool")
        ruff = tool.get("ruff") if isinstance(tool, dict) else None
        table = dict(ruff) if isinstance(ruff, dict) else {}
        if "target-version" not in table:
            version = _target_from_requires(data)
            if version:
                table["target-version"] = version
    else:
        table = dict(data)
    return _split_selection(table)


def _split_selection(raw: dict[str, object]) -> BaseSettings:
    table = {k: v for k, v in raw.items() if k not in _DROPPED}
    lint = table.get("lint")
    lint = dict(lint) if isinstance(lint, dict) else {}
    picked: dict[str, list[str]] = {key: [] for key in _SELECTION}
    present: set[str] = set()
    # Ruff still accepts lint settings at the top level (deprecated); read both places.
    for where in (table, lint):
        for key in _SELECTION:
            if key in where:
                present.add(key)
                picked[key].extend(_as_codes(where.pop(key)))
    lint.pop("exclude", None)
    for key in list(table):
        if key in _LINT_AT_TOP:
            lint.setdefault(key, table.pop(key))
    table.pop("lint", None)
    if lint:
        table["lint"] = lint
    fmt = table.get("format")
    if isinstance(fmt, dict):
        table["format"] = {k: v for k, v in fmt.items() if k != "exclude"}
    ignores = picked["ignore"] + picked["extend-ignore"]
    has_ignore = "ignore" in present or "extend-ignore" in present
    return BaseSettings(
        table=table,
        select=tuple(picked["select"]) if "select" in present else None,
        extend_select=tuple(picked["extend-select"]),
        ignore=tuple(ignores) if has_ignore else None,
    )


#: Lint settings that old configs keep at the top level; moved under ``lint`` when written.
_LINT_AT_TOP = frozenset(
    {
        "per-file-ignores",
        "extend-per-file-ignores",
        "fixable",
        "unfixable",
        "extend-fixable",
        "dummy-variable-rgx",
        "allowed-confusables",
        "external",
        "task-tags",
        "typing-modules",
    }
)


def _as_codes(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _target_from_requires(pyproject: Mapping[str, object]) -> str | None:
    project = pyproject.get("project")
    requires = project.get("requires-python") if isinstance(project, dict) else None
    if not isinstance(requires, str):
        return None
    match = re.search(r"(?:>=|~=|==)\s*3\.(\d+)", requires)
    return f"py3{match.group(1)}" if match else None


def _deep_copy(value: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, item in value.items():
        if isinstance(item, Mapping):
            out[key] = _deep_copy(item)
        elif isinstance(item, list):
            out[key] = list(item)
        else:
            out[key] = item
    return out


def to_toml(table: Mapping[str, object]) -> str:
    """Write ``table`` as TOML (one ``key = value`` line per top-level key)."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in table.items())


def _toml_key(key: str) -> str:
    return _toml_string(key)


def _toml_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    # Dates and times have no meaning in ruff's settings; keep their TOML text form.
    return _toml_string(str(value))


# --- which codes a rule wants ---------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Ruff codes or prefixes a rule selects, minus those it ignores (most specific wins)."""

    select: tuple[str, ...]
    ignore: tuple[str, ...] = ()

    def matches(self, code: str) -> bool:
        chosen = _specificity(code, self.select)
        if chosen < 0:
            return False
        return chosen > _specificity(code, self.ignore)


def _specificity(code: str, selectors: Sequence[str]) -> int:
    best = -1
    for s in selectors:
        if s == "ALL":
            best = max(best, 0)
        elif code.startswith(s):
            best = max(best, len(s))
    return best


def rule_selection(rule: Rule, base: BaseSettings) -> Selection:
    """What a lint rule selects: its own params, else the base's ruff settings, else the default.

    ``select`` and ``ignore`` are decided separately: the rule's own value if it has one; else
    the base's (its ``select`` plus ``extend-select``, or the pack default plus its
    ``extend-select``; its ``ignore`` plus ``extend-ignore``); else the pack default
    (:data:`DEFAULT_IGNORE` is left out only when the selection is the default one too).
    """
    params = rule.params if isinstance(rule.params, RuffParams) else RuffParams()
    default = params.select is None and base.select is None
    if params.select is not None:
        select = params.select
    else:
        select = (base.select if base.select is not None else DEFAULT_SELECT) + base.extend_select
    if params.ignore is not None:
        ignore = params.ignore
    elif base.ignore is not None:
        ignore = base.ignore
    else:
        ignore = DEFAULT_IGNORE if default else ()
    return Selection(select=tuple(select), ignore=tuple(ignore))


def _codes(rule: Rule) -> Sequence[str]:
    """Codes the engine must have ruff run for ``rule`` (the base's own are added by run_batch)."""
    if is_format_rule(rule):
        return ()
    params = rule.params if isinstance(rule.params, RuffParams) else RuffParams()
    return params.select if params.select is not None else DEFAULT_SELECT


# --- running ruff ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stdout: bytes
    stderr: bytes


class Runner(Protocol):
    """Runs one process to completion. The seam tests use to count or observe ruff runs."""

    def __call__(
        self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]
    ) -> ProcessResult: ...


def run_process(args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
    try:
        done = subprocess.run(
            list(args),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUFF_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckError(f"ruff took longer than {int(RUFF_TIMEOUT)} seconds") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CheckError(f"ruff could not be started ({reason})") from None
    return ProcessResult(done.returncode, done.stdout, done.stderr)


def ruff_binary() -> str:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    try:
        return os.fsdecode(find_ruff_bin())
    except FileNotFoundError:
        raise CheckError("the ruff program that comes with prgate is missing") from None


def safe_relpath(path: str) -> tuple[str, ...] | None:
    """``path``'s parts when it is a plain relative path inside the repository, else ``None``."""
    if not path or path.startswith("/") or "\0" in path or "\\" in path:
        return None
    parts = tuple(path.split("/"))
    if any(p in ("", ".", "..") or len(os.fsencode(p)) > 255 for p in parts):
        return None
    return parts


def fast_tmp_dir() -> str | None:
    """A memory-backed folder for the copies ruff reads, when the system has one (Linux)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


class Workspace:
    """A private temporary folder holding the files ruff reads, its settings and a HOME."""

    def __init__(self) -> None:
        self._tmp = tempfile.mkdtemp(prefix="prgate-ruff-", dir=fast_tmp_dir())
        root = Path(os.path.realpath(self._tmp))
        self.tree = root / "tree"
        self.home = root / "home"
        self.tree.mkdir()
        self.home.mkdir()
        self.config = root / "ruff.toml"
        self._paths: dict[str, str] = {}

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def write(self, path: str, data: bytes) -> Path | None:
        """Write a file of the change; ``None`` when its path is not safe to write."""
        parts = safe_relpath(path)
        if parts is None:
            return None
        target = self.tree.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        except OSError:
            return None
        self._paths[str(target)] = path
        return target

    def read(self, path: str) -> bytes:
        parts = safe_relpath(path)
        assert parts is not None
        return self.tree.joinpath(*parts).read_bytes()

    def repo_path(self, filename: str) -> str | None:
        """The repository path of a file ruff names (absolute, inside the tree)."""
        found = self._paths.get(filename)
        if found is not None:
            return found
        return self._paths.get(os.path.realpath(filename))

    def write_settings(self, table: Mapping[str, object]) -> Path:
        self.config.write_text(to_toml(table), encoding="utf-8")
        return self.config

    def env(self) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(self.home)}
        if os.name == "nt":  # Windows processes need these to start at all
            for key in ("SYSTEMROOT", "SYSTEMDRIVE", "TEMP", "TMP"):
                if key in os.environ:
                    env[key] = os.environ[key]
        return env

    def args(
        self, command: Sequence[str], files: Sequence[Path], *, output_format: str | None = "json"
    ) -> list[str]:
        """Ruff's arguments: our settings only, no cache, files after ``--`` (names may start
        with a dash), relative to the tree (ruff runs there, which is its project root)."""
        rel = [str(f.relative_to(self.tree)) for f in files]
        fmt = ["--output-format", output_format] if output_format else []
        return [
            ruff_binary(),
            *command,
            "--no-cache",
            "--config",
            str(self.config),
            *fmt,
            "--",
            *rel,
        ]


def escape_glob(text: str) -> str:
    """``text`` as a glob matching only itself (for per-file settings)."""
    return "".join(f"[{c}]" if c in "*?[]{}!\\" else c for c in text)


# --- what one batch found -------------------------------------------------------------------


class Suppression(StrEnum):
    """Whether a ``# noqa``-style comment covers a violation, and who wrote it."""

    NONE = "none"
    #: Only comments this change added cover it: still reported, with a note.
    ADDED = "added"
    #: A comment that was already there covers it, on lines the change did not touch:
    #: honoured, not reported.
    EXISTING = "existing"
    #: A comment that was already there covers it, but the violation is on lines the change
    #: added: an old suppression covers only old lines, so it is reported, with a note.
    OUTDATED = "outdated"


@dataclass(frozen=True)
class Violation:
    path: str
    code: str
    message: str
    line: int
    end_line: int
    column: int
    #: Ruff's description of its fix, when it has one.
    fix_message: str | None = None
    #: Ruff applies this fix by default (``safe`` applicability).
    safe_fix: bool = False
    suppression: Suppression = Suppression.NONE


@dataclass(frozen=True)
class SyntaxProblem:
    path: str
    line: int
    column: int
    message: str
    #: Why the file could not be read, when it is not a syntax error (not UTF-8, a name prgate
    #: cannot handle): the whole sentence for the finding.
    unreadable: str | None = None


@dataclass(frozen=True)
class RuffOutput:
    """What one batched ruff run found."""

    violations: tuple[Violation, ...] = ()
    #: The first syntax error of each file ruff could not read as Python.
    syntax_errors: tuple[SyntaxProblem, ...] = ()
    #: Changed Python files ``ruff format`` would change.
    unformatted: frozenset[str] = frozenset()
    #: Files not judged (not UTF-8, a path that cannot be written safely).
    skipped: tuple[Skipped, ...] = ()
    #: The codes the lint run selected.
    codes: tuple[str, ...] = ()

    def reportable(self, selection: Selection) -> Iterator[Violation]:
        """Violations ``selection`` wants, leaving out files that did not parse and violations
        a comment that was already there silences."""
        broken = {s.path for s in self.syntax_errors}
        for v in self.violations:
            if v.path in broken or v.suppression is Suppression.EXISTING:
                continue
            if selection.matches(v.code):
                yield v


@dataclass(frozen=True)
class PythonSource:
    change: FileChange
    data: bytes


def python_sources(
    ctx: CheckContext, max_file_bytes: int | None = None
) -> tuple[list[PythonSource], list[Skipped], list[SyntaxProblem]]:
    """The changed Python files ruff can read, notices, and the files it cannot read."""
    limit = max_file_bytes if max_file_bytes is not None else ctx.max_file_bytes
    sources: list[PythonSource] = []
    skipped: list[Skipped] = []
    unreadable: list[SyntaxProblem] = []
    for f in ctx.analysable():
        if not f.path.endswith(PYTHON_SUFFIXES):
            continue
        data = f.head_bytes()
        if data is None or len(data) > limit:
            continue
        if not readable_as_utf8_python(data):
            # Ruff reads only UTF-8: a file Python reads in another encoding (its `# coding:`
            # line) would be judged as different text than the one that runs.
            unreadable.append(_unreadable(f.path, NOT_UTF8))
            continue
        if safe_relpath(f.path) is None:
            unreadable.append(_unreadable(f.path, BAD_NAME))
            continue
        sources.append(PythonSource(f, data))
    return sources, skipped, unreadable


#: Python files that cannot be checked are reported, never skipped: Python itself refuses a
#: file that is not UTF-8, and a file prgate cannot check must not pass unseen.
NOT_UTF8 = (
    "This file is not UTF-8 text (or its `# coding:` line names another encoding), and ruff "
    "reads only UTF-8, so ruff could not check it."
)
BAD_NAME = (
    "This file's name holds characters prgate cannot handle safely (such as a backslash or a "
    "control character), so ruff could not check it."
)


def _unreadable(path: str, why: str) -> SyntaxProblem:
    return SyntaxProblem(path=path, line=1, column=1, message="", unreadable=why)


def run_batch(
    ctx: CheckContext,
    *,
    codes: Sequence[str],
    rules: Sequence[Rule],
    max_file_bytes: int | None = None,
    runner: Runner | None = None,
) -> RuffOutput:
    """Run ruff once for lint and once for format over every changed Python file.

    ``codes`` is what the engine collected from every rule that reads ruff's results; the
    selection a lint rule takes from the base's ruff settings is added here. The two runs go
    concurrently. A ruff that fails (crashes, unexpected output) raises :class:`CheckError`.
    """
    run = runner or run_process
    base = base_settings(ctx.ruff_config)
    lint_codes = set(codes)
    for rule in rules:
        if rule.check == KIND_NAME and not is_format_rule(rule):
            lint_codes.update(rule_selection(rule, base).select)
    want_format = any(is_format_rule(r) for r in rules)
    sources, skipped, unreadable = python_sources(ctx, max_file_bytes)
    if not sources or not (lint_codes or want_format):
        return RuffOutput(
            syntax_errors=tuple(unreadable),
            skipped=tuple(skipped),
            codes=tuple(sorted(lint_codes)),
        )

    with Workspace() as ws:
        written: list[Path] = []
        for src in sources:
            target = ws.write(src.change.path, src.data)
            if target is None:
                unreadable.append(_unreadable(src.change.path, BAD_NAME))
                continue
            written.append(target)
        ws.write_settings(base.settings(select=lint_codes))
        env = ws.env()
        jobs: dict[str, list[str]] = {}
        if lint_codes:
            jobs["lint"] = ws.args(["check", "--no-fix", "--ignore-noqa"], written)
        if want_format:
            jobs["format"] = ws.args(["format", "--check"], written)
        results = _run_all(run, jobs, cwd=ws.tree, env=env)
        lint_items = _parse(results["lint"], accept=(0, 1)) if "lint" in results else []
        format_items = _parse(results["format"], accept=(0, 1, 2)) if "format" in results else []
        return _collect(
            ws,
            {s.change.path: s for s in sources},
            lint_items,
            format_items,
            skipped=skipped,
            unreadable=unreadable,
            codes=tuple(sorted(lint_codes)),
        )


def _run_all(
    run: Runner, jobs: Mapping[str, Sequence[str]], *, cwd: Path, env: Mapping[str, str]
) -> dict[str, ProcessResult]:
    if len(jobs) == 1:
        ((name, args),) = jobs.items()
        return {name: run(args, cwd=cwd, env=env)}
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(run, args, cwd=cwd, env=env) for name, args in jobs.items()}
        return {name: fut.result() for name, fut in futures.items()}


def _parse(result: ProcessResult, *, accept: Sequence[int]) -> list[dict[str, object]]:
    """Ruff's JSON diagnostics, or a plain CheckError when ruff did not work."""
    problem = None
    items: object = None
    if result.returncode not in accept:
        problem = f"ruff stopped with exit status {result.returncode}"
    else:
        try:
            items = json.loads(result.stdout.decode("utf-8") or "[]")
        except (UnicodeDecodeError, json.JSONDecodeError):
            problem = "ruff's output could not be read"
        else:
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                problem = "ruff's output had an unexpected shape"
    if problem is None and result.returncode == 2:
        # ``ruff format --check`` exits 2 when a file does not parse; anything else is a failure.
        assert isinstance(items, list)
        if not any(i.get("code") == SYNTAX_CODE for i in items):
            problem = "ruff stopped with exit status 2"
    if problem is not None:
        raise CheckError(problem + _stderr_cause(result.stderr))
    assert isinstance(items, list)
    return items


def _stderr_cause(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace")
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Cause:"):
            return f" ({line[len('Cause:') :].strip()[:300]})"
    return ""


def _collect(
    ws: Workspace,
    sources: Mapping[str, PythonSource],
    lint_items: Sequence[Mapping[str, object]],
    format_items: Sequence[Mapping[str, object]],
    *,
    skipped: Sequence[Skipped],
    unreadable: Sequence[SyntaxProblem],
    codes: tuple[str, ...],
) -> RuffOutput:
    violations: list[Violation] = []
    syntax: dict[str, SyntaxProblem] = {p.path: p for p in unreadable}
    unformatted: set[str] = set()
    directives: dict[str, _Directives] = {}
    tagged = [(False, i) for i in lint_items] + [(True, i) for i in format_items]
    for from_format, item in tagged:
        path = ws.repo_path(str(item.get("filename", "")))
        if path is None or path not in sources:
            # Never drop what ruff found: a finding prgate cannot place fails the check.
            raise CheckError("ruff reported on a file prgate could not match to the change")
        code = item.get("code")
        line, column = _location(item.get("location"))
        if code == SYNTAX_CODE or not isinstance(code, str):
            known = syntax.get(path)
            if known is None or (line, column) < (known.line, known.column):
                syntax[path] = SyntaxProblem(path, line, column, str(item.get("message", "")))
            continue
        if from_format:
            if code == "unformatted":
                unformatted.add(path)
            continue
        if path not in directives:
            directives[path] = _Directives.scan(sources[path])
        violations.append(_violation(item, path, code, line, column, directives[path]))
    violations.sort(key=lambda v: (v.path, v.line, v.column, v.code))
    return RuffOutput(
        violations=tuple(violations),
        syntax_errors=tuple(syntax[p] for p in sorted(syntax)),
        unformatted=frozenset(unformatted - set(syntax)),
        skipped=tuple(skipped),
        codes=codes,
    )


def _violation(
    item: Mapping[str, object],
    path: str,
    code: str,
    line: int,
    column: int,
    directives: _Directives,
) -> Violation:
    end_line, end_column = _location(item.get("end_location"))
    if end_line > line and end_column <= 1:
        end_line -= 1  # a span ending at the start of a line ends on the line before
    fix = item.get("fix")
    fix_message = None
    safe = False
    if isinstance(fix, dict):
        safe = fix.get("applicability") == "safe"
        message = fix.get("message")
        fix_message = message if isinstance(message, str) else None
    noqa_row = item.get("noqa_row")
    return Violation(
        path=path,
        code=code,
        message=str(item.get("message", "")),
        line=line,
        end_line=max(end_line, line),
        column=column,
        fix_message=fix_message,
        safe_fix=safe,
        suppression=directives.covers(
            code,
            line,
            end_line=max(end_line, line),
            noqa_row=noqa_row if isinstance(noqa_row, int) else line,
        ),
    )


def _location(value: object) -> tuple[int, int]:
    if isinstance(value, dict):
        row, col = value.get("row"), value.get("column")
        if isinstance(row, int) and isinstance(col, int):
            return max(row, 1), max(col, 1)
    return 1, 1


# --- suppression comments -------------------------------------------------------------------

_CODE_LIST = r"[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*"
_LINE_NOQA = re.compile(rf"#\s*noqa(?::\s*(?P<codes>{_CODE_LIST}))?", re.IGNORECASE)
_LINE_IGNORE = re.compile(r"#\s*ruff\s*:\s*ignore\[(?P<codes>[^\]]*)\]")
_FILE_NOQA = re.compile(
    rf"^\s*#\s*(?:ruff|flake8)\s*:\s*noqa(?:\s*:\s*(?P<codes>{_CODE_LIST}))?\s*$",
    re.IGNORECASE,
)
_RANGE = re.compile(r"#\s*ruff\s*:\s*(?P<verb>disable|enable)\[(?P<codes>[^\]]*)\]")


def _split_codes(text: str | None) -> frozenset[str] | None:
    """``None`` means every code (a blanket comment)."""
    if text is None:
        return None
    return frozenset(c.upper() for c in re.split(r"[\s,]+", text.strip()) if c)


@dataclass(frozen=True)
class _Directives:
    """The suppression comments of one file at head, and which lines the change added."""

    change: FileChange
    lines: tuple[str, ...]
    file_level: tuple[tuple[int, frozenset[str] | None], ...]
    ranges: tuple[tuple[int, str, frozenset[str] | None], ...]

    @classmethod
    def scan(cls, source: PythonSource) -> _Directives:
        lines = tuple(source.data.decode("utf-8").splitlines())
        file_level: list[tuple[int, frozenset[str] | None]] = []
        ranges: list[tuple[int, str, frozenset[str] | None]] = []
        for number, text in enumerate(lines, start=1):
            if "#" not in text:
                continue
            m = _FILE_NOQA.match(text)
            if m:
                file_level.append((number, _split_codes(m.group("codes"))))
            for r in _RANGE.finditer(text):
                ranges.append((number, r.group("verb"), _split_codes(r.group("codes"))))
        return cls(source.change, lines, tuple(file_level), tuple(ranges))

    def covers(self, code: str, line: int, *, end_line: int, noqa_row: int) -> Suppression:
        """Whether a comment silences ``code`` reported on ``line``..``end_line``.

        Ruff takes a line's ``# noqa`` from the end of its logical line (``noqa_row``: the last
        line of a backslash continuation or of a multi-line statement), from a file-level
        comment or from a ``disable`` range. A comment the change did not add still covers only
        what the change did not add: new code placed under an old comment is reported.
        """
        found = [n for n, codes in self.file_level if codes is None or code in codes]
        text = self.lines[noqa_row - 1] if 0 < noqa_row <= len(self.lines) else ""
        if _FILE_NOQA.match(text):
            text = ""  # a file-level comment, counted above
        for pattern in (_LINE_NOQA, _LINE_IGNORE):
            for m in pattern.finditer(text):
                codes = _split_codes(m.group("codes"))
                if codes is None or code in codes:
                    found.append(noqa_row)
        disabled_at = None
        for number, verb, codes in self.ranges:
            if number >= line:
                break
            if codes is None or code in codes:
                disabled_at = number if verb == "disable" else None
        if disabled_at is not None:
            found.append(disabled_at)
        if not found:
            return Suppression.NONE
        if all(self.change.touches(n) for n in found):
            return Suppression.ADDED
        if self.change.touches(line, end_line):
            return Suppression.OUTDATED
        return Suppression.EXISTING


# --- the check kind -------------------------------------------------------------------------

NOQA_NOTE = (
    " The `# noqa` comment added by this change does not silence prgate: remove the comment "
    "and fix the problem, or ask for the rule to be adjusted."
)


OUTDATED_NOTE = (
    " A `# noqa` or `# ruff: noqa` comment that was already in the file covers this line, but "
    "it was written for the code as it was: it does not silence prgate for code this change "
    "adds. Fix the problem; if the whole file should be exempt, an engineer can say so in the "
    "team's ruff settings (per-file-ignores)."
)


def violation_finding(rule: Rule, v: Violation, *, describe: str | None = None) -> Finding:
    """A finding of ``rule`` for one ruff violation (shared with the ``debug`` kind).

    ``describe`` replaces ruff's own wording of the problem.
    """
    message = f"{describe or v.message} (ruff {v.code})"
    fix = rule.fix
    if v.suppression is Suppression.ADDED:
        message += "." + NOQA_NOTE
    elif v.suppression is Suppression.OUTDATED:
        message += "." + OUTDATED_NOTE
    elif v.fix_message:
        fix = f"{rule.fix} Ruff suggests: {v.fix_message}."
    return rule.finding(
        path=v.path,
        line=v.line,
        end_line=v.end_line,
        column=v.column,
        message=message,
        fix=fix,
        fixable=v.safe_fix and v.suppression is Suppression.NONE,
    )


def ruff_code_of(finding: Finding) -> str | None:
    """The ruff code a lint finding is about (as written by :func:`violation_finding`)."""
    m = _MESSAGE_CODE.search(finding.message)
    return m.group(1) if m else None


def required_output(ctx: CheckContext) -> RuffOutput:
    if ctx.ruff is None:
        raise CheckError("ruff's results were not available")
    return ctx.ruff


def _run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    output = required_output(ctx)
    base = base_settings(ctx.ruff_config)
    result = CheckResult(skipped=list(output.skipped))
    lint_rules = sorted((r for r in rules if not is_format_rule(r)), key=lambda r: r.id)
    format_rules = [r for r in rules if is_format_rule(r)]
    reporter = (lint_rules or format_rules)[0] if rules else None
    if reporter is not None:
        for problem in output.syntax_errors:
            result.findings.append(_syntax_finding(reporter, problem, ctx))
    for rule in lint_rules:
        selection = rule_selection(rule, base)
        result.findings.extend(violation_finding(rule, v) for v in output.reportable(selection))
    for rule in format_rules:
        result.findings.extend(
            rule.finding(
                path=path,
                message=(
                    "ruff would reformat this file: its layout (spacing, line breaks, quotes) "
                    "differs from the team's formatting."
                ),
                fixable=True,
            )
            for path in sorted(output.unformatted)
        )
    return result


def _syntax_finding(rule: Rule, problem: SyntaxProblem, ctx: CheckContext) -> Finding:
    if problem.unreadable is not None:
        return rule.finding(
            path=problem.path,
            message=problem.unreadable,
            fix=(
                "Save the file as UTF-8 text and give it a plain name (letters, digits, `-`, "
                "`_` and `.`), then run the check again."
            ),
        )
    change = ctx.changeset.file(problem.path)
    on_change = change is not None and change.touches(problem.line)
    return rule.finding(
        path=problem.path,
        line=problem.line if on_change else None,
        column=problem.column if on_change else None,
        message=(
            f"This file could not be read as Python (line {problem.line}: {problem.message}), "
            "so its other checks could not run."
        ),
        fix=(
            "Fix the Python syntax error at the line shown (a missing bracket, colon, quote "
            "or indentation is the usual cause), then run the check again."
        ),
    )


KIND = CheckKind(
    name=KIND_NAME,
    params=RuffParams,
    run=_run,
    ruff_codes=_codes,
    in_scope=lambda rule, change: change.path.endswith(PYTHON_SUFFIXES),
    looks_for="Python mistakes and formatting (ruff)",
    summary=(
        "ruff lint findings on changed lines (select/ignore), or with format: true, changed "
        "Python files ruff would reformat"
    ),
)
