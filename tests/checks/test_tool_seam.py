"""The tool seam is general: a second, test-only tool (a Python script run as a child process)
plugs in as ruff does, with one batched run per evaluation, its settings files read at base
and its fixes dispatched by ``prgate.fixes``."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from prgate.checks import CheckContext, CheckKind, CheckResult, Reads, Rule, registry
from prgate.checks.tools import (
    FixedFile,
    FixRequest,
    ProcessResult,
    Tool,
    settings_names,
    tool_output,
)
from prgate.config import Config
from prgate.engine import evaluate
from prgate.errors import CheckError
from prgate.fixes import compute_fixes
from prgate.model import ChangeSet, Conclusion, Finding, Level
from prgate.sources.memory import FileSides, changeset_from_files

#: The "tool": reports lines holding the word its settings file bans, and fixes the lines named.
SCRIPT = r"""
import json, pathlib, sys
mode, codes = sys.argv[1], sys.argv[2].split(",")
settings = pathlib.Path(".fakelint.json")
banned = json.loads(settings.read_text())["banned"] if settings.exists() else "nothing-banned"
if mode == "check":
    for name in sys.argv[3:]:
        for n, line in enumerate(pathlib.Path(name).read_text().splitlines(), 1):
            for code in codes:
                if (code == "FK1" and banned in line) or (code == "FK2" and line.endswith(" ")):
                    print(json.dumps({"file": name, "line": n, "code": code}))
else:
    for spec in sys.argv[3:]:
        name, lines = spec.split(":")
        path = pathlib.Path(name)
        wanted = {int(n) for n in lines.split("+")}
        text = path.read_text().splitlines(keepends=True)
        path.write_text("".join(
            t.replace(banned, "fine") if i in wanted else t for i, t in enumerate(text, 1)
        ))
