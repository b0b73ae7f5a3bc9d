"""One verdict per commit: what a head's judgement depends on, and how verdicts combine. Pure.

GitHub attaches check runs to a commit, and every pull request whose head is that commit shows
them. So the one ``prgate`` run on a commit concludes with the worst verdict over every open pull
request whose head it is, each judged by its own base's rules. A head is judged again only when
what the verdict depends on (its *inputs*) changed, or when a person asks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from prgate.model import ChangeSet, Conclusion

#: Bumped when the meaning of a digest changes, so that every head is judged again once.
INPUTS_VERSION = "1"


@dataclass(frozen=True)
class PullInputs:
    """What one pull request's verdict on its head depends on."""

    pr: int
    base: str
    #: The digest of the base's config files (its ``extends`` and packs included), or of the
    #: reason they could not be read.
    config: str
    #: :func:`changeset_inputs` of the change as judged for this base.
    change: str


def changeset_inputs(changeset: ChangeSet | None) -> str:
    """The digest of everything in ``changeset`` a verdict may depend on, except file contents
    (the head sha stands for them): the files and their line ranges, labels, author, and every
    field a ChangeSet gains later (approvals, for one) without a change here. Readers and
    loaders (fields that do not take part in comparison) are left out."""
    if changeset is None:
        return ""
    return _digest(_canon(changeset))


def inputs_digest(sha: str, pulls: Iterable[PullInputs]) -> str:
    """The digest of a head's judgement: its sha and, for each open pull request whose head it
    is, the base, the config and the change (in PR order, so the order of reading is moot)."""
    rows = sorted((p.pr, p.base, p.config, p.change) for p in pulls)
    return _digest([INPUTS_VERSION, sha, rows])


def worst(conclusions: Iterable[Conclusion]) -> Conclusion:
    """``failure`` when any verdict fails, and when there is none (nothing judged never
    passes); ``success`` otherwise."""
    seen = list(conclusions)
    if not seen or any(c is not Conclusion.SUCCESS for c in seen):
        return Conclusion.FAILURE
    return Conclusion.SUCCESS


def merged_annotations(
    batches: Sequence[Sequence[Mapping[str, Any]]],
) -> list[Mapping[str, Any]]:
    """The annotations of several verdicts on one commit, each one once, in order."""
    seen: set[str] = set()
    out: list[Mapping[str, Any]] = []
    for batch in batches:
        for a in batch:
            key = json.dumps(a, sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                out.append(a)
    return out


def _canon(value: Any) -> Any:
    """``value`` as plain JSON data, the same whatever the order of sets or the process."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _canon(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.compare and not callable(getattr(value, f.name))
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted((_canon(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _canon(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return repr(value)


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:40]
