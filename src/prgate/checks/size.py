"""The ``size`` check kind: a change too large for a person to review well.

Counts changed files and changed lines (added plus removed). Files matching ``exclude`` are not
counted: lock files and generated or minified files are written by tools and are not read line by
line, so a dependency update does not make a small change “too large”. Binary files count as files
but add no lines. One finding for the whole pull request when a limit is passed.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.globs import Globs, compile_globs

#: Files written by package managers and build tools, not counted by default.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "*.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "pnpm-lock.yaml",
    "go.sum",
    "*.min.js",
    "*.min.css",
    "*.map",
    "*.snap",
    "__snapshots__/",
)


class SizeParams(Params):
    #: The most files a change may touch (`null`: no limit on files).
    max_files: int | None = Field(default=50, ge=1)
    #: The most lines a change may add plus remove (`null`: no limit on lines).
    max_lines: int | None = Field(default=1000, ge=1)
    #: Files not counted (gitignore-style patterns).
    exclude: Globs = DEFAULT_EXCLUDE


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    for rule in rules:
        params = rule.params
        assert isinstance(params, SizeParams)
        excluded = compile_globs(params.exclude)
        files = lines = skipped = 0
        for change in ctx.changeset.files:
            if excluded.matches(change.path) or (
                change.old_path is not None and excluded.matches(change.old_path)
            ):
                skipped += 1
                continue
            files += 1
            lines += change.added_lines + change.removed_lines
        too_many_files = params.max_files is not None and files > params.max_files
        too_many_lines = params.max_lines is not None and lines > params.max_lines
        if not (too_many_files or too_many_lines):
            continue
        limits = []
        if params.max_files is not None:
            limits.append(f"{params.max_files:,} files")
        if params.max_lines is not None:
            limits.append(f"{params.max_lines:,} changed lines")
        message = (
            f"This change touches {files:,} {_plural(files, 'file')} and changes {lines:,} "
            f"{_plural(lines, 'line')} (added plus removed); the team's limit is "
            f"{' and '.join(limits)}."
        )
        if skipped:
            message += (
                f" {skipped:,} lock or generated {_plural(skipped, 'file')} "
                f"{'was' if skipped == 1 else 'were'} not counted."
            )
        message += " Split it into smaller pull requests that can each be reviewed on their own."
        result.findings.append(rule.finding(path=None, message=message))
    return result


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else noun + "s"


KIND = CheckKind(
    name="size",
    params=SizeParams,
    run=run,
    summary=(
        "Reports a pull request that touches more than `max_files` files or changes more than "
        "`max_lines` lines (added plus removed), not counting files matching `exclude`."
    ),
)
