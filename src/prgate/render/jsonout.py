"""The contract's ``--format json`` object, with a stable key order."""

from __future__ import annotations

from typing import Any

from prgate.model import Report
from prgate.render.common import json_text
from prgate.render.prompt import agent_prompt
from prgate.render.redact import redacted_report


def to_json_object(report: Report) -> dict[str, Any]:
    """The report as the contract's JSON object (keys in the contract's order)."""
    report = redacted_report(report)
    return {
        "conclusion": report.conclusion.value,
        "findings": [
            {
                "rule": f.rule,
                "level": f.level.value,
                "path": f.path,
                "line": f.line,
                "end_line": f.end_line,
                "title": f.title,
                "message": f.message,
                "fix": f.fix,
                "fixable": f.fixable,
            }
            for f in report.findings
        ],
        "skipped": [{"rule": s.rule, "path": s.path, "reason": s.reason} for s in report.skipped],
        "agent_prompt": agent_prompt(report),
        "config": {"source": report.config_source, "notes": list(report.config_notes)},
    }


def render_json(report: Report) -> str:
    """The JSON text: indented by 2, ending with a newline; non-ASCII kept as is but for
    invisible characters, which are written as JSON escapes (the data reads back the same)."""
    return json_text(to_json_object(report))
