"""One batched ruff run per evaluation (:func:`run_batch`), in a private folder laid out as the
team's project (:func:`prepare`).

Lint runs twice at most, concurrently with the formatting run: once as the team runs it (their
settings select the rules; without any ruff settings, :data:`DEFAULT_SELECT`), and once for the
codes rules ask for by name (``content/debug``'s, or a rule's own ``select``), with the team's
settings otherwise (excludes, per-file ignores, first-party modules).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prgate.checks import CheckContext, Rule
from prgate.checks.ruff.fmtoff import FormatSuppression, added_suppressions
from prgate.checks.ruff.formatdiff import FormatHunk, parse_diff
from prgate.checks.ruff.noqa import Directives
from prgate.checks.ruff.output import (
    PythonSource,
    RuffOutput,
    SyntaxProblem,
    parse_items,
    violations_of,
)
from prgate.checks.ruff.process import Workspace, run_process
from prgate.checks.ruff.settings import (
    DEFAULT_SELECT,
    KIND_NAME,
    PYTHON_SUFFIXES,
    Dropped,
    black_excludes,
    black_overrides,
    codes_of,
    config_error,
    drop_display_settings,
    has_ruff_settings,
    is_format_rule,
    params_of,
)
from prgate.checks.text import readable_as_utf8_python
from prgate.checks.tools import ProcessResult, Runner, safe_relpath
from prgate.errors import CheckError
from prgate.model import ChangeSet, Skipped


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


NOT_UTF8 = (
    "This file is not UTF-8 text (or its `# coding:` line names another encoding), and ruff "
    "reads only UTF-8, so ruff could not check it."
)


BAD_NAME = (
    "This file's name holds characters prgate cannot handle safely (such as a backslash or a "
    "control character), or its folders are nested too deep, so ruff could not check it."
)


def _unreadable(path: str, why: str) -> SyntaxProblem:
    return SyntaxProblem(path=path, line=1, column=1, message="", unreadable=why)


def prepare(
    ws: Workspace,
    changeset: ChangeSet,
    settings: Mapping[str, bytes | None],
    *,
    written: Collection[str] = (),
) -> tuple[Dropped, ...]:
    """Lay out the project in ``ws``: stand-ins for the head tree (but the files ``written``
    with their contents), then the base's settings files at their paths (display settings ruff
    removed left out). Returns what was left out."""
    tree = changeset.head_tree()
    if tree is not None:
        ws.stand_ins(tree.paths, skip=written)
    dropped: list[Dropped] = []
    for path, data in sorted(settings.items()):
        if data is None:
            continue
        cleaned, gone = drop_display_settings(path, data)
        dropped.extend(gone)
        ws.write(path, cleaned)
    return tuple(dropped)


def team_options(ctx: CheckContext) -> list[str]:
    """Options that make ruff select as the team does: nothing when they have ruff settings,
    else the documented default."""
    return [] if has_ruff_settings(ctx.settings) else ["--select", codes_of(DEFAULT_SELECT)]


def run_batch(
    ctx: CheckContext,
    *,
    codes: Sequence[str],
    rules: Sequence[Rule],
    max_file_bytes: int | None = None,
    runner: Runner | None = None,
) -> RuffOutput:
    """Run ruff over every changed Python file: lint as the team runs it, lint for ``codes``
    (what rules ask for by name), and format, concurrently. A ruff that fails raises
    :class:`CheckError`; the team's settings ruff refuses raise a ConfigError."""
    run = runner or run_process
    lint_codes = set(codes)
    want_team = any(
        r.check == KIND_NAME and not is_format_rule(r) and params_of(r).select is None
        for r in rules
    )
    want_format = any(is_format_rule(r) for r in rules)
    sources, skipped, unreadable = python_sources(ctx, max_file_bytes)
    tree = ctx.changeset.head_tree()
    partial = tree is not None and not tree.complete
    if not sources or not (lint_codes or want_format or want_team):
        return RuffOutput(
            syntax_errors=tuple(unreadable), skipped=tuple(skipped), codes=tuple(sorted(lint_codes))
        )

    with Workspace() as ws:
        written: dict[str, Path] = {}
        for src in sources:
            target = ws.write(src.change.path, src.data)
            if target is None:
                unreadable.append(_unreadable(src.change.path, BAD_NAME))
                continue
            written[src.change.path] = target
        dropped = prepare(ws, ctx.changeset, ctx.settings, written=written)
        files = list(written.values())
        env = ws.env()
        jobs: dict[str, list[str]] = {}
        lint = ["check", "--no-fix", "--ignore-noqa"]
        if want_team:
            jobs["team"] = ws.args(lint, files, options=team_options(ctx))
        if lint_codes:
            jobs["lint"] = ws.args(lint, files, options=["--select", codes_of(lint_codes)])
        if want_format:
            for options, group in _format_groups(ctx, written).items():
                jobs[f"format{len(jobs)}"] = ws.args(
                    ["format", "--diff"], group, options=list(options), output_format=None
                )
        results = _run_all(run, jobs, cwd=ws.tree, env=env)
        for result in results.values():
            _raise_config_error(result, ws)
        by_path = {s.change.path: s for s in sources}
        directives: dict[str, Directives] = {}
        team_items = parse_items(results["team"], accept=(0, 1)) if "team" in results else []
        lint_items = parse_items(results["lint"], accept=(0, 1)) if "lint" in results else []
        syntax: dict[str, SyntaxProblem] = {p.path: p for p in unreadable}
        team = violations_of(ws, by_path, team_items, syntax, directives)
        named = violations_of(ws, by_path, lint_items, syntax, directives)
        hunks: dict[str, tuple[FormatHunk, ...]] = {}
        for name, result in results.items():
            if name.startswith("format"):
                hunks.update(_format_result(result, ws, by_path))
        unformatted = {p for p, h in hunks.items() if h} - set(syntax)
        suppressions = (
            _format_suppressions(sources, directives, broken=set(syntax)) if want_format else {}
        )
        return RuffOutput(
            violations=tuple(named),
            team=tuple(team),
            syntax_errors=tuple(syntax[p] for p in sorted(syntax)),
            unformatted=frozenset(unformatted),
            format_hunks={p: h for p, h in hunks.items() if p in unformatted},
            format_suppressions=suppressions,
            skipped=tuple(skipped),
            codes=tuple(sorted(lint_codes)),
            dropped=dropped,
            partial_tree=partial,
        )


