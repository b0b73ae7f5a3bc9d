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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.globs import Globs, Matcher, compile_globs
from prgate.checks.lines import split_lines
from prgate.checks.text import head_text, judged_lines, looks_like_text
from prgate.model import FileChange

# Text around a token: it must not continue an identifier or a longer token.
_B = r"(?:^|[^A-Za-z0-9_])"
_E = r"(?:[^A-Za-z0-9_]|$)"
_E_DASH = r"(?:[^A-Za-z0-9_\-]|$)"
_ASSIGN = r"[\"']?\s*(?::=|=>|=|:)\s*"

#: Substrings (compared in lower case) that mark a value as a stand-in, not a credential.
_PLACEHOLDER_MARKS = (
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
    "****",
    "....",
    "<",
    ">",
    "${",
    "{{",
    "%(",
    "%s",
    "notreal",
    "not_real",
    "not-a-real",
    "replace",
)
#: A generic value starting with one of these is a reference (variable, template, YAML tag).
_REFERENCE_STARTS = ("$", "%", "{", "<", "!", "*", "&", "@", "#")
#: Letters joined by ``_ - .`` (perhaps with one trailing number): a field or header name.
_WORD = r"(?:[a-z]+(?:[A-Z][a-z]+)*|(?:[A-Z][a-z]+)+|[A-Z]+)"
_WORDLIKE = re.compile(
    rf"{_WORD}(?:[_.\-]{_WORD})*[0-9]{{0,2}}|[a-z]+(?:[_\-][a-z0-9]+)+|[A-Z]+(?:_[A-Z0-9]+)+"
)
_DEFAULT_PASSWORDS = frozenset(
    {"password", "passwd", "secret", "admin", "root", "postgres", "mysql", "guest", "user", "test"}
)


@dataclass(frozen=True)
class Detector:
    #: What the finding calls it: “a GitHub token”.
    name: str
    #: RE2 pattern; group 1, when present, is the value judged by the filters.
    regex: str
    #: Least Shannon entropy (bits per character) of the value.
    min_entropy: float = 2.5
    #: The value must mix at least two of: lower case, upper case, digits, other characters.
    mixed: bool = False
    #: Only in files matching these globs (``None``: every file).
    only_in: tuple[str, ...] | None = None
    #: An extra test of (line, the line after it) for formats that need context.
    context: Callable[[str, str | None], bool] | None = None
    #: A generic detector: skipped on a line where a specific one already fired.
    generic: bool = False


def _pem_body_follows(line: str, following: str | None) -> bool:
    """A private-key header counts only when key material follows it, not in PEM-parsing code."""
    tail = line.split("PRIVATE KEY", 1)[-1]
    if _PEM_INLINE.search(tail) is not None:
        return True
    if following is None:
        return False
    return _PEM_NEXT.search(following) is not None


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_PEM_INLINE = re2.compile(r"-----\\n(?:[A-Za-z-]+: [^\\]*\\n)*[A-Za-z0-9+/=]{16,}", _RE2_OPTIONS)
_PEM_NEXT = re2.compile(
    r"^\s*[\"']?(?:[A-Za-z0-9+/=]{24,}|Proc-Type:|Comment:|Version:)", _RE2_OPTIONS
)

DETECTORS: tuple[Detector, ...] = (
    Detector("an AWS access key ID", _B + r"((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})" + _E),
    Detector(
        "an AWS secret access key",
        r"(?i)aws[a-z0-9_.\-]{0,30}(?:secret|private)[a-z0-9_.\-]{0,30}"
        + _ASSIGN
        + r"[\"']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
        min_entropy=3.5,
    ),
    Detector("a GitHub token", _B + r"((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,251})" + _E),
    Detector("a GitHub fine-grained token", _B + r"(github_pat_[A-Za-z0-9_]{50,255})" + _E),
    Detector("a GitLab token", _B + r"(glpat-[A-Za-z0-9_\-]{20,})" + _E_DASH),
    Detector("a Slack token", _B + r"(xox[abeoprs]-[A-Za-z0-9\-]{10,250})" + _E_DASH),
    Detector("a Slack app token", _B + r"(xapp-[0-9]-[A-Za-z0-9\-]{20,250})" + _E_DASH),
    Detector(
        "a Slack webhook URL",
        r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+\-]{20,})",
    ),
    Detector(
        "a Discord webhook URL",
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]+/[A-Za-z0-9_\-]{30,})",
    ),
    Detector("a Stripe secret key", _B + r"((?:sk|rk)_live_[A-Za-z0-9]{20,247})" + _E),
    Detector("a Google API key", _B + r"(AIza[0-9A-Za-z_\-]{35})" + _E_DASH),
    Detector(
        "a private key",
        r"(-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)",
        min_entropy=0.0,
        context=_pem_body_follows,
    ),
    Detector(
        "a JSON Web Token",
        _B + r"(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,})" + _E_DASH,
        min_entropy=3.0,
    ),
    Detector("an Anthropic API key", _B + r"(sk-ant-[A-Za-z0-9_\-]{20,})" + _E_DASH),
    Detector(
        "an OpenAI API key",
        r"(?:^|[^A-Za-z0-9_\-])(sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,})" + _E_DASH,
    ),
    Detector(
        "an OpenAI API key",
        r"(?:^|[^A-Za-z0-9_\-])(sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{48})"
        + _E_DASH,
        mixed=True,
    ),
    Detector("an npm access token", _B + r"(npm_[A-Za-z0-9]{36})" + _E),
    Detector("a PyPI upload token", _B + r"(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})" + _E_DASH),
    Detector("a Hugging Face token", _B + r"(hf_[A-Za-z0-9]{34,})" + _E, mixed=True),
    Detector("a Twilio API key", _B + r"(SK[0-9a-fA-F]{32})" + _E, min_entropy=3.0),
    Detector(
        "a Twilio auth token",
        r"(?i)twilio[a-z0-9_.\-]{0,30}" + _ASSIGN + r"[\"']?([0-9a-f]{32})" + _E,
        min_entropy=3.0,
    ),
    Detector("a SendGrid API key", _B + r"(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + _E_DASH),
    Detector("a Shopify access token", _B + r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + _E),
    Detector(
        "an Azure storage account key",
        r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)",
        min_entropy=3.5,
    ),
    Detector(
        "a password inside a connection URL",
        r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver)"
        r"://([^:/\s@\"']+):([^@/\s\"']{4,})@",
        min_entropy=2.0,
        generic=True,
    ),
    Detector(
        "a password or key written as a literal value",
        r"(?i)(?:^|[^a-z0-9])[a-z0-9_.\-]*"
        r"(?:password|passwd|passphrase|secret|api[_\-]?key|access[_\-]?key|auth[_\-]?token"
        r"|access[_\-]?token|private[_\-]?key)[a-z0-9_.\-]*"
        r"[\"']?(?:\s*:\s*[a-z_][a-z0-9_\[\], |.]*)?\s*(?::=|=>|=|:)\s*[rbu]?[\"']"
        r"([^\"'\s]{8,200})[\"']",
        min_entropy=3.0,
        mixed=True,
        generic=True,
    ),
    Detector(
        "a password or key written as a literal value",
        r"(?i)^\s*(?:export\s+)?[a-z0-9_.\-]*"
        r"(?:password|passwd|passphrase|secret|api[_\-]?key|access[_\-]?key|token)[a-z0-9_.\-]*"
        r"\s*(?:=|:)\s*([^\s\"'#]{8,200})\s*$",
        min_entropy=3.0,
        mixed=True,
        generic=True,
        only_in=(
            ".env",
            ".env.*",
            "*.env",
            "*.ini",
            "*.cfg",
            "*.conf",
            "*.properties",
            "*.yml",
            "*.yaml",
        ),
    ),
)


class SecretsParams(Params):
    #: Only files matching these gitignore-style patterns are scanned (all text files when omitted).
    paths: Globs | None = None
    #: Files matching these patterns are not scanned.
    exclude: Globs = ()


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


@functools.cache
def _compiled() -> tuple[Any, tuple[_Compiled, ...]]:
    combined = re2.Set.SearchSet(_RE2_OPTIONS)
    items = []
    for index, detector in enumerate(DETECTORS):
        added = combined.Add(detector.regex)
        assert added == index
        only_in = compile_globs(detector.only_in) if detector.only_in is not None else None
        items.append(_Compiled(detector, re2.compile(detector.regex, _RE2_OPTIONS), only_in))
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
    for match in item.regex.finditer(line):
        groups = match.groups()
        value = groups[-1] if groups else match.group(0)
        if value is None:
            continue
        if len(groups) > 1 and groups[0] is not None and value.lower() == groups[0].lower():
            continue  # user:user@ in a URL, a local default
        if _is_placeholder(value, detector):
            continue
        return int(match.start(1) if groups else match.start())
    return None


def _is_placeholder(value: str, detector: Detector) -> bool:
    if detector.min_entropy <= 0.0:
        return False
    lowered = value.lower()
    if any(mark in lowered for mark in _PLACEHOLDER_MARKS):
        return True
    if len(set(value)) <= 3:
        return True
    if detector.generic:
        if value.startswith(_REFERENCE_STARTS) or lowered in _DEFAULT_PASSWORDS:
            return True
        if "(" in value or ")" in value or "://" in value or value.startswith(("/", "./", "~/")):
            return True
        if _WORDLIKE.fullmatch(value) is not None:
            return True  # a name such as "user_password" or "X-Api-Key", not a secret
    if detector.mixed and _classes(value) < 2:
        return True
    return entropy(value) < detector.min_entropy


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


def _describe(kinds: Sequence[str], line: int) -> str:
    what = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return (
        f"Line {line} holds what looks like {what}. The value is not repeated here; "
        "treat it as exposed."
    )


def _selector(rule: Rule) -> tuple[Matcher | None, Matcher]:
    params = rule.params
    assert isinstance(params, SecretsParams)
    included = compile_globs(params.paths) if params.paths is not None else None
    return included, compile_globs(params.exclude)


def in_scope(rule: Rule, change: FileChange) -> bool:
    """Text files (or files that may be text) matching ``paths`` and not ``exclude``."""
    included, excluded = _selector(rule)
    if included is not None and not included.matches(change.path):
        return False
    return not excluded.matches(change.path) and looks_like_text(change)


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    selectors = [(rule, *_selector(rule)) for rule in rules]
    for change in ctx.analysable():
        wanted = [
            rule
            for rule, included, excluded in selectors
            if (included is None or included.matches(change.path))
            and not excluded.matches(change.path)
        ]
        if not wanted:
            continue
        for hit in scan(change):
            for rule in wanted:
                result.findings.append(
                    rule.finding(
                        path=change.path,
                        line=hit.line,
                        column=hit.column,
                        message=_describe(hit.kinds, hit.line),
                    )
                )
    return result


KIND = CheckKind(
    name="secrets",
    params=SecretsParams,
    run=run,
    in_scope=in_scope,
    looks_for="passwords, keys and tokens",
    summary=(
        "Reports added lines holding credentials in well-known formats (cloud and service API "
        "keys, tokens, private keys, passwords written as literals) in files matching `paths` "
        "and not `exclude`; never repeats the value."
    ),
)
