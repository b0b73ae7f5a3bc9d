"""Rule packs: the built-in ones shipped in ``rules/``, a repo's own from ``.github/prgate/``.

Also runs the test cases that ship beside every rule (``prgate rules test``) and generates the
README's rule reference (``python -m prgate.packs --reference``).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, cast

import prgate
from prgate.checks import Rule, registry
from prgate.config import Config
from prgate.config.messages import all_errors
from prgate.config.packfile import Case, Expectation, Pack, PackRule, parse_pack
from prgate.errors import ConfigError
from prgate.model import ChangeSet, Finding, Report

__all__ = [
    "BUILTIN_ORDER",
    "Case",
    "CaseResult",
    "Expectation",
    "Pack",
    "PackRule",
    "builtin_dir",
    "builtin_names",
    "format_case_results",
    "load_builtin",
    "load_pack_file",
    "load_targets",
    "parse_pack",
    "reference_markdown",
    "run_case",
    "run_cases",
    "run_pack_targets",
]

#: The contract's built-in packs, in the order the reference lists them.
BUILTIN_ORDER: tuple[str, ...] = (
    "python-style",
    "safe-zones",
    "feature-flags",
    "hygiene",
    "web-style",
    "coordination",
)
#: The packs used when a repository has no config at all.
DEFAULT_PACKS: tuple[str, ...] = ("python-style", "web-style", "hygiene")
PACK_SUFFIXES: tuple[str, ...] = (".yml", ".yaml")

REFERENCE_START = "<!-- rules:start -->"
REFERENCE_END = "<!-- rules:end -->"
REFERENCE_COMMAND = "python -m prgate.packs --reference --write README.md"


def builtin_dir() -> Path:
    """Where the built-in packs are: inside the installed package, else the source checkout."""
    shipped = Path(prgate.__file__).parent / "rules"
    if shipped.is_dir():
        return shipped
    return Path(prgate.__file__).resolve().parents[2] / "rules"


def builtin_names() -> list[str]:
    """Names of the built-in packs: the contract's four first, then any others by name."""
    found = {p.stem for p in builtin_dir().glob("*.yml")}
    return [n for n in BUILTIN_ORDER if n in found] + sorted(found - set(BUILTIN_ORDER))


@functools.cache
def load_builtin(name: str) -> Pack:
    path = builtin_dir() / f"{name}.yml"
    if not path.is_file():
        raise ConfigError(
            f"There is no built-in pack `{name}`.",
            hint="The built-in packs are: " + ", ".join(builtin_names()) + ".",
        )
    return parse_pack(path.read_bytes(), file=f"rules/{name}.yml", builtin=True, expected_name=name)


