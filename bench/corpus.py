"""Benchmark: `prgate check` on real commits of open-source Python projects, against their ruff.

What it measures, for the last ``--last`` first-parent commits of each project that add or modify
at least one Python file (``.py``/``.pyi``), judging each commit C as a change from C^ to C:

1. ``prgate check CLONE --base C^ --head C --format json`` twice, one commit at a time, as a
   subprocess: with prgate's defaults (the projects have no ``.github/prgate.yml``, so the packs
   ``python-style`` and ``hygiene`` apply, with the base's ruff settings), and with all four
   built-in packs on through ``--config`` naming a temporary file outside the repository
   (``flags/guarded`` limited to the project's package folder).
2. The team's own ruff as the team runs it: C checked out in a scratch clone, the ruff binary
   prgate bundles run at the repository root with ruff's own config discovery (nested configs,
   ``extend``, ``exclude`` with ``--force-exclude`` as ruff's pre-commit hook does, noqa
   honoured, ``--no-fix``) on the changed Python files, keeping violations that start on a line
   the commit added (from ``git diff -U0 C^ C``). Agreement with prgate's ``style/ruff-lint``
   findings is by (path, line, code); prgate-only and ruff-only items are classified by likely
   cause (file under a nested ruff config, file the team excludes, a ``noqa`` on the line, a code
   the team's config does not select, a code outside prgate's selection, ...).
3. ``style/ruff-format`` findings on files that were already unformatted at C^ (``ruff format
   --check`` on the base with the project's config): blames of old code. Also how the findings
   compare with the team's ``ruff format --check`` at C.
4. Per rule: commits blocked (a finding at level ``error``) and warned, with sample messages;
   commits prgate could not judge (exit status 2); wall seconds per commit (p50/p95/max).

The projects' code is never copied into this repository: the script takes git directories (bare
mirrors or clones) as arguments and works on ``git clone --shared`` copies in a temporary folder.

    python bench/corpus.py [--last 30] [--json FILE] [--package NAME=DIR]... [NAME=]GITDIR...

A project's name defaults to ``owner/name`` for a mirror at ``.../owner+name/repo``, else to the
folder's name; its package folder (for ``flags/guarded``) is guessed from its tree unless
``--package NAME=DIR`` says it. Run it from the repository's virtualenv (``.venv/bin/python``):
prgate runs as ``python -m prgate`` with the same interpreter, ruff is the one next to it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
PY_SUFFIXES = (".py", ".pyi")
PY_PATHSPEC = ("*.py", "*.pyi")
RUFF_FILES = (".ruff.toml", "ruff.toml", "pyproject.toml")
#: What the scratch checkouts hold: Python files and what ruff's discovery reads.
SPARSE = ("*.py", "*.pyi", "pyproject.toml", "ruff.toml", ".ruff.toml", ".gitignore", ".ignore")
#: prgate's documented default selection for style/ruff-lint (README, ruff check kind).
PRGATE_DEFAULT_SELECT = ("E4", "E7", "E9", "F", "B")
PRGATE_DEFAULT_IGNORE = ("B008",)
ALL_PACKS = """\
packs: [python-style, safe-zones, feature-flags, hygiene]
rules:
  flags/guarded:
    paths: [{paths}]
