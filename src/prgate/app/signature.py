"""Checking that a delivery comes from GitHub: HMAC-SHA256 of the raw body, compared in
constant time. Done by hand so that a missing, malformed or SHA-1-only signature is a plain
refusal, never an exception or a weaker check."""

from __future__ import annotations

import hashlib
import hmac
import re

_HEX64 = re.compile(r"[0-9a-f]{64}")


def signature_ok(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` (``X-Hub-Signature-256``) signs ``body`` with ``secret``."""
    if not header or not secret:
        return False
    prefix, sep, digest = header.strip().partition("=")
    if not sep or prefix != "sha256":
        return False
    digest = digest.lower()
    if not _HEX64.fullmatch(digest):
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, digest)


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value GitHub would send for ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
