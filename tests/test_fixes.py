"""Fixes: ruff's safe fixes and formatting as new contents, and writing them to a tree safely."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from prgate.checks import Rule
from prgate.checks.ruff import ProcessResult, RuffParams, run_process
from prgate.config import Config
from prgate.engine import evaluate
from prgate.fixes import FileFix, FixError, apply_fixes, compute_fixes, fixed_contents
from prgate.model import ChangeSet
from prgate.sources.memory import FileSides, changeset_from_files

LINT = Rule(
    id="style/ruff-lint",
    check="ruff",
    level="error",
    title="mistake",
    why="why",
    fix="Fix it.",
    params=RuffParams(select=("F",)),
)
FORMAT = Rule(
    id="style/ruff-format",
    check="ruff",
    level="warning",
    title="format",
    why="why",
    fix="Format it.",
    params=RuffParams(format=True),
)


@dataclass
class CountingRunner:
    commands: list[str] = field(default_factory=list)

    def __call__(self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> ProcessResult:
        self.commands.append(args[1])
        return run_process(args, cwd=cwd, env=env)


def fixes_for(
    files: Mapping[str, FileSides],
    rules: Sequence[Rule] = (LINT,),
    *,
    base: Mapping[str, str] | None = None,
    runner: CountingRunner | None = None,
) -> tuple[ChangeSet, dict[str, FileFix]]:
    changeset = changeset_from_files(files, base_files=base)
    config = Config(rules=tuple(rules))
    report = evaluate(changeset, config)
    fixes = compute_fixes(changeset, config, report, runner=runner)
    return changeset, {f.path: f for f in fixes}


def test_lint_fixes_only_the_codes_of_findings_on_changed_lines() -> None:
    base = "import sys\nname = f'x'\n\nprint(sys)\n"
    head = "import os\nimport sys\nname = f'x'\n\nprint(sys)\n"
    rule = replace(LINT, params=RuffParams(select=("F401", "F541")))
    _, fixes = fixes_for({"a.py": FileSides(base, head)}, [rule])
    fix = fixes["a.py"]
    # F401 (added line) is fixed; F541 on an unchanged line is not.
    assert fix.content == b"import sys\nname = f'x'\n\nprint(sys)\n"
    assert fix.rules == ("style/ruff-lint",)
    assert fix.original == head.encode()
    assert "F401" in fix.description


def test_codes_are_kept_per_file_one_run_per_set_of_codes() -> None:
    rule = replace(LINT, params=RuffParams(select=("F401", "F541")))
    weird = "pkg/we[i]rd {x}/-b*.py"
    files = {
        "pkg/a.py": FileSides("X = f'a'\n", "import os\nX = f'a'\n"),
        weird: FileSides("import os\n", "import os\nY = f'b'\n"),
    }
    runner = CountingRunner()
    _, fixes = fixes_for(files, [rule], runner=runner)
    assert runner.commands == ["check", "check"]
    assert fixes["pkg/a.py"].content == b"X = f'a'\n"  # F401 only: its F541 stays
    assert fixes[weird].content == b"import os\nY = 'b'\n"  # F541 only: its F401 stays


def test_format_runs_on_the_ranges_found_then_lint_fixes() -> None:
    files = {
        "app/a.py": FileSides(None, "import os\nX = {'a':1}\n"),
        "app/b.py": FileSides(None, "Y = [1,2]\n"),
        "app/c.py": FileSides(None, "Z = 1\n"),
    }
    runner = CountingRunner()
    _, fixes = fixes_for(files, [LINT, FORMAT], runner=runner)
    # One formatting run per range (a.py's line 2, b.py's line 1), one lint run, then the
    # lines the lint fix changed in a.py are laid out too.
    assert runner.commands == ["format", "format", "check", "format"]
    assert fixes["app/a.py"].content == b'X = {"a": 1}\n'
    assert fixes["app/a.py"].rules == ("style/ruff-format", "style/ruff-lint")
    assert fixes["app/b.py"].content == b"Y = [1, 2]\n"
    assert set(fixes) == {"app/a.py", "app/b.py"}


def test_fixes_use_the_base_settings_not_the_heads() -> None:
    files = {
        "a.py": FileSides(None, 'X = "a"\n'),
        "pyproject.toml": FileSides(None, "[tool.ruff.format]\nquote-style = 'double'\n"),
    }
    base = {"ruff.toml": "[format]\nquote-style = 'single'\n"}
    _, fixes = fixes_for(files, [FORMAT], base=base)
    assert fixes["a.py"].content == b"X = 'a'\n"


def test_a_finding_behind_an_added_noqa_gets_no_fix() -> None:
    _, fixes = fixes_for({"a.py": FileSides(None, "import os  # noqa: F401\n")})
    assert fixes == {}


def test_no_fixable_findings_means_no_ruff_run() -> None:
    runner = CountingRunner()
    _, fixes = fixes_for({"a.py": FileSides(None, "x = undefined_name\n")}, runner=runner)
    assert fixes == {}
    assert runner.commands == []


def test_fixed_contents_is_a_mapping_for_a_commit() -> None:
    _, fixes = fixes_for({"a.py": FileSides(None, "import os\nX = 1\n")})
    assert fixed_contents(fixes.values()) == {"a.py": b"X = 1\n"}


# --- writing to a working tree ---------------------------------------------------------------


def a_fix(path: str, content: bytes = b"new\n", original: bytes | None = None) -> FileFix:
    return FileFix(
        path=path,
        content=content,
        rules=("style/ruff-format",),
        description="reformatted",
        original=original,
    )


def test_apply_writes_the_file_keeps_its_mode_and_says_what_changed(tmp_path: Path) -> None:
    target = tmp_path / "my dir" / "-ü.py"
    target.parent.mkdir()
    target.write_bytes(b"old\n")
    target.chmod(0o755)
    changed = apply_fixes(tmp_path, [a_fix("my dir/-ü.py", original=b"old\n")])
    assert changed == ["my dir/-ü.py: reformatted"]
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert sorted(os.listdir(target.parent)) == ["-ü.py"]  # no temporary file left behind
    assert apply_fixes(tmp_path, [a_fix("my dir/-ü.py")]) == []  # already applied


def test_apply_refuses_a_symlinked_file_and_writes_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_bytes(b"secret\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ok.py").write_bytes(b"old\n")
    (root / "link.py").symlink_to(outside)
    with pytest.raises(FixError, match="symbolic link"):
        apply_fixes(root, [a_fix("ok.py"), a_fix("link.py")])
    assert outside.read_bytes() == b"secret\n"
    assert (root / "ok.py").read_bytes() == b"old\n"


def test_apply_refuses_a_symlinked_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.py").write_bytes(b"old\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pkg").symlink_to(outside, target_is_directory=True)
    with pytest.raises(FixError, match="symbolic link"):
        apply_fixes(root, [a_fix("pkg/a.py")])
    assert (outside / "a.py").read_bytes() == b"old\n"


@pytest.mark.parametrize("path", ["../escape.py", "/etc/passwd", "a/../../b.py", "./a.py", ""])
def test_apply_refuses_paths_that_leave_the_tree(tmp_path: Path, path: str) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "escape.py").write_bytes(b"old\n")
    with pytest.raises(FixError, match="not a plain path"):
        apply_fixes(root, [a_fix(path)])
    assert (tmp_path / "escape.py").read_bytes() == b"old\n"


def test_apply_refuses_a_file_edited_since_the_check(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes(b"edited by hand\n")
    with pytest.raises(FixError, match="changed since"):
        apply_fixes(tmp_path, [a_fix("a.py", original=b"old\n")])
    assert (tmp_path / "a.py").read_bytes() == b"edited by hand\n"


def test_apply_refuses_a_missing_file_or_a_folder(tmp_path: Path) -> None:
    (tmp_path / "d.py").mkdir()
    with pytest.raises(FixError, match="no longer exists"):
        apply_fixes(tmp_path, [a_fix("gone.py")])
    with pytest.raises(FixError, match="not a regular file"):
        apply_fixes(tmp_path, [a_fix("d.py")])


def test_computed_fixes_applied_to_a_tree(tmp_path: Path) -> None:
    head = "import os\nX = {'a':1}\n"
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text(head)
    _, fixes = fixes_for({"app/a.py": FileSides(None, head)}, [LINT, FORMAT])
    changed = apply_fixes(tmp_path, list(fixes.values()))
    assert changed == [
        "app/a.py: applied ruff's safe fixes for F401 and reformatted the lines the change added"
    ]
    assert (tmp_path / "app" / "a.py").read_text() == 'X = {"a": 1}\n'


def test_the_description_says_only_what_was_done() -> None:
    _, fixes = fixes_for({"a.py": FileSides(None, 'x = f"a"\n')}, [LINT, FORMAT])
    assert fixes["a.py"].content == b'x = "a"\n'
    assert fixes["a.py"].description == "applied ruff's safe fixes for F541"
