"""The JSON spoken between the flag analysis's parent process and its parser children.

Never pickle: a child reads untrusted text, and its answer is checked field by field here, so a
child that went wrong cannot make the parent run anything; anything unexpected is a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import libcst as cst

from prgate.checks.flagscan import (
    FAILURE_CODES,
    FileScan,
    FlagUse,
    ScanFailure,
    ScanJob,
    ScanOutcome,
    Unit,
    scan_source,
)

#: The largest answer a parent reads from a child.
MAX_REPLY_BYTES = 16 * 1024 * 1024


def encode_request(job: ScanJob, *, cpu_seconds: int) -> bytes:
    """One file to read, for a child."""
    request = {
        "text": job.text,
        "added": [list(r) for r in job.added],
        "functions": list(job.functions),
        "more": [list(f) for f in job.more_functions],
        "cpu": cpu_seconds,
    }
    return json.dumps(request).encode("utf-8")


def answer(raw: bytes, *, limit_cpu: Callable[[int], None]) -> bytes:
    """The child's side: read one request, analyse the file, and say what it found."""
    return json.dumps(_answer(raw, limit_cpu)).encode("utf-8")


def _answer(raw: bytes, limit_cpu: Callable[[int], None]) -> dict[str, object]:
    try:
        request = json.loads(raw)
        limit_cpu(int(request["cpu"]))
        scan = scan_source(
            request["text"],
            added=[(int(a), int(b)) for a, b in request["added"]],
            functions=[str(f) for f in request["functions"]],
            more_functions=[[str(f) for f in fs] for fs in request.get("more", [])],
        )
    except cst.ParserSyntaxError:
        return {"failure": "syntax"}
    except RecursionError:
        return {"failure": "nesting"}
    except MemoryError:
        return {"failure": "memory"}
    except Exception:
        return {"failure": "error"}
    return {**_scan_json(scan), "more": [_scan_json(m) for m in scan.more]}


def _scan_json(scan: FileScan) -> dict[str, object]:
    return {
        "units": [
            [
                u.name,
                u.kind,
                u.line,
                u.end_line,
                u.new,
                list(u.lines),
                list(u.members),
                u.checks_flag,
            ]
            for u in scan.unguarded
        ],
        "uses": [[x.name, x.function, x.line, x.column] for x in scan.uses],
    }


_UNIT_KINDS = frozenset({"function", "method", "class"})


def decode_reply(raw: bytes) -> ScanOutcome:
    """A child's JSON answer, checked field by field; anything unexpected is a failure."""
    try:
        reply = json.loads(raw)
        if not isinstance(reply, dict):
            raise ValueError
        failure = reply.get("failure")
        if failure is not None:
            if isinstance(failure, str) and failure in FAILURE_CODES:
                return ScanFailure(failure)  # type: ignore[arg-type]
            raise ValueError
        first = _decode_scan(reply)
        more = tuple(_decode_scan(m) for m in _list(reply.get("more", [])))
    except (ValueError, KeyError, TypeError):
        return ScanFailure("error")
    return FileScan(unguarded=first.unguarded, uses=first.uses, more=more)


def _decode_scan(value: object) -> FileScan:
    if not isinstance(value, dict):
        raise ValueError
    units = tuple(_decode_unit(u) for u in _list(value["units"]))
    uses = tuple(_decode_use(u) for u in _list(value["uses"]))
    return FileScan(unguarded=units, uses=uses)


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise ValueError
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError
    return value


def _decode_unit(value: object) -> Unit:
    name, kind, line, end_line, new, lines, members, checks_flag = _list(value)
    if kind not in _UNIT_KINDS or not isinstance(new, bool) or not isinstance(checks_flag, bool):
        raise ValueError
    return Unit(
        name=_str(name),
        kind=kind,  # type: ignore[arg-type]
        line=_int(line),
        end_line=_int(end_line),
        new=new,
        lines=tuple(_int(x) for x in _list(lines)),
        members=tuple(_str(x) for x in _list(members)),
        checks_flag=checks_flag,
    )


def _decode_use(value: object) -> FlagUse:
    name, function, line, column = _list(value)
    return FlagUse(_str(name), _str(function), _int(line), _int(column))
