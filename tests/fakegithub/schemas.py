"""Request and response shapes from GitHub's published REST description (the vendored subset).

The subset (``tests/fixtures/github-openapi/rest-subset.json``) is GitHub's 2022-11-28 description.
Where GitHub marks a schema with ``x-github-breaking-changes`` for a later version, the change is
applied (as a JSON merge patch) when that version, or a later one, is asked for, so that a client
speaking 2026-03-10 is checked against the 2026-03-10 shapes. OpenAPI 3.0's ``nullable`` is
translated to JSON Schema (``type: [T, "null"]``) and the result is checked with Draft 4 semantics,
the JSON Schema dialect OpenAPI 3.0 is based on.
"""

from __future__ import annotations

import copy
import json
import threading
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]

SUBSET_PATH = (
    Path(__file__).resolve().parent.parent / "fixtures" / "github-openapi" / "rest-subset.json"
)
BASE_VERSION = "2022-11-28"
SUPPORTED_VERSIONS = ("2022-11-28", "2026-03-10")


@cache
def load_subset() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SUBSET_PATH.read_text(encoding="utf-8"))
    return data


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def to_jsonschema(node: Any, version: str, *, in_properties: bool = False) -> Any:
    """Translate an OpenAPI 3.0 schema node to JSON Schema for ``version``."""
    if isinstance(node, list):
        return [to_jsonschema(v, version) for v in node]
    if not isinstance(node, dict):
        return node
    if in_properties:
        return {k: to_jsonschema(v, version) for k, v in node.items()}
    node = dict(node)
    changes = node.pop("x-github-breaking-changes", None) or []
    for change in sorted(changes, key=lambda c: c["version"]):
        if change["version"] <= version:
            node = merge_patch(node, change["patch"])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = to_jsonschema(value, version, in_properties=True)
        elif key in ("enum", "default", "example", "const"):
            out[key] = value
        else:
            out[key] = to_jsonschema(value, version)
    if out.pop("nullable", False):
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


class Shapes:
    """Validators for the subset's operations, for one API version."""

    def __init__(self, version: str = BASE_VERSION) -> None:
        self.version = version
        subset = load_subset()
        self._components = to_jsonschema(subset["components"], version)
        self._operations: dict[str, Any] = subset["operations"]
        self._validators: dict[tuple[str, str], jsonschema.Draft4Validator] = {}
        self._lock = threading.Lock()

    def operation(self, key: str) -> dict[str, Any]:
        op: dict[str, Any] = self._operations[key]
        return op

    def example(self, key: str, status: str) -> Any:
        """A deep copy of the description's example response (a template for the fake)."""
        return copy.deepcopy(self._operations[key]["responses"][status]["example"])

    def _validator(self, key: str, which: str) -> jsonschema.Draft4Validator | None:
        with self._lock:
            cached = self._validators.get((key, which))
            if cached is not None:
                return cached
            op = self._operations[key]
            if which == "request":
                schema = op.get("requestBody", {}).get("schema")
            else:
                schema = op["responses"].get(which, {}).get("schema")
            if schema is None:
                return None
            root = {
                "allOf": [to_jsonschema(schema, self.version)],
                "components": self._components,
            }
            validator = jsonschema.Draft4Validator(root)
            self._validators[(key, which)] = validator
            return validator

    def request_errors(self, key: str, body: Any) -> list[str]:
        validator = self._validator(key, "request")
        return [] if validator is None else _messages(validator, body)

    def response_errors(self, key: str, status: int, body: Any) -> list[str]:
        if key not in self._operations:
            return [f"{key}: not in the vendored description"]
        responses = self._operations[key]["responses"]
        if str(status) not in responses:
            return [f"{key}: status {status} is not documented"]
        validator = self._validator(key, str(status))
        return [] if validator is None else _messages(validator, body)


def _messages(validator: jsonschema.Draft4Validator, body: Any) -> list[str]:
    errors = []
    for error in validator.iter_errors(body):
        where = "/".join(str(p) for p in error.absolute_path) or "(body)"
        errors.append(f"{where}: {error.message[:300]}")
        if len(errors) >= 20:
            break
    return errors


@cache
def shapes_for(version: str) -> Shapes:
    return Shapes(version)