"""
CODE_IN_MESSAGE = re.compile(r"\(ruff ([A-Z]{1,6}[0-9]{1,4})\)")
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
VARIANTS = ("default", "all")
Key = tuple[str, int, str]


def ruff_bin() -> str:
    local = BIN / "ruff"
    if local.exists():
        return str(local)
    found = shutil.which("ruff")
    if found is None:
        raise SystemExit("ruff not found next to this Python; run with the venv's python")
    return found


RUFF = ruff_bin()


# --- git --------------------------------------------------------------------------------------


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", "-c", "core.quotePath=false", *args],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode("utf-8", errors="replace")


def checkout(repo: Path, commit: str) -> None:
    git(repo, "checkout", "-q", "-f", "--detach", commit)
    git(repo, "clean", "-qfdx")


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str
    subject: str
    #: changed Python files at C (added, copied, modified, renamed) -> their path at C^ (or None)
    files: dict[str, str | None]
    #: path at C -> lines added by the commit
    added: dict[str, frozenset[int]]
    lines_changed: int


def changed_python(repo: Path, parent: str, sha: str) -> dict[str, str | None]:
    out = git(
        repo, "diff", "--name-status", "-M", "--diff-filter=ACMR", parent, sha, "--", *PY_PATHSPEC
    )
    files: dict[str, str | None] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if not parts or not parts[0]:
            continue
        status = parts[0][0]
        if status in "RC" and len(parts) == 3:
            files[parts[2]] = parts[1] if status == "R" else None
        elif len(parts) == 2:
            files[parts[1]] = parts[1] if status == "M" else None
    return files


def added_lines(repo: Path, parent: str, sha: str) -> dict[str, frozenset[int]]:
    out = git(
        repo, "diff", "-U0", "-M", "--no-color", "--no-ext-diff", parent, sha, "--", *PY_PATHSPEC
    )
    added: dict[str, set[int]] = defaultdict(set)
    path: str | None = None
    for line in out.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            path = target[2:] if target.startswith("b/") else None
        elif line.startswith("@@") and path is not None:
            m = HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or "1")
                added[path].update(range(start, start + count))
    return {p: frozenset(lines) for p, lines in added.items()}


def pick_commits(repo: Path, last: int, scan: int) -> list[Commit]:
    picked: list[Commit] = []
    log = git(repo, "rev-list", "--first-parent", "--parents", f"--max-count={scan}", "HEAD")
    for line in log.splitlines():
        shas = line.split()
        if len(shas) < 2:
            continue  # the root commit
        sha, parent = shas[0], shas[1]
        files = changed_python(repo, parent, sha)
        if not files:
            continue
        stat = git(repo, "diff", "--numstat", "-M", parent, sha)
        changed = 0
        for row in stat.splitlines():
            cols = row.split("\t")
            if len(cols) >= 2 and cols[0].isdigit() and cols[1].isdigit():
                changed += int(cols[0]) + int(cols[1])
        subject = git(repo, "log", "-1", "--format=%s", sha).strip()
        picked.append(Commit(sha, parent, subject, files, added_lines(repo, parent, sha), changed))
        if len(picked) >= last:
            break
    return picked


def guess_package(repo: Path, name: str) -> str:
    """The project's main package folder: ``src/<pkg>`` or a top-level package."""
    inits = git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    candidates: list[str] = []
    for path in inits:
        parts = path.split("/")
        if parts[-1] != "__init__.py":
            continue
        if len(parts) == 2 and parts[0] not in ("tests", "test", "docs", "examples", "scripts"):
            candidates.append(parts[0])
        elif len(parts) == 3 and parts[0] == "src":
            candidates.append(f"src/{parts[1]}")
    short = name.split("/")[-1].replace("-", "_")
    for c in candidates:
        if c.split("/")[-1] == short:
            return c
    return sorted(candidates)[0] if candidates else "src"


# --- ruff configs as ruff discovers them ------------------------------------------------------


class Configs:
    """The nearest ruff config of a file in the checked-out tree (ruff's own lookup order)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: dict[Path, Path | None] = {}

    def config_in(self, folder: Path) -> Path | None:
        if folder not in self._dirs:
            found: Path | None = None
            for name in RUFF_FILES:
                candidate = folder / name
                if not candidate.is_file():
                    continue
                if name == "pyproject.toml":
                    try:
                        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
                    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                        continue
                    tool = data.get("tool")
                    if not (isinstance(tool, dict) and "ruff" in tool):
                        continue
                found = candidate
                break
            self._dirs[folder] = found
        return self._dirs[folder]

    def nearest(self, path: str) -> str | None:
        folder = (self.root / path).parent
        while True:
            found = self.config_in(folder)
            if found is not None:
                return str(found.relative_to(self.root))
            if folder == self.root or self.root not in folder.parents:
                return None
            folder = folder.parent

    def clear(self) -> None:
        self._dirs.clear()


def root_lint_table(root: Path) -> dict[str, object]:
    """The root ruff config's lint settings (top-level and ``lint``), merged."""
    for name in RUFF_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return {}
        if name == "pyproject.toml":
            tool = data.get("tool")
            ruff = tool.get("ruff") if isinstance(tool, dict) else None
            if not isinstance(ruff, dict):
                continue
            data = ruff
        merged = {k: v for k, v in data.items() if k != "lint"}
        lint = data.get("lint")
        if isinstance(lint, dict):
            merged.update(lint)
        return merged
    return {}


