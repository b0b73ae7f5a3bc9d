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
    # The whole change sits on line 1 of a changed file (code scanning needs a file and a line).
    whole_change = results["size/limit"]["locations"][0]["physicalLocation"]
    assert whole_change == {
        "artifactLocation": {"uri": "app/settings.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }
    assert results["size/limit"]["message"]["text"].startswith("About the whole change.")
    whole_file = results["style/ruff-format"]["locations"][0]["physicalLocation"]
    assert whole_file == {
        "artifactLocation": {"uri": "app/settings.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }
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


def github_problems(log: dict[str, Any]) -> list[str]:
    """What GitHub code scanning's stated SARIF requirements find wrong with ``log``, beyond the
    schema: each result needs a rule id, a message and a location whose file is a path relative
    to the repository's root with a start line; limits on results, rules and locations."""
    problems = []
    if log.get("version") != "2.1.0":
        problems.append("version must be 2.1.0")
    runs = log.get("runs") or []
    if not 1 <= len(runs) <= 20:
        problems.append("1 to 20 runs")
    for run in runs:
        driver = run.get("tool", {}).get("driver", {})
        if not driver.get("name"):
            problems.append("tool.driver.name is required")
        rules = driver.get("rules") or []
        results = run.get("results")
        if results is None:
            problems.append("results is required (an empty list when there are none)")
            continue
        if len(results) > 25_000 or len(rules) > 25_000:
            problems.append("at most 25,000 results and rules per run")
        for i, result in enumerate(results):
            where = f"result {i}"
            if not result.get("ruleId"):
                problems.append(f"{where}: ruleId")
            index = result.get("ruleIndex")
            if index is not None and rules[index].get("id") != result.get("ruleId"):
                problems.append(f"{where}: ruleIndex points at another rule")
            if not (result.get("message") or {}).get("text"):
                problems.append(f"{where}: message.text")
            locations = result.get("locations") or []
            if not 1 <= len(locations) <= 1000:
                problems.append(f"{where}: needs 1 to 1,000 locations")
                continue
            physical = locations[0].get("physicalLocation") or {}
            uri = (physical.get("artifactLocation") or {}).get("uri") or ""
            if not uri or uri.startswith("/") or "://" in uri:
                problems.append(f"{where}: a file relative to the repository's root")
            start = (physical.get("region") or {}).get("startLine")
            if not isinstance(start, int) or start < 1:
                problems.append(f"{where}: region.startLine")
            if not result.get("partialFingerprints"):
                problems.append(f"{where}: partialFingerprints")
    return problems


def test_every_sample_meets_github_code_scanning_requirements(
    samples: dict[str, Callable[[], Report]],
) -> None:
    for name, make in samples.items():
        assert github_problems(to_sarif(make())) == [], name


def test_the_requirements_check_catches_a_result_without_a_location() -> None:
    log = to_sarif(failing_report())
    del log["runs"][0]["results"][0]["locations"]
    assert github_problems(log) == ["result 0: needs 1 to 1,000 locations"]