def _format_groups(
    ctx: CheckContext, written: Mapping[str, Path]
) -> dict[tuple[str, ...], list[Path]]:
    """Files to format, grouped by the options standing for the team's black settings; files
    black's own excludes leave alone are left out."""
    excludes = black_excludes(ctx.settings)
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path, target in written.items():
        if any(rx.search("/" + path) for rx in excludes):
            continue
        options = tuple(black_overrides(path, ctx.settings))
        groups.setdefault(options, []).append(target)
    return groups


def _added_lines_mention_a_directive(src: PythonSource) -> bool:
    """Whether a line the change added could hold a formatting comment: a suppression counts
    only on an added line, so a file whose added lines never spell ``fmt`` or ``yapf`` needs
    no tokenizing (the whole file's, base and head, otherwise)."""
    lines = src.data.split(b"\n")
    return any(
        marker in line
        for r in src.change.added
        for line in lines[r.start - 1 : r.end]
        for marker in (b"fmt", b"yapf")
    )


def _format_suppressions(
    sources: Sequence[PythonSource], directives: dict[str, Directives], *, broken: set[str]
) -> dict[str, tuple[FormatSuppression, ...]]:
    """The formatting suppressions each readable file's change adds."""
    out: dict[str, tuple[FormatSuppression, ...]] = {}
    for src in sources:
        path = src.change.path
        if path in broken or not _added_lines_mention_a_directive(src):
            continue
        if path not in directives:
            directives[path] = Directives.scan(src.change, src.data)
        found = added_suppressions(
            src.change, src.data.decode("utf-8"), base_line=directives[path].aligned
        )
        if found:
            out[path] = found
    return out


def _format_result(
    result: ProcessResult, ws: Workspace, sources: Mapping[str, PythonSource]
) -> dict[str, tuple[FormatHunk, ...]]:
    """``ruff format --diff``: exit 0 nothing to change, 1 changes, 2 a file did not parse
    (its syntax error comes from the lint runs)."""
    if result.returncode not in (0, 1, 2):
        raise CheckError(f"ruff stopped with exit status {result.returncode}")
    try:
        text = result.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckError("ruff's output could not be read") from None
    out: dict[str, tuple[FormatHunk, ...]] = {}
    for name, hunks in parse_diff(text).items():
        path = ws.repo_path(name)
        if path is None or path not in sources:
            raise CheckError("ruff reported on a file prgate could not match to the change")
        change = sources[path].change
        # Only the added lines of each block: the old ones are not this change's doing.
        out[path] = tuple(
            FormatHunk(max(h.start, r.start), min(h.end, r.end))
            for h in hunks
            for r in change.added
            if r.start <= h.end and h.start <= r.end
        )
    return out


def _raise_config_error(result: ProcessResult, ws: Workspace) -> None:
    if result.returncode == 2:
        error = config_error(result.stderr, ws.repo_paths())
        if error is not None:
            raise error


def _run_all(
    run: Runner, jobs: Mapping[str, Sequence[str]], *, cwd: Path, env: Mapping[str, str]
) -> dict[str, ProcessResult]:
    if len(jobs) == 1:
        ((name, args),) = jobs.items()
        return {name: run(args, cwd=cwd, env=env)}
    with ThreadPoolExecutor(max_workers=min(len(jobs), 4)) as pool:
        futures = {name: pool.submit(run, args, cwd=cwd, env=env) for name, args in jobs.items()}
        return {name: fut.result() for name, fut in futures.items()}
