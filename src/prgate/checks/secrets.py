"""The ``secrets`` check kind: credentials written into the lines a change adds.

Every added line of every text file is matched against one RE2 set holding all the detectors, so a
line costs one pass whatever their number; only the detectors that hit are run again to find where
and to weed out placeholders. Findings name the kind of credential and the line, and never contain
the value or any part of it: a report is shown to people and stored, and a leaked key must not
leak twice.

Detectors for well-known formats (cloud keys, GitHub, Slack, Stripe, ... tokens, private key
blocks) fire on their format alone, unless the value is an obvious placeholder (``EXAMPLE``,
``xxxx``, ``${VAR}``, too few distinct characters). The generic ones (a literal assigned to
``password``, ``api_key``, ``secret``..., a password inside a database URL) also need the value to
look random: mixed kinds of characters and enough Shannon entropy, so ``password = "changeme"``
or ``password = os.environ["DB_PASSWORD"]`` do not fire.

Every text file is read, including files a source marked binary whose bytes are mostly text (a
JSON file with a stray NUL byte, a latin-1 file): see :mod:`prgate.checks.text`. Such a file has
no diff, so all of its lines are scanned. A text file too large to read is a finding of the rule
(the engine reports it), never a silent pass.
"""

from __future__ import annotations

import functools
import math
import re
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule, RuleLevel
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.checks.lines import split_lines
from prgate.checks.secretkinds import DETECTORS, RE2_OPTIONS, Detector
from prgate.checks.text import head_text, judged_lines, looks_like_text
from prgate.model import FileChange, Finding, Level

__all__ = ["DETECTORS", "KIND", "Detector", "Hit", "SecretsParams", "entropy", "scan"]

#: Words (compared in lower case) that mark a value as a stand-in, not a credential.
_PLACEHOLDER_WORDS = (
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "sample",
    "redacted",
    "your_",
    "your-",
    "yourpass",
    "xxxx",
    "notreal",
    "not_real",
    "not-a-real",
    "replace",
    "fake",
    "sensitive",
)
#: Template and masking marks, in any value.
_TEMPLATE_MARKS = ("<", ">", "${", "{{")
#: Marks of a stand-in in a value whose format holds no punctuation of its own.
_SYMBOL_MARKS = ("****", "....", "%(", "%s")
#: A generic value starting with one of these is a reference (variable, template, YAML tag).
_REFERENCE_STARTS = ("$", "%", "{", "<", "!", "*", "&", "@", "#")
#: Letters joined by ``_ - .`` (perhaps with one trailing number): a field or header name.
_WORD = r"(?:[a-z]+(?:[A-Z][a-z]+)*|(?:[A-Z][a-z]+)+|[A-Z]+)"
_WORDLIKE = re.compile(
    rf"{_WORD}(?:[_.\-]{_WORD})*[0-9]{{0,2}}|[a-z]+(?:[_\-][a-z0-9]+)+|[A-Z]+(?:_[A-Z0-9]+)+"
)
#: Words that name a credential: a value holding one is a stand-in (``my-secret-key``).
_NAMING_WORDS = ("password", "passwd", "secret")
#: Marks of a regular expression or an escaped pattern, not a credential.
_REGEX_MARKS = ("(?", "[^", "\\s", "\\d", "\\w", "\\b")
#: A call written as text (``get_secret()``), not a value.
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\(.*\)")
#: One segment of a resource path: ``projects/my-app/secrets/db/versions/latest``, ``keyRings``.
_SEGMENT = re.compile(r"[a-z0-9][a-z0-9._\-]*|[a-z]+(?:[A-Z][a-z]+)+|\{[^}]*\}|\*")
#: Starts of cloud resource names (an ARN, a Google Cloud resource path).
_RESOURCE_STARTS = ("arn:", "projects/", "organizations/", "folders/", "locations/")
#: The last word of a name that holds something about a credential, not the credential:
#: ``private_key_id``, ``secret_name``, ``password_file``, ``apiKeyHeader``.
_NOT_A_VALUE_WORDS = frozenset(
    {
        "id", "ids", "kid", "name", "names", "path", "paths", "file", "filename", "dir", "url",
        "uri", "endpoint", "arn", "version", "type", "header", "field", "param", "length",
        "len", "size", "env", "var", "ref", "hint", "prefix", "suffix", "label", "mode",
        "format", "alg", "algorithm", "kind", "count", "digest", "hash", "fingerprint",
        "location", "provider", "manager", "store", "scope", "policy", "regex", "pattern",
        "expiry", "expires", "expiration", "ttl", "lifetime", "timeout", "rotation", "backend",
        "source", "description", "help", "title", "placeholder", "prompt", "error", "message",
    }
)  # fmt: skip
_DEFAULT_PASSWORDS = frozenset(
    {
        "password", "passwd", "pass", "pwd", "secret", "admin", "root", "postgres", "mysql",
        "guest", "user", "test", "xxx", "foo", "bar", "foobar", "letmein", "qwerty", "123456",
        "hunter2", "s3cret", "pass123", "password1", "anonymous",
    }
)  # fmt: skip


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