def _codes(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _letters(code: str) -> str:
    m = re.match(r"[A-Z]*", code)
    return m.group(0) if m else ""


def _specific(code: str, selectors: Iterable[str]) -> int:
    """How specific the best of ``selectors`` matching ``code`` is, as ruff matches them: a
    selector names a linter and a code prefix, so ``B`` takes ``B006`` but not ``BLE001``."""
    best = -1
    for s in selectors:
        if s == "ALL":
            best = max(best, 0)
            continue
        same = _letters(code) == _letters(s) or (_letters(s) == "PL" and code[:3] in _PYLINT)
        if same and code.startswith(s):
            best = max(best, len(s))
    return best


_PYLINT = ("PLC", "PLE", "PLR", "PLW")


def prgate_selects(code: str, table: Mapping[str, object] | None) -> bool:
    """Whether prgate's documented selection (root config's, else its default) has ruff run
    ``code`` (prgate runs ruff with that selection, so ruff's prefix semantics decide)."""
    table = table or {}
    has_select = "select" in table
    select = _codes(table.get("select")) if has_select else PRGATE_DEFAULT_SELECT
    select += _codes(table.get("extend-select"))
    if "ignore" in table or "extend-ignore" in table:
        ignore = _codes(table.get("ignore")) + _codes(table.get("extend-ignore"))
    else:
        ignore = () if has_select else PRGATE_DEFAULT_IGNORE
    chosen = _specific(code, select)
    return chosen >= 0 and chosen > _specific(code, ignore)


# --- running the tools ------------------------------------------------------------------------


@dataclass
class PrgateRun:
    rc: int
    seconds: float
    findings: list[dict[str, object]] = field(default_factory=list)
    skipped: list[dict[str, object]] = field(default_factory=list)
    stderr: str = ""


def run_prgate(repo: Path, commit: Commit, config: Path | None) -> PrgateRun:
    cmd = [sys.executable, "-m", "prgate", "check", str(repo), "--base", commit.parent]
    cmd += ["--head", commit.sha, "--format", "json"]
    if config is not None:
        cmd += ["--config", str(config)]
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, check=False)
    seconds = time.perf_counter() - start
    run = PrgateRun(done.returncode, seconds, stderr=done.stderr.decode(errors="replace")[-2000:])
    if done.returncode in (0, 1):
        report = json.loads(done.stdout)
        run.findings = list(report.get("findings", []))
        run.skipped = list(report.get("skipped", []))
    return run


def ruff_json(
    repo: Path, args: Sequence[str], files: Sequence[str]
) -> tuple[int, list[dict[str, object]], str]:
    cmd = [RUFF, *args, "--no-cache", "--force-exclude", "--output-format", "json", "--", *files]
    done = subprocess.run(cmd, cwd=repo, capture_output=True, check=False)
    items: list[dict[str, object]] = []
    if done.stdout.strip():
        try:
            loaded = json.loads(done.stdout)
            items = [i for i in loaded if isinstance(i, dict)]
        except json.JSONDecodeError:
            pass
    return done.returncode, items, done.stderr.decode(errors="replace")[-1000:]


def rel(repo: Path, filename: object) -> str:
    return os.path.relpath(str(filename), repo)


def row_of(item: Mapping[str, object], key: str = "location") -> int:
    loc = item.get(key)
    return int(loc.get("row", 0)) if isinstance(loc, dict) else 0