"""
SETTINGS = ".fakelint.json"


@dataclass
class Calls:
    """Every process the fake tool started: its mode and its arguments."""

    runs: list[list[str]] = field(default_factory=list)

    def __call__(self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
        self.runs.append(list(args[2:]))
        done = subprocess.run(
            list(args), cwd=cwd, env=dict(env), capture_output=True, timeout=60, check=False
        )
        return ProcessResult(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    code: str


class FakeLint(Tool[tuple[Hit, ...]]):
    name = "fakelint"
    reads = Reads(settings=frozenset({SETTINGS}))

    def __init__(self, script: Path, calls: Calls) -> None:
        self.script, self.calls = script, calls
        self.scratch = script.parent

    def takes(self, path: str) -> bool:
        return path.endswith(".txt")

    def _in_copy(
        self, ctx_settings: Mapping[str, bytes | None], files: Mapping[str, bytes]
    ) -> Path:
        root = Path(tempfile.mkdtemp(dir=self.scratch))
        data = ctx_settings.get(SETTINGS)
        if data is not None:
            (root / SETTINGS).write_bytes(data)
        for path, content in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(content)
        return root

    def run(
        self, ctx: CheckContext, rules: Sequence[Rule], codes: Sequence[str]
    ) -> tuple[Hit, ...]:
        files = {f.path: f.head_bytes() or b"" for f in ctx.analysable() if self.takes(f.path)}
        root = self._in_copy(ctx.settings, files)
        args = [sys.executable, str(self.script), "check", ",".join(codes), *sorted(files)]
        done = self.calls(args, cwd=root, env={})
        if done.returncode != 0:
            raise CheckError(f"fakelint stopped with exit status {done.returncode}")
        hits = [json.loads(line) for line in done.stdout.decode().splitlines()]
        return tuple(Hit(h["file"], h["line"], h["code"]) for h in hits)

    def fix(self, request: FixRequest) -> dict[str, FixedFile]:
        root = self._in_copy(request.settings, request.heads)
        lines: dict[str, set[int]] = {}
        rules: dict[str, set[str]] = {}
        for rule, finding in request.findings:
            if finding.code == "FK1" and finding.path in request.heads and finding.line:
                lines.setdefault(finding.path, set()).add(finding.line)
                rules.setdefault(finding.path, set()).add(rule.id)
        specs = [f"{p}:{'+'.join(map(str, sorted(ns)))}" for p, ns in sorted(lines.items())]
        runner = request.runner or self.calls
        runner([sys.executable, str(self.script), "fix", "FK1", *specs], cwd=root, env={})
        return {
            p: FixedFile((root / p).read_bytes(), tuple(sorted(rules[p])), "replaced the word")
            for p in lines
        }

    def fix_summary(self, rule_ids: Collection[str]) -> str:
        return "replace the banned word"


def _kind(name: str, tool: FakeLint, code: str) -> CheckKind:
    def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
        out = CheckResult()
        for rule in rules:
            for hit in tool_output(ctx, tool):
                if hit.code == code:
                    out.findings.append(
                        rule.finding(
                            path=hit.path,
                            line=hit.line,
                            message=f"fakelint says {hit.code}",
                            fixable=code == "FK1",
                            code=hit.code,
                        )
                    )
        return out

    return CheckKind(
        name=name,
        params=registry()["paths"].params,
        run=run,
        tool=tool,
        tool_codes=lambda rule: (code,),
    )


def _rule(rule_id: str, check: str) -> Rule:
    return Rule(id=rule_id, check=check, level="error", title="t", why="w", fix="Fix it.")


Setup = tuple[dict[str, CheckKind], Calls, Config]


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    script = tmp_path / "fakelint.py"
    script.write_text(SCRIPT, encoding="utf-8")
    calls = Calls()
    tool = FakeLint(script, calls)
    kinds = {
        **registry(),
        "banned": _kind("banned", tool, "FK1"),
        "trail": _kind("trail", tool, "FK2"),
    }
    config = Config(rules=(_rule("t/banned", "banned"), _rule("t/trail", "trail")))
    return kinds, calls, config


def _change() -> ChangeSet:
    return changeset_from_files(
        {
            # The change tries to loosen the tool's settings: only the base's are read.
            SETTINGS: FileSides('{"banned": "oops"}\n', '{"banned": "nothing"}\n'),
            "notes/a.txt": FileSides("old oops\n", "old oops\nnew oops \nfine\n"),
            "notes/b.txt": FileSides(None, "oops\n"),
        }
    )


def test_a_second_tool_runs_once_per_evaluation_with_its_base_settings(setup: Setup) -> None:
    kinds, calls, config = setup
    report = evaluate(_change(), config, kinds=kinds)
    # One run for both kinds' rules, asking for both rules' codes.
    assert calls.runs == [["check", "FK1,FK2", "notes/a.txt", "notes/b.txt"]]
    found = sorted((f.rule, f.path, f.line, f.code) for f in report.findings)
    assert found == [
        ("t/banned", "notes/a.txt", 2, "FK1"),  # line 1 was there before: not this change's
        ("t/banned", "notes/b.txt", 1, "FK1"),
        ("t/trail", "notes/a.txt", 2, "FK2"),
    ]
    assert report.conclusion is Conclusion.FAILURE
    assert [(f.path, f.description) for f in report.fixes] == [
        ("notes/a.txt", "replace the banned word"),
        ("notes/b.txt", "replace the banned word"),
    ]
    assert SETTINGS in settings_names(kinds) and "pyproject.toml" in settings_names(kinds)
    # A source's first batch asks only for the settings of tools that take a changed file.
    assert SETTINGS not in settings_names(kinds, paths=["app/core.py"])
    assert "pyproject.toml" in settings_names(kinds, paths=["app/core.py"])
    assert SETTINGS in settings_names(kinds, paths=["notes/a.txt"])


def test_fixes_of_a_second_tool_are_dispatched_by_kind(setup: Setup) -> None:
    kinds, calls, config = setup
    change = _change()
    report = evaluate(change, config, kinds=kinds)
    fixes = compute_fixes(change, config, report, kinds=kinds)
    assert calls.runs[-1] == ["fix", "FK1", "notes/a.txt:2", "notes/b.txt:1"]
    assert [(f.path, f.content, f.rules) for f in fixes] == [
        ("notes/a.txt", b"old oops\nnew fine \nfine\n", ("t/banned",)),
        ("notes/b.txt", b"fine\n", ("t/banned",)),
    ]


def test_a_failing_second_tool_fails_every_rule_that_needed_it(setup: Setup) -> None:
    kinds, _calls, config = setup
    broken = changeset_from_files({"notes/a.txt": FileSides(None, "oops\n")})
    tool = kinds["banned"].tool
    assert isinstance(tool, FakeLint)
    tool.script.write_text("import sys; sys.exit(3)\n", encoding="utf-8")
    report = evaluate(broken, config, kinds=kinds)
    assert sorted(f.rule for f in report.findings) == ["t/banned", "t/trail"]
    assert all("exit status 3" in f.message for f in report.findings)
    assert report.conclusion is Conclusion.FAILURE


def test_a_file_the_tool_takes_but_cannot_read_is_a_finding_of_its_rules(setup: Setup) -> None:
    kinds, calls, config = setup
    change = changeset_from_files(
        {"notes/a.bin.txt": FileSides(None, b"\x00\x01" * 10), "logo.png": FileSides(None, b"\x00")}
    )
    report = evaluate(change, config, kinds=kinds)
    assert sorted((f.rule, f.path) for f in report.findings) == [
        ("t/banned", "notes/a.bin.txt"),
        ("t/trail", "notes/a.bin.txt"),
    ]
    assert calls.runs == [["check", "FK1,FK2"]]  # the tool ran once, with nothing it could read


def test_the_tools_code_is_data_that_takes_no_part_in_comparing_findings() -> None:
    words = {"rule": "r", "path": "a", "line": 1, "end_line": 1, "title": "t", "message": "m"}
    coded = Finding(level=Level.ERROR, fix="f", code="X1", **words)  # type: ignore[arg-type]
    plain = Finding(level=Level.ERROR, fix="f", **words)  # type: ignore[arg-type]
    assert coded.code == "X1" and coded == plain and len({coded, plain}) == 1


def test_the_file_writer_lays_out_files_and_never_follows_a_link(tmp_path: Path) -> None:
    from prgate.checks.tools import FileWriter

    root = tmp_path / "ws"
    root.mkdir()
    writer = FileWriter(root)
    assert writer.write(("a", "b", "c.py"), b"one")
    assert (root / "a" / "b" / "c.py").read_bytes() == b"one"
    # A stand-in never replaces a file with contents; a replacing write does.
    assert writer.write(("a", "b", "c.py"), b"", replace=False)
    assert (root / "a" / "b" / "c.py").read_bytes() == b"one"
    assert writer.write(("a", "b", "c.py"), b"two")
    assert (root / "a" / "b" / "c.py").read_bytes() == b"two"
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    (root / "a" / "link.py").symlink_to(outside)
    assert not writer.write(("a", "link.py"), b"overwritten")
    assert outside.read_bytes() == b"keep"
    assert not writer.write(("a", "b"), b"a folder is not a file")


def test_web_tools_get_every_file_in_as_few_runs_as_the_command_line_allows() -> None:
    from prgate.checks.web.process import BATCH_BYTES, batches

    names = [f"src/component-{i}/index.tsx" for i in range(500)]
    runs = batches(names)
    assert runs == [names]  # 500 files: one run of each tool
    many = [f"{'x' * 200}/{i}.ts" for i in range(1000)]
    runs = batches(many)
    assert [n for run in runs for n in run] == many
    assert len(runs) > 1
    assert all(sum(len(n) + 1 for n in run) <= BATCH_BYTES for run in runs)
    assert batches([]) == []
    assert batches(["a" * 100], limit=10) == [["a" * 100]]


def test_the_file_writer_handles_deep_and_clashing_folders(tmp_path: Path) -> None:
    from prgate.checks.tools import MAX_PATH_DEPTH, FileWriter, safe_relpath

    writer = FileWriter(tmp_path)
    deep = safe_relpath("/".join(["d"] * (MAX_PATH_DEPTH - 1) + ["x.ts"]))
    assert deep is not None and writer.write(deep, b"deep")
    assert tmp_path.joinpath(*deep).read_bytes() == b"deep"
    # Deeper (or longer) names are not laid out at all: the tool's rules say they could not
    # judge the file, and the private folder can always be removed again.
    assert safe_relpath("/".join(["d"] * MAX_PATH_DEPTH + ["x.ts"])) is None
    assert safe_relpath("/".join(["abcdefghij" * 20] * 16)) is None
    assert writer.write(("settings",), b"a file")
    # A later name that needs that file to be a folder is refused, not a crash.
    assert not writer.write(("settings", "inside.ts"), b"x")
    assert (tmp_path / "settings").read_bytes() == b"a file"
