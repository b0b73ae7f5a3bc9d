"""The SARIF log: valid against the official SARIF 2.1.0 schema, with the right locations."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from render.render_samples import HOSTILE_PATH, failing_report

from prgate.model import Report
from prgate.render.sarif import artifact_uri, render_sarif, to_sarif

SCHEMA_PATH = Path(__file__).parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft7Validator
    cls.check_schema(schema)
    return cls(schema)


def test_every_sample_is_valid_sarif(
    samples: dict[str, Callable[[], Report]], validator: jsonschema.protocols.Validator
) -> None:
    for name, make in samples.items():
        log = json.loads(render_sarif(make()))
        errors = [e.message for e in validator.iter_errors(log)]
        assert errors == [], name


def test_the_schema_rejects_a_broken_log(validator: jsonschema.protocols.Validator) -> None:
    log = to_sarif(failing_report())
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(log)
    del log["version"]
    assert not validator.is_valid(log)


def _results_by_rule() -> dict[str, dict[str, Any]]:
    log = to_sarif(failing_report())
    return {r["ruleId"]: r for r in log["runs"][0]["results"]}


def test_locations_follow_what_the_finding_is_about() -> None:
    results = _results_by_rule()
    assert "locations" not in results["size/limit"]  # the whole change
    whole_file = results["style/ruff-format"]["locations"][0]["physicalLocation"]
    assert whole_file == {"artifactLocation": {"uri": "app/settings.py", "uriBaseId": "%SRCROOT%"}}
    span = results["style/ruff-lint"]["locations"][0]["physicalLocation"]["region"]
    assert span == {"startLine": 10, "endLine": 12, "startColumn": 1}
    line = results["content/secrets"]["locations"][0]["physicalLocation"]["region"]
    assert line == {"startLine": 2, "endLine": 2, "startColumn": 7}


def test_levels_map_to_sarif_levels() -> None:
    results = _results_by_rule()
    assert results["content/secrets"]["level"] == "error"
    assert results["config/changed"]["level"] == "warning"
    assert results["content/debug"]["level"] == "note"


def test_driver_rules_and_indexes() -> None:
    log = to_sarif(failing_report())
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "prgate"
    assert "informationUri" not in driver
    ids = [r["id"] for r in driver["rules"]]
    assert ids == sorted(set(ids))
    for result in run["results"]:
        rule = driver["rules"][result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["shortDescription"]["text"]
    secrets = driver["rules"][ids.index("content/secrets")]
    assert secrets["help"]["text"].startswith("Remove the key")


def test_skipped_items_become_notifications() -> None:
    run = to_sarif(failing_report())["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    texts = [n["message"]["text"] for n in notes]
    assert any("assets/logo.png" in t for t in texts)
    assert any(n.get("descriptor") == {"id": "team/sql-safety"} for n in notes)


def test_paths_become_relative_uri_references() -> None:
    assert artifact_uri("path with spaces/ü.py") == "path%20with%20spaces/%C3%BC.py"
    assert artifact_uri("-lead.py") == "-lead.py"
    uri = artifact_uri(HOSTILE_PATH)
    assert not set(uri) & set(" <>[]()|`@")
    assert uri.startswith("docs/")


def test_fingerprints_are_stable_and_distinct() -> None:
    a = to_sarif(failing_report())["runs"][0]["results"]
    b = to_sarif(failing_report())["runs"][0]["results"]
    prints = [r["partialFingerprints"]["prgateFinding/v1"] for r in a]
    assert prints == [r["partialFingerprints"]["prgateFinding/v1"] for r in b]
    assert len(set(prints)) == len(prints)