def shown_files(repo: Path, files: Sequence[str]) -> set[str]:
    cmd = [RUFF, "check", "--show-files", "--force-exclude", "--", *files]
    done = subprocess.run(cmd, cwd=repo, capture_output=True, check=False)
    return {rel(repo, line) for line in done.stdout.decode(errors="replace").splitlines() if line}


def unformatted(repo: Path, files: Sequence[str]) -> tuple[int, set[str], str]:
    if not files:
        return 0, set(), ""
    rc, items, err = ruff_json(repo, ["format", "--check"], files)
    return rc, {rel(repo, i.get("filename")) for i in items if i.get("code") == "unformatted"}, err


# --- one project ------------------------------------------------------------------------------


@dataclass
class Item:
    project: str
    sha: str
    path: str
    line: int
    code: str
    cause: str
    text: str = ""


@dataclass
class Result:
    """Everything measured, over all projects."""

    commits: list[dict[str, object]] = field(default_factory=list)
    agree: Counter[str] = field(default_factory=Counter)
    #: the same comparison with the team's violations kept when any of their lines was added
    overlap: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    prgate_only: dict[str, list[Item]] = field(default_factory=lambda: defaultdict(list))
    ruff_only: dict[str, list[Item]] = field(default_factory=lambda: defaultdict(list))
    team_errors: list[str] = field(default_factory=list)
    team_syntax: int = 0
    format_findings: Counter[str] = field(default_factory=Counter)
    format_old: Counter[str] = field(default_factory=Counter)
    format_new_file: Counter[str] = field(default_factory=Counter)
    format_team_agrees: Counter[str] = field(default_factory=Counter)
    format_team_only: Counter[str] = field(default_factory=Counter)
    format_examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    blocked: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    warned: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    findings: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    block_samples: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    failures: Counter[str] = field(default_factory=Counter)
    unjudged: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    team_seconds: list[float] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    per_project: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def lint_keys(run: PrgateRun) -> tuple[dict[Key, dict[str, object]], int]:
    """prgate's ``style/ruff-lint`` findings by (path, line, code), and its syntax findings."""
    keys: dict[Key, dict[str, object]] = {}
    syntax = 0
    for f in run.findings:
        if f.get("rule") != "style/ruff-lint":
            continue
        code = f.get("code")
        if not isinstance(code, str):
            m = CODE_IN_MESSAGE.search(str(f.get("message", "")))
            code = m.group(1) if m else None
        line = f.get("line")
        if code is None or not isinstance(line, int):
            syntax += 1
            continue
        keys[(str(f.get("path")), line, code)] = f
    return keys, syntax


def head_line(repo: Path, path: str, line: int) -> str:
    try:
        lines = (repo / path).read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def record_rules(
    result: Result, variant: str, project: str, commit: Commit, run: PrgateRun
) -> None:
    blocked: set[str] = set()
    warned: set[str] = set()
    for f in run.findings:
        rule = str(f.get("rule"))
        result.findings[variant][rule] += 1
        if f.get("level") == "error":
            blocked.add(rule)
            samples = result.block_samples[variant][rule]
            if len(samples) < 40:
                where = f"{f.get('path')}:{f.get('line')}" if f.get("line") else str(f.get("path"))
                msg = str(f.get("message", "")).replace("\n", " ")[:220]
                samples.append(f"{project}@{commit.sha[:9]} {where}: {msg}")
        elif f.get("level") == "warning":
            warned.add(rule)
    for rule in blocked:
        result.blocked[variant][rule] += 1
    for rule in warned:
        result.warned[variant][rule] += 1
    if run.rc == 1:
        result.failures[variant] += 1
    elif run.rc not in (0, 1):
        result.failures[f"{variant}-unjudged"] += 1
        result.unjudged[variant].append(
            f"{project}@{commit.sha[:9]} exit {run.rc}: {run.stderr.strip()[-300:]}"
        )
    result.seconds[variant].append(run.seconds)


