"""Rule entries, checked against their check kind: full definitions and re-tunings (overrides).

A rule entry is the same shape in a pack and inline in ``.github/prgate.yml``: ``check``,
``level``, ``title``, ``why``, ``fix``, then the check kind's parameters, flat. An override of an
existing rule holds only ``level`` and that rule's parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from prgate.checks import CheckKind, Params, Rule, registry
from prgate.config.messages import (
    Loc,
    check_keys,
    from_validation,
    raise_all,
    suggest,
)
from prgate.config.schema import OVERRIDE_KEYS, RULE_ID_PATTERN, RULE_KEYS, Override, RuleTexts
from prgate.config.yamlsafe import YamlDoc
from prgate.errors import ConfigError

_RULE_ID = re.compile(RULE_ID_PATTERN)


@dataclass(frozen=True)
class RuleSpec:
    """A rule together with its parameters as written, so that it can be re-tuned later."""

    rule: Rule
    raw: Mapping[str, Any]


def kinds() -> Mapping[str, CheckKind]:
    return registry()


def param_names(kind: CheckKind) -> list[str]:
    return list(kind.params.model_fields)


def check_rule_id(doc: YamlDoc, loc: Loc, rule_id: str) -> ConfigError | None:
    if _RULE_ID.match(rule_id):
        return None
    return doc.error(
        f"`{rule_id}` is not a valid rule id.",
        (*loc, rule_id),
        key=True,
        hint=(
            "A rule id is a group and a name joined by `/`, made of letters, digits, `-` and "
            "`_`, for example `team/no-todo`."
        ),
    )


def parse_definition(
    doc: YamlDoc,
    loc: Loc,
    rule_id: str,
    settings: Mapping[str, Any],
    *,
    origin: str,
    extra_keys: Sequence[str] = (),
) -> RuleSpec:
    """A full rule: ``check``, ``level``, texts and the kind's parameters.

    ``loc`` is where the rule's mapping sits in ``doc``; ``extra_keys`` are further keys the
    caller handles itself (``cases`` in a pack).
    """
    at = (*loc, rule_id)
    errors: list[ConfigError] = []
    bad_id = check_rule_id(doc, loc, rule_id)
    if bad_id:
        errors.append(bad_id)
    kind = _kind_of(doc, at, settings.get("check"))
    if isinstance(kind, ConfigError):
        raise_all([*errors, kind])
        raise kind  # pragma: no cover - raise_all raised
    fields = param_names(kind)
    allowed = [*RULE_KEYS, *fields, *extra_keys]
    errors.extend(check_keys(doc, at, dict(settings), allowed))
    texts: RuleTexts | None = None
    try:
        given = {k: settings[k] for k in RULE_KEYS if k in settings}
        if kind.default_level is not None:
            given.setdefault("level", kind.default_level)
        texts = RuleTexts.model_validate(given)
    except ValidationError as exc:
        errors.extend(from_validation(exc, doc, prefix=at, model=RuleTexts))
    raw = {k: v for k, v in settings.items() if k in fields}
    params = _params(doc, at, kind, raw, errors)
    raise_all(errors)
    assert texts is not None and params is not None
    rule = Rule(
        id=rule_id,
        check=kind.name,
        level=texts.level,
        title=texts.title,
        why=texts.why,
        fix=texts.fix,
        params=params,
        origin=origin,
    )
    return RuleSpec(rule=rule, raw=raw)


def apply_override(
    doc: YamlDoc, loc: Loc, spec: RuleSpec, settings: Mapping[str, Any], *, origin: str
) -> RuleSpec:
    """Re-tune ``spec``: a new level and/or parameters, replacing those given (not merging)."""
    at = (*loc, spec.rule.id)
    kind = kinds().get(spec.rule.check)
    if kind is None:
        raise doc.error(f"The rule `{spec.rule.id}` uses an unknown check kind.", at)
    fields = param_names(kind)
    errors = check_keys(doc, at, dict(settings), [*OVERRIDE_KEYS, *fields])
    if "check" in settings or any(k in settings for k in ("title", "why", "fix")):
        errors = [e for e in errors if not _about_rule_keys(e)]
        errors.insert(
            0,
            doc.error(
                f"`{spec.rule.id}` is already a rule ({spec.rule.origin}), so it can only be "
                "re-tuned here: its `level` and its parameters.",
                at,
                key=True,
                hint=(
                    "Remove `check`, `title`, `why` and `fix`, or give your own rule a new id "
                    "such as `team/" + spec.rule.id.split("/")[-1] + "`."
                ),
            ),
        )
    level = spec.rule.level
    try:
        override = Override.model_validate({k: settings[k] for k in OVERRIDE_KEYS if k in settings})
        level = override.level or level
    except ValidationError as exc:
        errors.extend(from_validation(exc, doc, prefix=at, model=Override))
    raw = {**spec.raw, **{k: v for k, v in settings.items() if k in fields}}
    params = _params(doc, at, kind, raw, errors)
    raise_all(errors)
    assert params is not None
    rule = replace(spec.rule, level=level, params=params, origin=f"{spec.rule.origin}; {origin}")
    return RuleSpec(rule=rule, raw=raw)


def with_params(doc: YamlDoc, loc: Loc, spec: RuleSpec, overrides: Mapping[str, Any]) -> Params:
    """``spec``'s parameters with ``overrides`` applied (a test case's ``params``)."""
    kind = kinds()[spec.rule.check]
    errors = check_keys(doc, loc, dict(overrides), param_names(kind))
    params = _params(doc, loc, kind, {**spec.raw, **overrides}, errors)
    raise_all(errors)
    assert params is not None
    return params


def _about_rule_keys(err: ConfigError) -> bool:
    return any(f"`{k}` is not" in err.reason for k in ("check", "title", "why", "fix"))


def _kind_of(doc: YamlDoc, at: Loc, name: Any) -> CheckKind | ConfigError:
    available = sorted(kinds())
    listed = ", ".join(f"`{k}`" for k in available)
    if name is None:
        return doc.error(
            "This rule has no `check`: say which check kind it uses.",
            at,
            key=True,
            hint=f"The check kinds are: {listed}.",
        )
    kind = kinds().get(name) if isinstance(name, str) else None
    if kind is not None:
        return kind
    reason = f"`{name}` is not a check kind."
    nearest = suggest(str(name), available)
    if nearest:
        reason += f" Did you mean `{nearest}`?"
    return doc.error(reason, (*at, "check"), hint=f"The check kinds are: {listed}.")


def _params(
    doc: YamlDoc, at: Loc, kind: CheckKind, raw: Mapping[str, Any], errors: list[ConfigError]
) -> Params | None:
    try:
        return kind.params.model_validate(dict(raw))
    except ValidationError as exc:
        errors.extend(from_validation(exc, doc, prefix=at, model=kind.params))
    except Exception as exc:  # a parameter model that fails in another way is still a config error
        errors.append(
            doc.error(
                f"The parameters of this `{kind.name}` rule cannot be used "
                f"({type(exc).__name__}: {exc}).",
                at,
            )
        )
    return None
