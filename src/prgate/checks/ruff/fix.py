"""Ruff's automatic fixes as new file contents, computed the way the team's ruff would apply
them: in a copy of the project laid out as for the check (the base's settings at their paths,
stand-ins for the head tree), with the team's excludes and ``# noqa`` comments honoured.

Formatting is applied only to the lines a formatting finding names (``ruff format --range``),
never to a whole file; lint fixes are ruff's *safe* fixes for the codes of the fixable findings
of each file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prgate.checks.ruff.batch import prepare
from prgate.checks.ruff.process import Workspace, run_process
from prgate.checks.ruff.settings import black_overrides, codes_of
from prgate.checks.tools import ProcessResult, Runner
from prgate.errors import CheckError
from prgate.model import ChangeSet


@dataclass
class FilePlan:
    """What to fix in one file: ruff codes, and head line ranges to format."""

    codes: set[str] = field(default_factory=set)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)


def ruff_fixed(
    changeset: ChangeSet,
    plans: Mapping[str, FilePlan],
    heads: Mapping[str, bytes],
    *,
    settings: Mapping[str, bytes | None],
    runner: Runner | None = None,
    format_after: bool = False,
) -> dict[str, tuple[bytes, bool]]:
    """``path -> (new contents, reformatted)`` for the files of ``plans`` (``heads``: their
    contents at head; ``settings``: the base's settings files). With ``format_after`` (a formatting rule is on), the lines a lint fix
    changed are laid out too, so that a fix never leaves a formatting finding behind."""
    run = runner or run_process
    out: dict[str, tuple[bytes, bool]] = {}
    with Workspace() as ws:
        prepare(ws, changeset, settings)
        targets: dict[str, Path] = {}
        for path, data in heads.items():
            target = ws.write(path, data)
            if target is not None:
                targets[path] = target
        env = ws.env()
        reformatted: set[str] = set()
        for path, target in targets.items():
            # Bottom to top, so that the lines above a range keep their numbers.
            for start, end in sorted(plans[path].ranges, reverse=True):
                before = ws.read(path)
                # Ruff's range ends at the start of its last line: up to the line after.
                options = ["--range", f"{start}-{end + 1}", *black_overrides(path, settings)]
                args = ws.args(["format"], [target], options=options, output_format=None)
                _expect_ok(run(args, cwd=ws.tree, env=env), "reformat the lines")
                if ws.read(path) != before:
                    reformatted.add(path)
        groups: dict[str, list[Path]] = {}
        for path, target in targets.items():
            if plans[path].codes:
                groups.setdefault(codes_of(plans[path].codes), []).append(target)
        before_lint = {p: ws.read(p) for p in targets}
        for codes, files in groups.items():
            args = ws.args(
                ["check", "--fix-only", "--no-unsafe-fixes"],
                files,
                options=["--select", codes],
                output_format=None,
            )
            _expect_ok(run(args, cwd=ws.tree, env=env), "apply its fixes")
        for path, target in targets.items() if format_after else ():
            after = ws.read(path)
            for start, end in sorted(_changed(before_lint[path], after), reverse=True):
                options = ["--range", f"{start}-{end + 1}", *black_overrides(path, settings)]
                args = ws.args(["format"], [target], options=options, output_format=None)
                _expect_ok(run(args, cwd=ws.tree, env=env), "reformat the lines")
            if ws.read(path) != after:
                reformatted.add(path)
        for path in targets:
            out[path] = (ws.read(path), path in reformatted)
    return out


def _changed(before: bytes, after: bytes) -> list[tuple[int, int]]:
    """Line ranges of ``after`` that differ from ``before`` (a deletion counts as a change of
    the line now in its place)."""
    old, new = before.splitlines(), after.splitlines()
    out = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal" and new:
            start = min(j1 + 1, len(new))
            out.append((start, max(start, min(j2, len(new)))))
    return out


def _expect_ok(result: ProcessResult, what: str) -> None:
    if result.returncode != 0:
        raise CheckError(f"ruff could not {what} (exit status {result.returncode})")


__all__: Sequence[str] = ("FilePlan", "ruff_fixed")
