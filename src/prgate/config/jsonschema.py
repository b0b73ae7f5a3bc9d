"""The JSON Schema of ``.github/prgate.yml``, generated from the pydantic models.

Editors use it for completion and checking as you type (for example with the YAML language
server: ``# yaml-language-server: $schema=<url of prgate.schema.json>`` at the top of the file).
It knows every built-in rule and its parameters, so ``paths/forbidden: {paths: ...}`` completes.

``python -m prgate.config.jsonschema`` prints it; the shipped copy is ``prgate.schema.json`` next
to this module, and a test pins the two together.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from prgate.checks import CheckKind, Params, registry
from prgate.config.schema import LEVELS, RULE_ID_PATTERN, ConfigFile

SCHEMA_FILE = Path(__file__).with_name("prgate.schema.json")
REGENERATE = "python -m prgate.config.jsonschema > src/prgate/config/prgate.schema.json"

_TEXTS = {
    "title": "What is wrong, in plain words, for someone who does not read code.",
    "why": "Why it matters, in plain words.",
    "fix": "What to do about it, as you would tell an AI agent.",
}


def build_schema() -> dict[str, Any]:
    """The schema as a JSON-ready mapping (deterministic)."""
    from prgate.packs import builtin_names, load_builtin

    schema = ConfigFile.model_json_schema()
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    kinds = registry()
    params = _params_schemas(kinds, defs)
    level = {
        "enum": list(LEVELS),
        "description": "How much the rule matters: error blocks the merge, off disables it.",
    }

    overrides: dict[str, Any] = {}
    for name in builtin_names():
        for pr in load_builtin(name).rules:
            props, _required = params[pr.rule.check]
            overrides[pr.rule.id] = {
                "type": "object",
                "description": f"{pr.rule.title} (pack {name}, default level {pr.rule.level}).",
                "properties": {"level": level, **props},
                "additionalProperties": False,
            }
    inline = []
    for kind_name in sorted(kinds):
        props, required = params[kind_name]
        inline.append(
            {
                "type": "object",
                "title": f"A rule of your own using the `{kind_name}` check",
                "properties": {
                    "check": {"const": kind_name},
                    "level": level,
                    **{
                        k: {"type": "string", "minLength": 1, "description": v}
                        for k, v in _TEXTS.items()
                    },
                    **props,
                },
                "required": [
                    "check",
                    *([] if kinds[kind_name].default_level else ["level"]),
                    "title",
                    "why",
                    "fix",
                    *required,
                ],
                "additionalProperties": False,
            }
        )
    retune = {
        "type": "object",
        "title": "A rule of one of this repository's own packs, re-tuned",
        "properties": {"level": level},
        "not": {"required": ["check"]},
    }
    rules = schema["properties"]["rules"]
    rules.pop("additionalProperties", None)
    rules.update(
        {
            "type": "object",
            "propertyNames": {"pattern": RULE_ID_PATTERN},
            "properties": overrides,
            "additionalProperties": {"anyOf": [*inline, retune]},
        }
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "prgate config (.github/prgate.yml)"
    return schema


def _params_schemas(
    kinds: dict[str, CheckKind] | Any, defs: dict[str, Any]
) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """For each kind: its parameters' property schemas and required names."""
    models: list[type[Params]] = sorted({k.params for k in kinds.values()}, key=_model_key)
    keyed, top = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/$defs/{model}"
    )
    defs.update(top.get("$defs", {}))
    out = {}
    for name, kind in kinds.items():
        ref = keyed[(kind.params, "validation")]["$ref"].rsplit("/", 1)[-1]
        model_schema = defs[ref]
        out[name] = (
            dict(model_schema.get("properties", {})),
            list(model_schema.get("required", [])),
        )
    for kind in kinds.values():
        ref = keyed[(kind.params, "validation")]["$ref"].rsplit("/", 1)[-1]
        if not _referenced(defs, ref):
            defs.pop(ref, None)
    return out


def _referenced(defs: dict[str, Any], name: str) -> bool:
    needle = f'"#/$defs/{name}"'
    return any(needle in json.dumps(v) for k, v in defs.items() if k != name)


def _model_key(model: type[Params]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def render() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