def bench_project(
    name: str,
    source: Path,
    package: str | None,
    args: argparse.Namespace,
    work: Path,
    result: Result,
) -> None:
    repo = work / name.replace("/", "+")
    git(work, "clone", "-q", "--shared", "--no-checkout", str(source), str(repo))
    # Only what ruff reads: mirrors may lack the blobs of large files (images, binaries).
    git(repo, "sparse-checkout", "set", "--no-cone", *SPARSE)
    package = package or guess_package(repo, name)
    config = work / f"{repo.name}-all-packs.yml"
    config.write_text(ALL_PACKS.format(paths=json.dumps(f"{package}/**")), encoding="utf-8")
    commits = pick_commits(repo, args.last, args.scan)
    print(f"# {name}: {len(commits)} commits, package {package}", file=sys.stderr, flush=True)
    configs = Configs(repo)
    counts = result.per_project[name]
    for index, commit in enumerate(commits, 1):
        runs = {"default": run_prgate(repo, commit, None), "all": run_prgate(repo, commit, config)}
        for variant, run in runs.items():
            record_rules(result, variant, name, commit, run)

        # The team's ruff at C, on the changed Python files.
        start = time.perf_counter()
        checkout(repo, commit.sha)
        configs.clear()
        files = sorted(p for p in commit.files if (repo / p).is_file())
        rc, items, err = ruff_json(repo, ["check", "--no-fix"], files)
        checked = shown_files(repo, files)
        fmt_rc, team_unformatted, _ = unformatted(repo, files)
        team_ok = rc in (0, 1)
        if not team_ok:
            result.team_errors.append(
                f"{name}@{commit.sha[:9]} ruff exit {rc}: {err.strip()[-300:]}"
            )
        team: dict[Key, dict[str, object]] = {}  # starting on an added line
        overlap: set[Key] = set()  # any of its lines added (how prgate keeps findings)
        everywhere: set[Key] = set()
        for item in items:
            code = item.get("code")
            path = rel(repo, item.get("filename"))
            line = row_of(item)
            if not isinstance(code, str) or code == "invalid-syntax":
                result.team_syntax += 1
                continue
            everywhere.add((path, line, code))
            added = commit.added.get(path, frozenset())
            if line in added:
                team[(path, line, code)] = item
            if added.intersection(range(line, max(line, row_of(item, "end_location")) + 1)):
                overlap.add((path, line, code))
        root_table = root_lint_table(repo)

        record: dict[str, object] = {
            "project": name,
            "sha": commit.sha,
            "subject": commit.subject,
            "py_files": len(commit.files),
            "lines_changed": commit.lines_changed,
            "team_ruff_rc": rc,
            "team_violations_on_added_lines": len(team),
        }
        for variant, run in runs.items():
            mine, syntax = lint_keys(run)
            record[variant] = {
                "rc": run.rc,
                "seconds": round(run.seconds, 3),
                "findings": run.findings,
                "skipped": run.skipped,
                "lint_syntax_findings": syntax,
            }
            if run.rc not in (0, 1) or not team_ok:
                continue
            both = mine.keys() & team.keys()
            result.agree[variant] += len(both)
            counts[f"{variant}:agree"] += len(both)
            result.overlap[variant] += Counter(
                agree=len(mine.keys() & overlap),
                prgate_only=len(mine.keys() - overlap),
                ruff_only=len(overlap - mine.keys()),
            )
            skipped_paths = {str(s.get("path")) for s in run.skipped}
            for key in sorted(mine.keys() - team.keys()):
                path, line, code = key
                if key in everywhere:
                    cause = "team reports it too, starting on an unchanged line (range overlap)"
                else:
                    cause = prgate_only_cause(
                        repo, configs, checked, key, commit, variant_reads_base=variant == "default"
                    )
                result.prgate_only[variant].append(
                    Item(name, commit.sha, path, line, code, cause, head_line(repo, path, line))
                )
                counts[f"{variant}:prgate_only"] += 1
            for key in sorted(team.keys() - mine.keys()):
                path, line, code = key
                table = root_table if variant == "default" else None
                if configs.nearest(path) not in (None, *RUFF_FILES):
                    cause = f"file under nested config {configs.nearest(path)}"
                elif path in skipped_paths:
                    cause = "prgate skipped the file"
                elif not prgate_selects(code, table):
                    cause = "code outside prgate's selection"
                else:
                    cause = "other"
                result.ruff_only[variant].append(
                    Item(name, commit.sha, path, line, code, cause, head_line(repo, path, line))
                )
                counts[f"{variant}:ruff_only"] += 1

        # style/ruff-format: old blames and the team's own format check.
        format_paths = {
            str(f.get("path"))
            for f in runs["default"].findings
            if f.get("rule") == "style/ruff-format"
        }
        if fmt_rc in (0, 1):
            result.format_team_agrees["default"] += len(format_paths & team_unformatted)
            result.format_team_only["default"] += len(team_unformatted - format_paths)
        old_paths = {p: commit.files.get(p) for p in format_paths}
        base_files = sorted({o for o in old_paths.values() if o})
        result.team_seconds.append(time.perf_counter() - start)
        checkout(repo, commit.parent)
        _, base_unformatted, _ = unformatted(repo, [p for p in base_files if (repo / p).is_file()])
        for path, old in sorted(old_paths.items()):
            result.format_findings["default"] += 1
            if old is None:
                result.format_new_file["default"] += 1
                kind = "new file"
            elif old in base_unformatted:
                result.format_old["default"] += 1
                kind = "already unformatted at C^"
            else:
                kind = "formatted at C^"
            extra = "" if path in team_unformatted else "; team's ruff format --check: formatted"
            examples = result.format_examples[kind]
            if len(examples) < 12:
                examples.append(f"{name}@{commit.sha[:9]} {path}{extra}")
        for f in runs["all"].findings:
            if f.get("rule") == "style/ruff-format":
                result.format_findings["all"] += 1
        record["format"] = {
            "prgate": sorted(format_paths),
            "team_unformatted_at_head": sorted(team_unformatted),
            "unformatted_at_base": sorted(base_unformatted),
        }
        result.commits.append(record)
        result.slowest.append(
            (
                runs["all"].seconds,
                f"{name}@{commit.sha[:9]} ({len(commit.files)} py files, "
                f"{commit.lines_changed} lines changed)",
            )
        )
        print(
            f"  [{index}/{len(commits)}] {commit.sha[:9]} default {runs['default'].seconds:.2f}s "
            f"rc={runs['default'].rc} all {runs['all'].seconds:.2f}s rc={runs['all'].rc} "
            f"team={len(team)} prgate={len(lint_keys(runs['default'])[0])}",
            file=sys.stderr,
            flush=True,
        )


def prgate_only_cause(
    repo: Path,
    configs: Configs,
    checked: set[str],
    key: Key,
    commit: Commit,
    *,
    variant_reads_base: bool,
) -> str:
    """Why the team's ruff did not report what prgate did (C is checked out)."""
    path, line, code = key
    nearest = configs.nearest(path)
    if nearest not in (None, *RUFF_FILES):
        return f"file under nested config {nearest}"
    if path not in checked:
        return "file excluded by the team's config"
    if line not in commit.added.get(path, frozenset()):
        return "line not added by the commit"
    if (line, code) in _team_findings(repo, path, ("--ignore-noqa",)):
        return "noqa comment (the team's ruff honours it)"
    if (line, code) in _team_findings(repo, path, ("--ignore-noqa", "--select", code)):
        if variant_reads_base:
            return "code not selected by the team's config"
        return "code not selected by the team's config (team settings not read)"
    return "other (per-file-ignores or another setting)"


_TEAM_CACHE: dict[tuple[str, str, tuple[str, ...]], set[tuple[int, str]]] = {}


def _team_findings(repo: Path, path: str, extra: tuple[str, ...]) -> set[tuple[int, str]]:
    """(line, code) the team's ruff reports on ``path`` at the checked-out commit, with ``extra``."""
    head = git(repo, "rev-parse", "HEAD").strip()
    key = (head, path, extra)
    if key not in _TEAM_CACHE:
        _, items, _ = ruff_json(repo, ["check", "--no-fix", *extra], [path])
        _TEAM_CACHE[key] = {(row_of(i), str(i.get("code"))) for i in items}
    return _TEAM_CACHE[key]


