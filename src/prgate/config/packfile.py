"""Reading one rule pack file: its rules and the test cases that ship beside each rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from prgate.checks import Params, Rule
from prgate.config.messages import all_errors, from_validation, raise_all
from prgate.config.rules import RuleSpec, parse_definition, with_params
from prgate.config.schema import CaseSpec, PackFile
from prgate.config.yamlsafe import YamlDoc, load_yaml
from prgate.errors import ConfigError
from prgate.model import Approvals, CodeOwnersFile, OpenPull, Review
from prgate.sources.memory import FileSides


@dataclass(frozen=True)
class Expectation:
    """A finding a case expects: a path and a line (``None``: about the whole file or PR)."""

    path: str | None
    line: int | None

    def describe(self) -> str:
        where = self.path or "(the whole change)"
        return where if self.line is None else f"{where}:{self.line}"


@dataclass(frozen=True)
class Case:
    """One test case of a rule: a change, and the findings the rule must report for it."""

    name: str
    files: Mapping[str, FileSides]
    expect: tuple[Expectation, ...]
    params: Params
    labels: tuple[str, ...] = ()
    head_files: Mapping[str, str] = field(default_factory=dict)
    #: Expected file contents after ``prgate fix``; ``None`` when the case does not check fixes.
    fixed: Mapping[str, str] | None = None
    line: int | None = None
    #: For an ``llm`` rule: the model's scripted findings (``None``: no reviewer in the case).
    answer: tuple[Any, ...] | None = None
    author: str | None = None
    #: Scripted reviews, commit authors, code owners and teams (``None``: none given).
    approvals: Approvals | None = None
    #: The repository's other open pull requests (``None``: not known, as locally).
    open_pulls: tuple[OpenPull, ...] | None = None

    @property
    def flags(self) -> bool:
        return bool(self.expect)


@dataclass(frozen=True)
class PackRule:
    spec: RuleSpec
    cases: tuple[Case, ...]
    line: int | None = None

    @property
    def rule(self) -> Rule:
        return self.spec.rule


@dataclass(frozen=True)
class Pack:
    name: str
    description: str
    rules: tuple[PackRule, ...]
    #: The file it was read from, for messages.
    file: str
    builtin: bool
    #: Problems that do not stop the pack from being used (a repo pack's rule without cases).
    warnings: tuple[ConfigError, ...] = ()

    def rule(self, rule_id: str) -> PackRule | None:
        for r in self.rules:
            if r.rule.id == rule_id:
                return r
        return None

    @property
    def label(self) -> str:
        return f"pack {self.name}" + ("" if self.builtin else f" ({self.file})")


def parse_pack(
    data: bytes | str, *, file: str, builtin: bool, expected_name: str | None = None
) -> Pack:
    """Parse and check a pack. Raises :class:`ConfigError` (possibly several at once)."""
    doc = load_yaml(data, file=file, trusted=builtin)
    if not isinstance(doc.data, dict):
        raise doc.error(
            "A rule pack must be a mapping with `pack`, `description` and `rules`.",
            hint="See the pack format in prgate's README.",
        )
    try:
        model = PackFile.model_validate(doc.data)
    except ValidationError as exc:
        raise_all(from_validation(exc, doc, model=PackFile))
        raise  # pragma: no cover - raise_all raised
    if expected_name is not None and model.pack != expected_name:
        raise doc.error(
            f"This pack is named `{model.pack}` but its file is named `{expected_name}`.",
            ("pack",),
            hint="Use the same name for both, so that `packs:` can find it.",
        )
    origin = f"pack {model.pack}"
    errors: list[ConfigError] = []
    warnings: list[ConfigError] = []
    rules: list[PackRule] = []
    for rule_id, settings in model.rules.items():
        try:
            rules.append(
                _pack_rule(doc, rule_id, settings, origin=origin, builtin=builtin, notes=warnings)
            )
        except ConfigError as exc:
            errors.extend(all_errors(exc))
    if builtin:
        errors.extend(warnings)
        warnings = []
    raise_all(errors)
    return Pack(
        name=model.pack,
        description=model.description,
        rules=tuple(rules),
        file=file,
        builtin=builtin,
        warnings=tuple(warnings),
    )


def _pack_rule(
    doc: YamlDoc,
    rule_id: str,
    settings: dict[str, Any],
    *,
    origin: str,
    builtin: bool,
    notes: list[ConfigError],
) -> PackRule:
    loc = ("rules",)
    spec = parse_definition(doc, loc, rule_id, settings, origin=origin, extra_keys=("cases",))
    at = (*loc, rule_id)
    raw_cases = settings.get("cases", [])
    if not isinstance(raw_cases, list):
        raise doc.error("`cases` should be a list of test cases.", (*at, "cases"))
    errors: list[ConfigError] = []
    cases: list[Case] = []
    for i, raw in enumerate(raw_cases):
        try:
            cases.append(_case(doc, (*at, "cases", i), spec, raw))
        except ConfigError as exc:
            errors.extend(all_errors(exc))
    raise_all(errors)
    missing = []
    if not any(c.flags for c in cases):
        missing.append("a case it must flag (with findings under `expect`)")
    if not any(not c.flags for c in cases):
        missing.append("a case it must pass (with `expect: []`)")
    if missing:
        notes.append(
            doc.error(
                f"The rule `{rule_id}` lacks " + " and ".join(missing) + ".",
                at,
                key=True,
                hint=(
                    "Every rule ships test cases beside it, so that `prgate rules test` shows "
                    "it finds what it should and nothing else."
                ),
            )
        )
    line = doc.locate(at, key=True)
    return PackRule(spec=spec, cases=tuple(cases), line=line[0] if line else None)


def _case(doc: YamlDoc, at: tuple[str | int, ...], spec: RuleSpec, raw: Any) -> Case:
    try:
        case = CaseSpec.model_validate(raw)
    except ValidationError as exc:
        raise_all(from_validation(exc, doc, prefix=at, model=CaseSpec))
        raise  # pragma: no cover - raise_all raised
    params = with_params(doc, (*at, "params"), spec, case.params) if case.params else None
    files = {
        path: FileSides(base=sides.base, head=sides.head, old_path=sides.old_path)
        for path, sides in case.files.items()
    }
    where = doc.locate(at)
    return Case(
        name=case.name,
        files=files,
        expect=tuple(Expectation(path=e.path, line=e.line) for e in case.expect),
        params=params if params is not None else spec.rule.params,
        labels=tuple(case.labels),
        head_files=dict(case.head_files),
        fixed=dict(case.fixed) if case.fixed is not None else None,
        line=where[0] if where else None,
        answer=tuple(case.answer) if case.answer is not None else None,
        author=case.author,
        approvals=_approvals(case),
        open_pulls=None
        if case.open_pulls is None
        else tuple(OpenPull(o.number, o.title, tuple(sorted(o.paths))) for o in case.open_pulls),
    )


def _approvals(case: CaseSpec) -> Approvals | None:
    """The approvals a case scripts: a review with ``changed_since`` was given on an earlier
    commit, after which those files changed; other reviews are on the head commit."""
    if case.reviews is None and case.codeowners is None and not case.team_members:
        return None
    paths: dict[str, None] = {}
    for path, sides in case.files.items():
        paths[path] = None
        if sides.old_path:
            paths[sides.old_path] = None
    heads = {
        p: (f"head:{p}" if p in case.files and case.files[p].head is not None else None)
        for p in paths
    }
    oids: list[tuple[str, str, str | None]] = [("head", "", "head")]
    oids += [("head", p, o) for p, o in heads.items()]
    reviews: list[Review] = []
    for i, r in enumerate(case.reviews or ()):
        commit = f"commit{i + 1}" if r.changed_since else "head"
        if r.changed_since:
            oids.append((commit, "", commit))
            oids += [
                (commit, p, f"{commit}:{p}" if p in r.changed_since else o)
                for p, o in heads.items()
            ]
        reviews.append(Review(reviewer=r.by, state=r.state, commit=commit))
    return Approvals(
        head="head",
        reviews=tuple(reviews) if case.reviews is not None else None,
        contributors=frozenset(case.commit_authors),
        oids=tuple(oids),
        team_members=frozenset(
            (team.casefold(), login.casefold())
            for team, logins in case.team_members.items()
            for login in logins
        ),
        codeowners=CodeOwnersFile(".github/CODEOWNERS", case.codeowners)
        if case.codeowners is not None
        else None,
    )
