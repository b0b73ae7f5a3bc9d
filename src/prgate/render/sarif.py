"""The report as a SARIF 2.1.0 log, for GitHub code scanning and other SARIF readers.

Every result has a file and a start line, as GitHub code scanning requires: findings about a
whole file sit on its line 1, findings about the whole change on line 1 of a changed file. What prgate did not check is reported as
tool execution notifications, so that "not judged" is never read as "passed".
"""

from __future__ import annotations

import hashlib
from typing import Any, assert_never
from urllib.parse import quote

from prgate import __version__
from prgate.model import Finding, Level, Report
from prgate.render.common import json_text, one_line, visible
from prgate.render.redact import redacted_report

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
#: The base against which result paths are relative: the repository's root.
SRCROOT = "%SRCROOT%"
#: How a rule whose findings the AI reviewer writes is described (never in the model's words).
#: Where a finding about the whole change sits when the report names no changed file.
FALLBACK_ANCHOR = ".github/prgate.yml"
AI_DESCRIPTION = "Advisory notes from the AI reviewer; a person decides whether to act on them"


def sarif_level(level: Level) -> str:
    if level is Level.ERROR:
        return "error"
    if level is Level.WARNING:
        return "warning"
    if level is Level.NOTICE:
        return "note"
    assert_never(level)


def to_sarif(report: Report) -> dict[str, Any]:
    """The SARIF log object for ``report``."""
    report = redacted_report(report)
    rules: dict[str, int] = {}
    descriptors: list[dict[str, Any]] = []
    for f in sorted(report.findings, key=lambda f: f.rule):
        if f.rule not in rules:
            rules[f.rule] = len(descriptors)
            descriptors.append(_descriptor(f, report.why(f.rule)))

    results = [_result(f, rules[f.rule], report.anchor) for f in report.findings]
    notifications = [
        {
            "level": "warning",
            "message": {"text": _skipped_text(s.path, s.reason)},
            **({"descriptor": {"id": s.rule}} if s.rule else {}),
            **(
                {"locations": [{"physicalLocation": {"artifactLocation": _artifact(s.path)}}]}
                if s.path is not None
                else {}
            ),
        }
        for s in report.skipped
    ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "prgate",
                "version": __version__,
                "rules": descriptors,
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
        "properties": {
            "conclusion": report.conclusion.value,
            "config": {"source": report.config_source, "notes": list(report.config_notes)},
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report) -> str:
    """The SARIF log as JSON text, indented by 2, ending with a newline."""
    return json_text(to_sarif(report))


def artifact_uri(path: str) -> str:
    """A repository path as a relative URI reference (spaces and the like percent-encoded)."""
    return quote(path.lstrip("/"), safe="/-._~")


def _descriptor(f: Finding, why: str) -> dict[str, Any]:
    title = AI_DESCRIPTION if f.from_ai else visible(f.title)
    out: dict[str, Any] = {
        "id": f.rule,
        "shortDescription": {"text": title},
        "fullDescription": {"text": visible(why.strip()) if why.strip() else title},
        "defaultConfiguration": {"level": sarif_level(f.level)},
    }
    if f.fix.strip() and not f.from_ai:
        out["help"] = {"text": visible(f.fix)}
    return out


def _result(f: Finding, index: int, anchor: str | None) -> dict[str, Any]:
    text = f"{f.title}: {f.message}" if f.message.strip() else f.title
    if f.from_ai:
        text = f"An advisory note from the AI reviewer, quoted: “{one_line(text)}”"
        if f.fix.strip():
            text += f" Its suggestion: “{one_line(f.fix)}”"
        text += "\nA person decides whether to act on it."
    elif f.fix.strip():
        text += f"\nWhat to do: {f.fix}"
    text = visible(text, keep_newlines=True)
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": sarif_level(f.level),
        "message": {"text": text},
    }
    # GitHub code scanning refuses a result without a file and a start line: a finding about a
    # whole file sits on its line 1, one about the whole change on line 1 of a changed file.
    path = f.path if f.path is not None else (anchor or FALLBACK_ANCHOR)
    if path:
        region: dict[str, Any] = {"startLine": f.line if f.line is not None else 1}
        if f.line is not None and f.end_line is not None and f.end_line >= f.line:
            region["endLine"] = f.end_line
        if f.line is not None and f.column is not None and f.column >= 1:
            region["startColumn"] = f.column
        physical: dict[str, Any] = {"artifactLocation": _artifact(path), "region": region}
        out["locations"] = [{"physicalLocation": physical}]
        if f.path is None:
            out["message"]["text"] = "About the whole change. " + out["message"]["text"]
    out["partialFingerprints"] = {"prgateFinding/v1": _fingerprint(f)}
    out["properties"] = {"fixable": f.fixable}
    return out


def _artifact(path: str) -> dict[str, Any]:
    return {"uri": artifact_uri(path), "uriBaseId": SRCROOT}


def _skipped_text(path: str | None, reason: str) -> str:
    what = visible(path) if path is not None else "the whole change"
    return f"Not checked: {what}: {visible(reason, keep_newlines=True)}"


def _fingerprint(f: Finding) -> str:
    """Stable across runs for the same problem, even when lines above it move."""
    key = "\x1f".join((f.rule, f.path or "", f.title, f.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
