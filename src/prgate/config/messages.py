"""Turning validation failures into plain-language errors that point at a line and column."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from prgate.config.yamlsafe import YamlDoc
from prgate.errors import ConfigError

Loc = tuple[str | int, ...]


class ConfigErrors(ConfigError):
    """Several problems found in one go; behaves as the first, and lists all."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        if not errors:
            raise ValueError("ConfigErrors needs at least one error")
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(
            first.reason, file=first.file, line=first.line, column=first.column, hint=first.hint
        )

    def describe(self) -> str:
        return "\n".join(e.describe() for e in getattr(self, "errors", ()))


def all_errors(exc: ConfigError) -> list[ConfigError]:
    return list(exc.errors) if isinstance(exc, ConfigErrors) else [exc]


def raise_all(errors: Sequence[ConfigError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigErrors(errors)


def suggest(word: str, choices: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key(
    doc: YamlDoc, loc: Loc, key: str, allowed: Sequence[str], *, what: str = "a setting here"
) -> ConfigError:
    """``levle`` is not a setting here. Did you mean ``level``?"""
    reason = f"`{key}` is not {what}."
    nearest = suggest(key, allowed)
    if nearest:
        reason += f" Did you mean `{nearest}`?"
    hint = (
        "The settings allowed here are: " + ", ".join(f"`{a}`" for a in allowed) + "."
        if allowed
        else "Nothing else may be set here."
    )
    return doc.error(reason, (*loc, key), key=True, hint=hint)


def check_keys(
    doc: YamlDoc, loc: Loc, data: dict[str, Any], allowed: Sequence[str]
) -> list[ConfigError]:
    return [unknown_key(doc, loc, str(k), allowed) for k in data if k not in allowed]


def from_validation(
    exc: ValidationError, doc: YamlDoc, *, prefix: Loc = (), model: type[BaseModel] | None = None
) -> list[ConfigError]:
    """One plain-language error per pydantic error, located in ``doc`` under ``prefix``."""
    details = exc.errors(include_url=False)
    # A misspelt required setting shows up twice (unknown key, missing key): say it once.
    misspelt = set()
    for err in details:
        loc = tuple(err["loc"])
        if err["type"] == "extra_forbidden" and loc and model is not None:
            nearest = suggest(str(loc[-1]), _fields_at(model, loc[:-1]))
            misspelt.add((*loc[:-1], nearest))
    out = []
    for err in details:
        loc = tuple(err["loc"])
        if err["type"] == "missing" and loc in misspelt:
            continue
        out.append(_one(err, doc, prefix, loc, model))
    return out


def _one(
    err: ErrorDetails, doc: YamlDoc, prefix: Loc, loc: Loc, model: type[BaseModel] | None
) -> ConfigError:
    kind = err["type"]
    full = (*prefix, *loc)
    name = _name(loc) or _name(prefix) or "this value"
    value = _show(err.get("input"))
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden" and loc:
        allowed = _fields_at(model, loc[:-1]) if model else []
        return unknown_key(doc, full[:-1], str(loc[-1]), allowed)
    if kind == "missing":
        return doc.error(
            f"`{name}` is missing here, and it is required.",
            full[:-1],
            hint=_missing_hint(name),
        )
    if kind == "literal_error":
        reason = f"{value} is not a valid `{name}`. Use one of: {ctx.get('expected', '')}."
    elif kind in ("string_type", "string_sub_type"):
        reason = f"`{name}` should be text, not {value}."
    elif kind in ("bool_type", "bool_parsing"):
        reason = f"`{name}` should be true or false, not {value}."
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        reason = f"`{name}` should be a whole number, not {value}."
    elif kind in ("list_type", "tuple_type", "set_type", "frozen_set_type"):
        reason = f"`{name}` should be a list, such as `[a, b]`, not {value}."
    elif kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        reason = f"`{name}` should be a mapping of settings (`name: value` lines), not {value}."
    elif kind in ("string_too_short", "too_short"):
        reason = f"`{name}` must not be empty."
    elif kind == "string_pattern_mismatch":
        reason = f"{value} is not a valid `{name}`: {_pattern_words(name)}"
    elif kind in ("value_error", "assertion_error"):
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        reason = f"`{name}`: {msg}" + ("" if msg.endswith((".", "!", "?")) else ".")
    else:
        reason = f"`{name}`: {err['msg'][:1].lower()}{err['msg'][1:]} (got {value})."
    return doc.error(reason, full)


def _name(loc: Loc) -> str | None:
    for step in reversed(loc):
        if isinstance(step, str) and "[" not in step:
            return step
    return None


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"`{text}`"


def _missing_hint(name: str) -> str:
    hints = {
        "check": "Name the check kind this rule uses, for example `check: pattern`.",
        "level": "Say how much the rule matters: `error`, `warning`, `notice` or `off`.",
        "title": "Write what is wrong, in plain words, for someone who does not read code.",
        "why": "Write why it matters, in plain words.",
        "fix": "Write what to do about it, as you would tell an AI agent.",
        "expect": "List the findings expected, or `[]` for a case that must pass.",
    }
    return hints.get(name, f"Add `{name}: ...` here.")


def _pattern_words(name: str) -> str:
    return {
        "extends": "name a repository as `owner/name`, for example `my-org/.github`.",
        "packs": "a pack name is letters, digits, `-` and `_`, like `hygiene`.",
        "pack": "a pack name is letters, digits, `-` and `_`, like `hygiene`.",
    }.get(name, "it does not have the expected form.")


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The setting names of the model reached by walking ``loc`` from ``model``."""
    current: Any = model
    for step in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(step))
            if info is None:
                return []
            current = info.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin in (dict, typing.Mapping) and len(args) == 2:
            current = args[1]
        elif origin in (list, tuple, set, frozenset) and args:
            current = args[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` to ``X``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp
