"""Whether a value that has a credential's shape is a stand-in: a placeholder, a reference, a name.

Used by :mod:`prgate.checks.secrets` after a detector matched. A value is a stand-in when it holds
a placeholder word (``changeme``, ``example``, ``xxxx``) or a template mark (``${``, ``{{``,
``<``), has too few distinct characters or too little entropy for its detector, or, for values
assigned to a name (``password = "..."``), when it reads as a reference, a call, a path or a
cloud resource name (``projects/p/secrets/s/versions/latest``, an ARN), a plain word, or a common
default password. A name whose last word is ``id``, ``name``, ``path``... (``private_key_id``)
holds something about a credential, not the credential.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from prgate.checks.secretkinds import Detector

__all__ = ["entropy", "is_placeholder", "names_no_value"]

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


def names_no_value(name: str) -> bool:
    """Whether an assigned name holds something about a credential rather than one."""
    words = [w for w in re.split(r"[_.\-]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)) if w]
    if not words:
        return False
    last = words[-1].lower()
    return last in _NOT_A_VALUE_WORDS or last.endswith(("keyid", "tokenid", "secretid"))


def is_placeholder(value: str, detector: Detector, *, assigned: bool = False) -> bool:
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
