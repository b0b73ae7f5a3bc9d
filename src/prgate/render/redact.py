"""Credentials out of everything prgate writes: found by the secrets check's own detectors, shown
as a short prefix and their kind (``AKIA…[hidden: an AWS access key ID]``), never in full.

The ``content/secrets`` rule never repeats a value, but other rules quote the change: a key
written without quotes (``KEY = AKIA...``) comes back in ruff's "Undefined name `AKIA...`", and
from there into the comment, the annotations, the agent block, JSON and SARIF. So every
renderer takes the report through :func:`redacted_report` first, and the few other texts made
from a change (command replies, the command line's messages) go through :func:`redact`.

Only a format's fixed start is shown (``AKIA``, ``ghp_``, ``sk-ant-``: what the detectors call
its marker), never a character of the secret part: a token that starts with random characters,
or a password found by the name it is given, shows none. A private key's header stays, and
everything after it up to its ``-----END`` goes.

Paths are left as they are: they place a finding (annotations, SARIF locations), and a file's
name is in the pull request's list of files already.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from prgate.checks.secrets import Value, values
from prgate.model import Finding, Fix, Report, Skipped

#: What stands for the hidden part of a value.
ELLIPSIS = "…"
#: Most characters of a format's fixed start shown (never more than a third of the value).
PREFIX_LIMIT = 8
_KEY_END = "-----END"
_KEY_KIND = "a private key"


@dataclass(frozen=True)
class RedactedReport(Report):
    """A report whose texts went through :func:`redact` (renderers take it through once)."""


def redacted_report(report: Report) -> RedactedReport:
    """``report`` with every text (titles, messages, fixes, rule names, reasons, fix
    descriptions) redacted; a report that already was is returned as it is."""
    if isinstance(report, RedactedReport):
        return report
    return RedactedReport(
        conclusion=report.conclusion,
        findings=tuple(_finding(f) for f in report.findings),
        skipped=tuple(_skipped(s) for s in report.skipped),
        fixes=tuple(_fix(x) for x in report.fixes),
        config_source=redact(report.config_source),
        config_notes=tuple(redact(n) for n in report.config_notes),
        rule_why=tuple((rule, redact(why)) for rule, why in report.rule_why),
        anchor=report.anchor,
    )


def redact(text: str, *, path: str | None = None) -> str:
    """``text`` with each credential the secrets detectors find in it hidden. ``path`` is the
    file the text is about (some formats only count in some files, such as ``.env``)."""
    if not text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    in_key = False
    for number, line in enumerate(lines):
        if in_key:
            end = line.find(_KEY_END)
            if end < 0:
                out.append(_hidden(_KEY_KIND))
                continue
            in_key = False
            if line[:end].strip():
                line = _hidden(_KEY_KIND) + line[end:]
        following = lines[number + 1] if number + 1 < len(lines) else None
        line, in_key = _line(line, following, path or "")
        out.append(line)
    return "\n".join(out)


def _line(line: str, following: str | None, path: str) -> tuple[str, bool]:
    """One line with its values hidden, and whether a private key goes on after it."""
    found = values(line, following=following, path=path)
    if not found:
        return line, False
    pieces: list[str] = []
    at = 0
    for value in _merged(found):
        if value.start < at:
            continue
        pieces.append(line[at : value.start])
        if not value.header:
            pieces.append(_masked(line[value.start : value.end], value))
            at = value.end
            continue
        # The header says what it is; the key is the rest, up to its end marker.
        pieces.append(line[value.start : value.end])
        end = line.find(_KEY_END, value.end)
        if end < 0:
            pieces.append(_hidden(_KEY_KIND) if line[value.end :].strip() else "")
            return "".join(pieces), True
        pieces.append(_hidden(_KEY_KIND))
        at = end
    pieces.append(line[at:])
    return "".join(pieces), False


def _merged(found: list[Value]) -> list[Value]:
    """Values in order, overlapping ones joined (the first one's kind is kept)."""
    out: list[Value] = []
    for value in sorted(found, key=lambda v: (v.start, -v.end, -v.marker)):
        if out and value.start < out[-1].end and not out[-1].header and not value.header:
            last = out[-1]
            out[-1] = replace(last, end=max(last.end, value.end))
            continue
        out.append(value)
    return out


def _masked(value: str, found: Value) -> str:
    shown = min(found.marker, PREFIX_LIMIT, len(value) // 3)
    return value[:shown] + _hidden(found.kind)


def _hidden(kind: str) -> str:
    return f"{ELLIPSIS}[hidden: {kind}]"


def _finding(f: Finding) -> Finding:
    return replace(
        f,
        rule=redact(f.rule),
        title=redact(f.title, path=f.path),
        message=redact(f.message, path=f.path),
        fix=redact(f.fix, path=f.path),
    )


def _skipped(s: Skipped) -> Skipped:
    rule = redact(s.rule) if s.rule is not None else None
    return replace(s, rule=rule, reason=redact(s.reason, path=s.path))


def _fix(x: Fix) -> Fix:
    return replace(x, rules=tuple(redact(r) for r in x.rules), description=redact(x.description))