# --- the summary ------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary(result: Result, command: str) -> str:
    out: list[str] = [f"command: {command}", ""]
    commits = result.commits
    projects = Counter(str(c["project"]) for c in commits)
    out.append(
        f"commits judged: {len(commits)} ({', '.join(f'{p} {n}' for p, n in projects.items())})"
    )
    out.append("")
    out.append("== style/ruff-lint vs the team's ruff (on added lines, by path, line, code)")
    rows = []
    for v in VARIANTS:
        a, p, r = result.agree[v], len(result.prgate_only[v]), len(result.ruff_only[v])
        union = a + p + r
        rows.append([v, a, p, r, f"{a / union:.1%}" if union else "-"])
    out.append(table(rows, ["prgate config", "agree", "prgate-only", "ruff-only", "agree/union"]))
    out.append("the same, keeping a team violation when any line of its range was added:")
    rows = []
    for v in VARIANTS:
        o = result.overlap[v]
        union = o["agree"] + o["prgate_only"] + o["ruff_only"]
        ratio = f"{o['agree'] / union:.1%}" if union else "-"
        rows.append([v, o["agree"], o["prgate_only"], o["ruff_only"], ratio])
    out.append(table(rows, ["prgate config", "agree", "prgate-only", "ruff-only", "agree/union"]))
    out.append("")
    rows = []
    for name in projects:
        c = result.per_project[name]
        rows.append(
            [
                name,
                *(c[f"{v}:{k}"] for v in VARIANTS for k in ("agree", "prgate_only", "ruff_only")),
            ]
        )
    head = ["project", *(f"{v}:{k}" for v in VARIANTS for k in ("agree", "p-only", "r-only"))]
    out.append(table(rows, head))
    for v in VARIANTS:
        for label, items in (
            ("prgate-only", result.prgate_only[v]),
            ("ruff-only", result.ruff_only[v]),
        ):
            if not items:
                continue
            out.append("")
            out.append(f"-- {label} ({v}): causes")
            causes = Counter(i.cause for i in items)
            for cause, n in causes.most_common():
                codes = Counter(i.code for i in items if i.cause == cause).most_common(6)
                projs = Counter(i.project for i in items if i.cause == cause).most_common(4)
                out.append(f"   {n:5d}  {cause}  codes {dict(codes)}  projects {dict(projs)}")
            shown: Counter[str] = Counter()
            for i in items:
                if shown[i.cause] < 2:
                    shown[i.cause] += 1
                    out.append(
                        f"     e.g. {i.project}@{i.sha[:9]} {i.path}:{i.line} {i.code}  {i.text[:90]!r}"
                    )
    out.append("")
    out.append(f"team ruff failures (exit 2): {len(result.team_errors)}")
    for e in result.team_errors[:5]:
        out.append(f"   {e}")
    out.append(f"team ruff syntax errors (not compared): {result.team_syntax}")
    out.append("")
    out.append("== style/ruff-format (default config)")
    n = result.format_findings["default"]
    out.append(
        f"findings {n}: already unformatted at C^ {result.format_old['default']}, "
        f"new files {result.format_new_file['default']}, "
        f"formatted at C^ {n - result.format_old['default'] - result.format_new_file['default']}"
    )
    out.append(
        f"vs team's ruff format --check at C: both {result.format_team_agrees['default']}, "
        f"team-only {result.format_team_only['default']}"
    )
    out.append(
        f"findings with all packs (--config, outside the repo): {result.format_findings['all']}"
    )
    for kind, examples in result.format_examples.items():
        out.append(f"   {kind}:")
        out.extend(f"     {e}" for e in examples[:5])
    out.append("")
    out.append("== commits blocked (error) / warned, by rule")
    rules = sorted(
        {r for v in VARIANTS for r in (*result.blocked[v], *result.warned[v], *result.findings[v])}
    )
    rows = [
        [
            r,
            *(
                x
                for v in VARIANTS
                for x in (result.blocked[v][r], result.warned[v][r], result.findings[v][r])
            ),
        ]
        for r in rules
    ]
    out.append(
        table(
            rows,
            ["rule", "dflt:block", "dflt:warn", "dflt:finds", "all:block", "all:warn", "all:finds"],
        )
    )
    out.append(
        "conclusion failure: "
        + ", ".join(f"{v} {result.failures[v]}/{len(commits)}" for v in VARIANTS)
        + "; could not judge (exit 2): "
        + ", ".join(f"{v} {result.failures[v + '-unjudged']}" for v in VARIANTS)
    )
    for v in VARIANTS:
        clean: Counter[str] = Counter()
        for record in commits:
            run = record[v]
            assert isinstance(run, dict)
            lint_block = any(
                f.get("rule") == "style/ruff-lint" and f.get("level") == "error"
                for f in run["findings"]
            )
            if lint_block and record["team_violations_on_added_lines"] == 0:
                clean[str(record["project"])] += 1
        out.append(
            f"{v}: commits blocked by style/ruff-lint while the team's ruff found nothing on "
            f"added lines: {sum(clean.values())} {dict(clean)}"
        )
    for v in VARIANTS:
        for line in result.unjudged[v][:5]:
            out.append(f"   {v}: {line}")
    for v in VARIANTS:
        for rule, samples in sorted(result.block_samples[v].items()):
            out.append(f"-- block samples, {v}, {rule}:")
            seen: set[str] = set()
            for s in samples:
                proj = s.split("@", 1)[0]
                if proj in seen and len(seen) < len(projects):
                    continue
                seen.add(proj)
                out.append(f"     {s}")
                if len(seen) >= 4:
                    break
    out.append("")
    out.append("== wall seconds per commit")
    rows = []
    for label, values in (
        *((v, result.seconds[v]) for v in VARIANTS),
        ("team ruff", result.team_seconds),
    ):
        rows.append(
            [
                label,
                len(values),
                f"{percentile(values, 0.5):.2f}",
                f"{percentile(values, 0.95):.2f}",
                f"{max(values, default=float('nan')):.2f}",
            ]
        )
    out.append(table(rows, ["run", "n", "p50", "p95", "max"]))
    for seconds, label in sorted(result.slowest, reverse=True)[:3]:
        out.append(f"   slowest with all packs: {seconds:.2f}s {label}")
    return "\n".join(out)


