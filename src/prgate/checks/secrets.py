"""The ``secrets`` check kind: credentials written into the lines a change adds.

Every added line of every text file is matched against one RE2 set holding all the detectors, so a
line costs one pass whatever their number; only the detectors that hit are run again to find where
and to weed out placeholders. Findings name the kind of credential and the line, and never contain
the value or any part of it: a report is shown to people and stored, and a leaked key must not
leak twice.

The detectors are data (:mod:`prgate.checks.secretkinds`: about fifty services' formats, private
key blocks, JSON Web Tokens, ``SECRET_KEY`` values, passwords inside ``scheme://user:pass@host``
URLs of any scheme, literals assigned to ``password``, ``api_key``, ``token``...). Whether a
match is a stand-in rather than a credential (``EXAMPLE``, ``changeme``, ``${VAR}``, a key id, a
secret manager's resource path, too little entropy) is :mod:`prgate.checks.secretvalues`.

A credential in a file under ``test_paths`` (tests, fixtures, test data) is reported at
``test_level`` (a warning by default), with a note that it may have been made up for the tests:
most are, and a block there teaches people to ignore the rule; a real one is still shown.

Every text file is read, including files a source marked binary whose bytes are mostly text (a
JSON file with a stray NUL byte, a latin-1 file): see :mod:`prgate.checks.text`. Such a file has
no diff, so all of its lines are scanned. A text file too large to read is a finding of the rule
(the engine reports it), never a silent pass.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule, RuleLevel
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.checks.lines import split_lines
from prgate.checks.secretkinds import DETECTORS, RE2_OPTIONS, Detector
from prgate.checks.secretvalues import entropy, is_placeholder, names_no_value
from prgate.checks.text import head_text, judged_lines, looks_like_text
from prgate.model import FileChange, Finding, Level

__all__ = [
    "DETECTORS",
    "KIND",
    "Detector",
    "Hit",
    "SecretsParams",
    "Value",
    "entropy",
    "scan",
    "values",
]

#: Where test data lives, by default: credentials there are most often made up for the tests.
DEFAULT_TEST_PATHS: tuple[str, ...] = (
    "test/",
    "tests/",
    "testing/",
    "__tests__/",
    "spec/",
    "fixtures/",
    "__fixtures__/",
    "testdata/",
    "__mocks__/",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "*_test.go",
    "*.test.*",
    "*.spec.*",
    "*_spec.rb",
)
_ORDER: dict[str, int] = {"off": 0, "notice": 1, "warning": 2, "error": 3}


class SecretsParams(Params):
    #: Only files matching these gitignore-style patterns are scanned (all text files when omitted).
    paths: Globs | None = None
    #: Files matching these patterns are not scanned.
    exclude: Globs = ()
    #: Files of test data (gitignore-style): a credential found there is reported at
    #: `test_level`, with a note that it may be made up for the tests.
    test_paths: Globs = DEFAULT_TEST_PATHS
    #: The level of a finding in `test_paths` (`error`, `warning`, `notice` or `off`); never
    #: higher than the rule's own level.
    test_level: RuleLevel = "warning"


@dataclass(frozen=True)
class Hit:
    line: int
    column: int
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class _Compiled:
    detector: Detector
    regex: Any
    only_in: Matcher | None
    groups: dict[str, int]
    marker: re.Pattern[str] | None


@functools.cache
def _compiled() -> tuple[Any, tuple[_Compiled, ...]]:
    combined = re2.Set.SearchSet(RE2_OPTIONS)
    items = []
    for index, detector in enumerate(DETECTORS):
        added = combined.Add(detector.prefilter)
        assert added == index
        only_in = compile_globs(detector.only_in) if detector.only_in is not None else None
        regex = re2.compile(detector.regex, RE2_OPTIONS)
        marker = re.compile(detector.marker) if detector.marker is not None else None
        items.append(_Compiled(detector, regex, only_in, dict(regex.groupindex), marker))
    combined.Compile()
    return combined, tuple(items)


def scan(change: FileChange) -> list[Hit]:
    """The added lines of ``change`` that hold credentials, with what kind (never the value)."""
    text = head_text(change)
    if text is None:
        return []
    combined, detectors = _compiled()
    lines = split_lines(text)
    hits = []
    for number in judged_lines(change, text):
        if number > len(lines):
            break
        line = lines[number - 1]
        found = combined.Match(line)
        if not found:
            continue
        following = lines[number] if number < len(lines) else None
        hit = _judge(line, following, change.path, [detectors[i] for i in sorted(found)])
        if hit is not None:
            hits.append(Hit(line=number, column=hit[0], kinds=hit[1]))
    return hits


def _judge(
    line: str, following: str | None, path: str, candidates: Sequence[_Compiled]
) -> tuple[int, tuple[str, ...]] | None:
    kinds: list[str] = []
    column: int | None = None
    for generic in (False, True):
        if generic and kinds:
            break
        for item in candidates:
            if item.detector.generic is not generic:
                continue
            if item.only_in is not None and not item.only_in.matches(path):
                continue
            start = _first_real(item, line, following)
            if start is None:
                continue
            if item.detector.name not in kinds:
                kinds.append(item.detector.name)
            column = start if column is None else min(column, start)
    if not kinds or column is None:
        return None
    return column + 1, tuple(kinds)


def _first_real(item: _Compiled, line: str, following: str | None) -> int | None:
    """Where the first match that is not a placeholder starts (0-based), if any."""
    for start, _end in _real_values(item, line, following):
        return start
    return None


def _real_values(item: _Compiled, line: str, following: str | None) -> Iterator[tuple[int, int]]:
    """Where each matched value that is not a placeholder starts and ends (0-based)."""
    detector = item.detector
    if detector.context is not None and not detector.context(line, following):
        return
    groups = item.groups
    for match in item.regex.finditer(line):
        at = groups.get("v", 0)
        value = match.group(at)
        if value is None:
            continue
        if "k" in groups and names_no_value(match.group(groups["k"]) or ""):
            continue  # private_key_id, secret_name, password_file: about a credential
        if "u" in groups:
            if not _url_may_hold(match, groups, value):
                continue
            value = urllib.parse.unquote(value)
        if is_placeholder(value, detector, assigned="k" in groups):
            continue
        yield int(match.start(at)), int(match.end(at))


@dataclass(frozen=True)
class Value:
    """Where a credential's value is in a line of text, and what kind it is."""

    start: int
    end: int
    kind: str
    #: How many of its first characters are the format's fixed start (``AKIA``, ``ghp_``),
    #: which says what the value is and nothing of the secret.
    marker: int
    #: A private key's header: the key itself follows it, up to its ``-----END`` line.
    header: bool