def load_pack_file(path: Path, *, builtin: bool = False) -> Pack:
    """A pack from a file on disk (``prgate rules test PATH``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"The pack file cannot be read: {exc.strerror or exc}.", file=str(path)
        ) from None
    return parse_pack(data, file=str(path), builtin=builtin, expected_name=path.stem)


def load_targets(targets: Sequence[str], *, cwd: Path | None = None) -> list[Pack]:
    """Packs named on the ``rules test`` command line: pack names, pack files or folders.

    No target means every built-in pack. A folder means every ``*.yml`` pack in it (for example
    ``.github/prgate``). Raises :class:`ConfigError` listing every pack that cannot be read.
    """
    base = cwd or Path.cwd()
    if not targets:
        targets = builtin_names()
        if not targets:
            raise ConfigError(f"No built-in packs were found in {builtin_dir()}.")
    packs: list[Pack] = []
    errors: list[ConfigError] = []
    for target in targets:
        try:
            packs.extend(_load_target(target, base))
        except ConfigError as exc:
            errors.extend(all_errors(exc))
    if errors:
        from prgate.config.messages import raise_all

        raise_all(errors)
    return packs


def _load_target(target: str, base: Path) -> list[Pack]:
    path = base / target
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in PACK_SUFFIXES and p.is_file())
        if not files:
            raise ConfigError(f"The folder {target} holds no pack files (*.yml).", file=target)
        return [load_pack_file(p) for p in files]
    if path.is_file():
        return [load_pack_file(path)]
    if target in builtin_names():
        return [load_builtin(target)]
    local = base / ".github" / "prgate" / f"{target}.yml"
    if local.is_file():
        return [load_pack_file(local)]
    raise ConfigError(
        f"`{target}` is neither a pack file, a folder of packs, nor a pack name.",
        hint="Built-in packs: " + ", ".join(builtin_names()) + ".",
    )


# --- running the cases -----------------------------------------------------------------------


class _FileFix(Protocol):
    path: str
    content: bytes


class _ComputeFixes(Protocol):
    def __call__(
        self, changeset: ChangeSet, config: Config, report: Report, /
    ) -> Sequence[_FileFix]: ...


@dataclass(frozen=True)
class CaseResult:
    pack: str
    rule: str
    case: str
    passed: bool
    #: What went wrong, one line each; empty when the case passed.
    problems: tuple[str, ...] = ()
    #: Where the case is written: ``rules/hygiene.yml:40``.
    where: str = ""
    #: A note that does not fail the run (a repo pack's rule without cases), not a case.
    warning: bool = False

    @property
    def label(self) -> str:
        return f"{self.rule}: {self.case}"

    def describe(self) -> str:
        status = "WARN" if self.warning else "PASS" if self.passed else "FAIL"
        head = f"{status} {self.label}"
        if self.where:
            head += f" ({self.where})"
        return "\n".join([head, *(f"    {p}" for p in self.problems)])


def run_cases(pack: Pack) -> list[CaseResult]:
    """Run every case of every rule of ``pack``; a rule without cases also fails (as a warning
    for a repo's own pack: see :attr:`Pack.warnings`)."""
    results = []
    for pack_rule in pack.rules:
        for case in pack_rule.cases:
            results.append(run_case(pack, pack_rule, case))
    return results


def run_pack_targets(targets: Sequence[str], *, cwd: Path | None = None) -> list[CaseResult]:
    """``prgate rules test``: the cases of the packs named (built-in ones when none is).

    A repo pack's rule that lacks cases gives a warning result (``passed`` stays true). Raises
    :class:`ConfigError` when a pack cannot be read.
    """
    results: list[CaseResult] = []
    for pack in load_targets(targets, cwd=cwd):
        for warning in pack.warnings:
            rule_id = next(
                (pr.rule.id for pr in pack.rules if f"`{pr.rule.id}`" in warning.reason), ""
            )
            results.append(
                CaseResult(
                    pack=pack.name,
                    rule=rule_id or pack.name,
                    case="test cases",
                    passed=True,
                    problems=(f"{warning.reason} {warning.hint or ''}".strip(),),
                    where=f"{pack.file}:{warning.line}" if warning.line else pack.file,
                    warning=True,
                )
            )
        results.extend(run_cases(pack))
    return results


def format_case_results(results: Sequence[CaseResult]) -> str:
    """The report of ``prgate rules test``: one line per case, details under each failure."""
    lines: list[str] = []
    current = None
    for result in results:
        if result.pack != current:
            current = result.pack
            lines.append(f"pack {result.pack}")
        lines.append("  " + result.describe().replace("\n", "\n  "))
    failed = sum(1 for r in results if not r.passed)
    passed = sum(1 for r in results if r.passed and not r.warning)
    warned = sum(1 for r in results if r.warning)
    summary = f"{passed} case(s) passed, {failed} failed"
    if warned:
        summary += f", {warned} warning(s)"
    lines.append(summary + ".")
    return "\n".join(lines) + "\n"


def run_case(pack: Pack, pack_rule: PackRule, case: Case) -> CaseResult:
    rule = _rule_for_case(pack_rule.rule, case)
    config = Config(rules=(rule,), source=f"{pack.label}, case {case.name!r}")
    changeset = _changeset(case)
    where = f"{pack.file}:{case.line}" if case.line else pack.file
    result = CaseResult(pack=pack.name, rule=rule.id, case=case.name, passed=True, where=where)
    from prgate.engine import evaluate

    reviewer = None
    if case.answer is not None:  # an llm rule's case: the scripted answer, through the real checks
        from prgate.llm.replay import replay_session

        reviewer = replay_session(case.answer)
    try:
        report = evaluate(changeset, config, reviewer=reviewer)
    except Exception as exc:  # a broken check must show up as a failed case, not a crash
        return replace(result, passed=False, problems=(f"the engine failed: {exc!r}",))
    problems = _compare_findings(rule.id, case.expect, report.findings)
    problems.extend(f"skipped: {s.reason}" for s in report.skipped if s.rule == rule.id)
    if case.fixed is not None:
        problems.extend(_compare_fixes(changeset, config, report, case.fixed))
    return replace(result, passed=not problems, problems=tuple(problems))


def _rule_for_case(rule: Rule, case: Case) -> Rule:
    # A rule that is off by default is still tested: its cases say what it finds once enabled.
    level = rule.level if rule.level != "off" else "error"
    return replace(rule, params=case.params, level=level)


def _changeset(case: Case) -> ChangeSet:
    from prgate.sources.memory import changeset_from_files

    changeset = changeset_from_files(
        case.files, labels=case.labels, author=case.author, head_files=dict(case.head_files)
    )
    return replace(changeset, approvals=case.approvals, open_pulls=case.open_pulls)


def _compare_findings(
    rule_id: str, expect: Sequence[Expectation], findings: Iterable[Finding]
) -> list[str]:
    mine = [f for f in findings if f.rule == rule_id]
    wanted = Counter((e.path, e.line) for e in expect)
    got = Counter((f.path, f.line) for f in mine)
    problems = []
    for key in sorted(wanted - got, key=_sort_key):
        problems.append(f"expected a finding at {Expectation(*key).describe()}, but got none")
    for key in sorted(got - wanted, key=_sort_key):
        message = next(f.message for f in mine if (f.path, f.line) == key)
        problems.append(
            f"unexpected finding at {Expectation(*key).describe()}: {_shorten(message)}"
        )
    return problems


def _sort_key(key: tuple[str | None, int | None]) -> tuple[str, int]:
    return (key[0] or "", key[1] or 0)


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _compare_fixes(
    changeset: ChangeSet, config: Config, report: Report, fixed: Mapping[str, str]
) -> list[str]:
    try:
        module = importlib.import_module("prgate.fixes")
        compute = cast(_ComputeFixes, module.compute_fixes)
    except (ImportError, AttributeError):
        return ["this case expects fixed files, but prgate.fixes.compute_fixes is not available"]
    try:
        produced = {f.path: f.content for f in compute(changeset, config, report)}
    except Exception as exc:
        return [f"computing the fixes failed: {exc!r}"]
    problems = []
    for path in sorted(set(fixed) | set(produced)):
        want = fixed.get(path)
        got = produced.get(path)
        if got is None:
            problems.append(f"expected a fix of {path}, but none was produced")
        elif want is None:
            problems.append(f"unexpected fix of {path}")
        elif got != want.encode("utf-8"):
            problems.append(f"the fix of {path} differs from `fixed`:\n{_diff(want, got)}")
    return problems


def _diff(want: str, got: bytes) -> str:
    import difflib

    lines = difflib.unified_diff(
        want.splitlines(keepends=True),
        got.decode("utf-8", errors="replace").splitlines(keepends=True),
        fromfile="expected",
        tofile="produced",
    )
    return "".join("      " + line for line in lines).rstrip("\n")


# --- the rule reference ----------------------------------------------------------------------


def reference_markdown() -> str:
    """The README's rule reference, generated from the built-in packs."""
    out: list[str] = []
    kinds = registry()
    for name in builtin_names():
        pack = load_builtin(name)
        out.append(f"### Pack `{pack.name}`\n")
        out.append(f"{pack.description}\n")
        for pr in pack.rules:
            rule = pr.rule
            out.append(f"#### `{rule.id}`: {rule.title}\n")
            kind = kinds.get(rule.check)
            summary = f" ({kind.summary.rstrip('.')})" if kind and kind.summary else ""
            out.append(f"Default level: `{rule.level}`. Check kind: `{rule.check}`{summary}.\n")
            out.append(f"**Why it matters.** {rule.why}\n")
            out.append(f"**How to fix.** {rule.fix}\n")
            params = _param_rows(pr)
            if params:
                out.append("| parameter | default | meaning |\n| --- | --- | --- |")
                out.extend(params)
                out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _param_rows(pr: PackRule) -> list[str]:
    rows = []
    model = type(pr.rule.params)
    values = pr.rule.params.model_dump(mode="json")
    docs = _field_docs(model)
    for field_name, info in model.model_fields.items():
        value = pr.spec.raw.get(field_name, values.get(field_name))
        meaning = info.description or docs.get(field_name, "")
        meaning = " ".join(meaning.split()).replace("|", "\\|")
        rows.append(f"| `{field_name}` | `{_show(value)}` | {meaning} |")
    return rows


def _field_docs(model: type) -> dict[str, str]:
    """The ``#:`` comments written above each field of a parameters model (and its bases)."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        try:
            lines, _ = inspect.getsourcelines(cls)
        except (OSError, TypeError):
            continue
        comment: list[str] = []
        for line in lines:
            text = line.strip()
            if text.startswith("#:"):
                comment.append(text[2:].strip())
                continue
            match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:", text)
            if match and comment and line.startswith((" ", "\t")):
                docs[match.group(1)] = " ".join(comment)
            comment = []
    return docs


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str).replace("|", "\\|")


def replace_reference(readme: str, reference: str) -> str:
    """``readme`` with the text between the reference markers replaced by ``reference``."""
    start = readme.find(REFERENCE_START)
    end = readme.find(REFERENCE_END)
    if start < 0 or end < start:
        raise ValueError(f"the file has no {REFERENCE_START} … {REFERENCE_END} section")
    head = readme[: start + len(REFERENCE_START)]
    return f"{head}\n{reference}{readme[end:]}"


def reference_section(readme: str) -> str | None:
    start = readme.find(REFERENCE_START)
    end = readme.find(REFERENCE_END)
    if start < 0 or end < start:
        return None
    return readme[start + len(REFERENCE_START) : end].lstrip("\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prgate.packs")
    parser.add_argument("--reference", action="store_true", help="print the rule reference")
    parser.add_argument("--write", metavar="FILE", help="replace the reference section of FILE")
    args = parser.parse_args(argv)
    if not args.reference:
        parser.print_help()
        return 2
    try:
        text = reference_markdown()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.write:
        path = Path(args.write)
        try:
            path.write_text(replace_reference(path.read_text(encoding="utf-8"), text), "utf-8")
        except (OSError, ValueError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 2
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