def parse_projects(values: Sequence[str]) -> list[tuple[str, Path]]:
    projects = []
    for value in values:
        name, sep, path = value.partition("=")
        if not sep:
            path, name = value, ""
        source = Path(path).resolve()
        if not name:
            folder = source.parent if source.name == "repo" else source
            name = folder.name.replace("+", "/", 1) if "+" in folder.name else folder.name
        projects.append((name, source))
    return projects


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", metavar="[NAME=]GITDIR")
    parser.add_argument("--last", type=int, default=30, help="commits per project")
    parser.add_argument("--scan", type=int, default=400, help="first-parent commits to look at")
    parser.add_argument("--package", action="append", default=[], metavar="NAME=DIR")
    parser.add_argument("--json", metavar="FILE", help="also write every measurement here")
    parser.add_argument("--keep", action="store_true", help="keep the scratch clones")
    args = parser.parse_args(argv)
    command = shlex.join([sys.executable, *sys.argv])
    packages = dict(p.split("=", 1) for p in args.package)
    work = Path(tempfile.mkdtemp(prefix="prgate-corpus-"))
    result = Result()
    started = time.perf_counter()
    try:
        for name, source in parse_projects(args.projects):
            bench_project(name, source, packages.get(name), args, work, result)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = summary(result, command)
    print(text)
    print(f"\ntotal wall time: {time.perf_counter() - started:.0f}s")
    if args.json:
        data = {
            "command": command,
            "commits": result.commits,
            "prgate_only": {
                v: [asdict(i) for i in items] for v, items in result.prgate_only.items()
            },
            "ruff_only": {v: [asdict(i) for i in items] for v, items in result.ruff_only.items()},
            "block_samples": result.block_samples,
            "unjudged": result.unjudged,
            "team_errors": result.team_errors,
            "format_examples": result.format_examples,
        }
        Path(args.json).write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