def values(line: str, *, following: str | None = None, path: str = "") -> list[Value]:
    """Every credential value in ``line`` (any line of text, not only a change's), found as
    :func:`scan` finds them, placeholders left out; for hiding them in what prgate writes.
    ``path`` is the file the text is about, for the formats that only count in some files."""
    combined, detectors = _compiled()
    found = combined.Match(line)
    if not found:
        return []
    out: list[Value] = []
    for index in sorted(found):
        item = detectors[index]
        if item.only_in is not None and not item.only_in.matches(path):
            continue
        for start, end in _real_values(item, line, following):
            fixed = item.marker.match(line, start, end) if item.marker is not None else None
            marker = fixed.end() - start if fixed is not None else 0
            out.append(Value(start, end, item.detector.name, marker, item.detector.header))
    return out


def _url_may_hold(match: Any, groups: dict[str, int], value: str) -> bool:
    """A password in ``scheme://user:pass@host`` that is not a local default or documentation."""
    user = match.group(groups["u"]) or ""
    host = (match.group(groups["h"]) or "").lower() if "h" in groups else ""
    if value.lower() == user.lower():
        return False  # guest:guest@, a local default
    return not ("example" in host or host.startswith(("host", "hostname")))


def _describe(kinds: Sequence[str], line: int, *, test_data: str | None = None) -> str:
    what = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    if test_data is not None:
        return (
            f"Line {line} holds what looks like {what}, in test data (the file matches "
            f"`{test_data}`). The value is not repeated here. If it was made up for the tests, "
            "nothing needs to change; if it is a real credential, treat it as exposed."
        )
    return (
        f"Line {line} holds what looks like {what}. The value is not repeated here; "
        "treat it as exposed."
    )


_TEST_FIX = (
    "If the value was made up for the tests, leave it as it is. If it is a real credential, "
    "remove it, have the test read it from an environment variable or use an obviously fake "
    "value, and ask whoever manages that account to rotate (revoke and replace) it."
)


@dataclass(frozen=True)
class _Selector:
    rule: Rule
    included: Matcher | None
    excluded: Matcher
    tests: Matcher
    test_level: RuleLevel

    def wants(self, path: str) -> bool:
        if self.included is not None and not self.included.matches(path):
            return False
        return not self.excluded.matches(path)


def _selector(rule: Rule) -> _Selector:
    params = rule.params
    assert isinstance(params, SecretsParams)
    included = compile_globs(params.paths) if params.paths is not None else None
    level = min(params.test_level, rule.level, key=_ORDER.__getitem__)
    return _Selector(
        rule, included, compile_globs(params.exclude), compile_globs(params.test_paths), level
    )


def in_scope(rule: Rule, change: FileChange) -> bool:
    """Text files (or files that may be text) matching ``paths`` and not ``exclude``."""
    return _selector(rule).wants(change.path) and looks_like_text(change)


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    selectors = [_selector(rule) for rule in rules]
    for change in ctx.analysable():
        wanted = [s for s in selectors if s.wants(change.path)]
        if not wanted:
            continue
        for hit in scan(change):
            for selector in wanted:
                finding = _finding(selector, change.path, hit)
                if finding is not None:
                    result.findings.append(finding)
    return result


def _finding(selector: _Selector, path: str, hit: Hit) -> Finding | None:
    rule = selector.rule
    test_data = selector.tests.matching_pattern(path)
    if test_data is None:
        message = _describe(hit.kinds, hit.line)
        return rule.finding(path=path, line=hit.line, column=hit.column, message=message)
    if selector.test_level == "off":
        return None
    return rule.finding(
        path=path,
        line=hit.line,
        column=hit.column,
        message=_describe(hit.kinds, hit.line, test_data=test_data),
        fix=_TEST_FIX,
        level=Level(selector.test_level),
    )


KIND = CheckKind(
    name="secrets",
    params=SecretsParams,
    run=run,
    in_scope=in_scope,
    looks_for="passwords, keys and tokens",
    summary=(
        "Reports added lines holding credentials in well-known formats (cloud, code-hosting, "
        "messaging, payment, monitoring and AI services' keys and tokens, private keys, "
        "passwords inside URLs or written as literals) in files matching `paths` and not "
        "`exclude`, at `test_level` in `test_paths`; never repeats the value."
    ),
)
