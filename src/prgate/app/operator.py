"""Who is the operator: the holder of ``PRGATE_OPERATOR_TOKEN``, for the pages only they see.

Three ways in, all derived from the token (nothing stored, so every replica agrees and a new
token ends every session):

- ``Authorization: Bearer <token>`` on a request, for scripts.
- A sign-in link, ``/insights/login?ticket=...``, made by ``prgate insights --link`` where the
  token is set: valid ``LINK_TTL`` seconds and once (a process remembers the links spent until
  they expire, and spends each in the store too, so that another replica refuses it as well). Opening it sets the session cookie and sends the browser on
  to the page, so that the ticket does not stay in the address bar.
- The session cookie ``prgate_operator``: an expiry time and its HMAC, valid ``SESSION_TTL``
  seconds; HttpOnly, ``SameSite=Strict``, limited to ``/insights``, and ``Secure`` unless plain
  http is allowed for local development (``PRGATE_ALLOW_INSECURE_HTTP``).

Tickets and cookies are HMACs under a key derived from the token, compared in constant time;
the token itself never travels in a cookie or a link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable

#: The session cookie's name.
COOKIE = "prgate_operator"
#: The path the session cookie is sent to (the operator's pages live under it).
COOKIE_PATH = "/insights"
#: Seconds a sign-in link stays valid, and a session lasts.
LINK_TTL = 300.0
SESSION_TTL = 12 * 3600.0
#: Sign-in links remembered as spent at once (the oldest are forgotten first).
MAX_SPENT = 4096

_TICKET = re.compile(r"([0-9]{1,12})\.([A-Za-z0-9_-]{16,64})\.([0-9a-f]{64})")
_SESSION = re.compile(r"([0-9]{1,12})\.([0-9a-f]{64})")


def _key(token: str) -> bytes:
    return hashlib.sha256(b"prgate operator key|" + token.encode()).digest()


def _mac(token: str, purpose: str, *parts: str) -> str:
    message = "|".join((purpose, *parts)).encode()
    return hmac.new(_key(token), message, hashlib.sha256).hexdigest()


def make_ticket(token: str, *, now: float | None = None) -> str:
    """A one-time sign-in ticket, valid ``LINK_TTL`` seconds from ``now``."""
    now = time.time() if now is None else now
    expires = str(int(now + LINK_TTL))
    nonce = secrets.token_urlsafe(24)
    return f"{expires}.{nonce}.{_mac(token, 'link', expires, nonce)}"


def login_link(token: str, base_url: str, *, now: float | None = None) -> str:
    """The sign-in link to the insights page of the server at ``base_url``."""
    return f"{base_url.rstrip('/')}/insights/login?ticket={make_ticket(token, now=now)}"


class Operator:
    """Checks the operator's credentials for one process. ``clock`` (epoch seconds) can be
    replaced, for tests of expiry."""

    def __init__(self, token: str | None, *, clock: Callable[[], float] = time.time) -> None:
        self._token = token
        self.clock = clock
        self._lock = threading.Lock()
        self._spent: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def bearer_ok(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries the operator token."""
        if not self._token or not header or not header.startswith("Bearer "):
            return False
        given = header[len("Bearer ") :].strip()
        return hmac.compare_digest(
            hashlib.sha256(given.encode()).digest(), hashlib.sha256(self._token.encode()).digest()
        )

    def spend_ticket(self, ticket: str) -> str | None:
        """The nonce of ``ticket`` when it is a valid sign-in ticket not used before in this
        process (it never works here again); ``None`` otherwise. Replicas sharing a store also
        spend the nonce there (see :mod:`prgate.app.insightsroutes`)."""
        token = self._token
        found = _TICKET.fullmatch(ticket or "")
        if not token or found is None:
            return None
        expires, nonce, mac = found.groups()
        now = self.clock()
        if not hmac.compare_digest(mac, _mac(token, "link", expires, nonce)):
            return None
        if int(expires) <= now or int(expires) > now + LINK_TTL + 60:
            return None
        with self._lock:
            for old in [n for n, until in self._spent.items() if until <= now]:
                del self._spent[old]
            if nonce in self._spent:
                return None
            while len(self._spent) >= MAX_SPENT:
                del self._spent[next(iter(self._spent))]
            self._spent[nonce] = float(expires)
        return nonce

    def new_session(self) -> str:
        """A session cookie's value, valid ``SESSION_TTL`` seconds."""
        if not self._token:
            raise RuntimeError("no operator token is set")
        expires = str(int(self.clock() + SESSION_TTL))
        return f"{expires}.{_mac(self._token, 'session', expires)}"

    def session_ok(self, value: str | None) -> bool:
        token = self._token
        found = _SESSION.fullmatch(value or "")
        if not token or found is None:
            return False
        expires, mac = found.groups()
        if not hmac.compare_digest(mac, _mac(token, "session", expires)):
            return False
        return self.clock() < int(expires) <= self.clock() + SESSION_TTL + 60
