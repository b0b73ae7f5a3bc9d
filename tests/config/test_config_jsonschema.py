"""The shipped JSON Schema of .github/prgate.yml: generated, pinned, and useful to editors."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import jsonschema
import pytest
import yaml

from prgate.config.jsonschema import REGENERATE, SCHEMA_FILE, build_schema, render
from prgate.packs import builtin_names, load_builtin


def test_shipped_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        f"src/prgate/config/prgate.schema.json is out of date: run `{REGENERATE}`"
    )


def test_module_prints_the_schema() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prgate.config.jsonschema"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == build_schema()


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = build_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


CONTRACT_EXAMPLE = """\
extends: my-org/.github
packs: [python-style, safe-zones, feature-flags, hygiene]
rules:
  paths/forbidden:
    level: error
    paths: ["infra/**", ".github/workflows/**"]
  team/no-todo:
    check: pattern
    level: warning
    pattern: 'TODO(?:[^(]|$)'
    paths: ["**/*.py"]
    title: "TODO without a ticket"
    why: "..."
    fix: "..."
autofix: {enabled: true}
llm: {enabled: false}
"""


def test_the_contract_example_is_valid(validator: Any) -> None:
    assert list(validator.iter_errors(yaml.safe_load(CONTRACT_EXAMPLE))) == []


@pytest.mark.parametrize(
    "config",
    [
        {"packz": []},
        {"rules": {"paths/forbidden": {"levle": "error"}}},
        {"rules": {"paths/forbidden": {"level": "fatal"}}},
        {"rules": {"team/x": {"check": "pattern", "level": "error"}}},
        {"rules": {"notanid": {"level": "error"}}},
        {"autofix": {"enabled": "yes"}},
        {"extends": "not a repo"},
    ],
)
def test_mistakes_are_caught_by_the_schema(validator: Any, config: dict[str, Any]) -> None:
    assert list(validator.iter_errors(config)) != []


def test_every_builtin_rule_completes_with_its_parameters() -> None:
    rules = build_schema()["properties"]["rules"]["properties"]
    for name in builtin_names():
        for pr in load_builtin(name).rules:
            props = rules[pr.rule.id]["properties"]
            assert "level" in props
            assert set(type(pr.rule.params).model_fields) <= set(props)
    assert "paths" in rules["paths/forbidden"]["properties"]