@functools.cache
def _compiled() -> tuple[Any, tuple[_Compiled, ...]]:
    combined = re2.Set.SearchSet(RE2_OPTIONS)
    items = []
    for index, detector in enumerate(DETECTORS):
        added = combined.Add(detector.regex)
        assert added == index
        only_in = compile_globs(detector.only_in) if detector.only_in is not None else None
        regex = re2.compile(detector.regex, RE2_OPTIONS)
        items.append(_Compiled(detector, regex, only_in, dict(regex.groupindex)))
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
    detector = item.detector
    if detector.context is not None and not detector.context(line, following):
        return None
    groups = item.groups
    for match in item.regex.finditer(line):
        at = groups.get("v", 0)
        value = match.group(at)
        if value is None:
            continue
        if "k" in groups and _names_no_value(match.group(groups["k"]) or ""):
            continue  # private_key_id, secret_name, password_file: about a credential
        if "u" in groups:
            if not _url_may_hold(match, groups, value):
                continue
            value = urllib.parse.unquote(value)
        if _is_placeholder(value, detector, assigned="k" in groups):
            continue
        return int(match.start(at))
    return None


def _url_may_hold(match: Any, groups: dict[str, int], value: str) -> bool:
    """A password in ``scheme://user:pass@host`` that is not a local default or documentation."""
    user = match.group(groups["u"]) or ""
    host = (match.group(groups["h"]) or "").lower() if "h" in groups else ""
    if value.lower() == user.lower():
        return False  # guest:guest@, a local default
    return not ("example" in host or host.startswith(("host", "hostname")))


def _names_no_value(name: str) -> bool:
    """Whether an assigned name holds something about a credential rather than one."""
    words = [w for w in re.split(r"[_.\-]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)) if w]
    if not words:
        return False
    last = words[-1].lower()
    return last in _NOT_A_VALUE_WORDS or last.endswith(("keyid", "tokenid", "secretid"))


def _is_placeholder(value: str, detector: Detector, *, assigned: bool = False) -> bool:
    if detector.min_entropy <= 0.0:
        return False
    lowered = value.lower()
    if any(mark in lowered for mark in _PLACEHOLDER_WORDS):
        return True
    if any(mark in value for mark in _TEMPLATE_MARKS):
        return True
    if not detector.punctuated and any(mark in value for mark in _SYMBOL_MARKS):
        return True
    if len(set(value)) <= 3:
        return True
    if detector.generic or assigned:
        if value.startswith(_REFERENCE_STARTS) or lowered in _DEFAULT_PASSWORDS:
            return True
        if _CALL.fullmatch(value) is not None or _is_path(value):
            return True
        if any(w in lowered for w in _NAMING_WORDS) or any(m in value for m in _REGEX_MARKS):
            return True
        if _WORDLIKE.fullmatch(value.strip("_.-")) is not None:
            return True  # a name such as "user_password" or "X-Api-Key", not a secret
    if detector.example is not None and detector.example(value):
        return True
    if detector.mixed and _classes(value) < 2:
        return True
    return entropy(value) < detector.min_entropy


def _is_path(value: str) -> bool:
    """A URL, a file path or a cloud resource name (``projects/p/secrets/s/versions/latest``,
    an ARN): where a credential is kept, not the credential."""
    if "://" in value or value.startswith(("/", "./", "~/")):
        return True
    if value.lower().startswith(_RESOURCE_STARTS):
        return True
    if "/" not in value:
        return False
    segments = [s for s in re.split(r"[/:]", value) if s]
    return len(segments) >= 2 and all(_SEGMENT.fullmatch(s) is not None for s in segments)


def _classes(value: str) -> int:
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )


def entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


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
