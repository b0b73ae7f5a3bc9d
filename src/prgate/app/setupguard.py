"""The setup page's one-time values: the setup code printed in the log, the CSRF tokens, and
the ``state`` tokens handed to GitHub (bound to a browser, short-lived, single-use, bounded).

They live in this process only, and die with it: a restart prints a new code and forgets every
token. The flow that uses them is in :mod:`prgate.app.setup`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

log = logging.getLogger("prgate.app.setup")

#: Seconds a ``state`` token stays valid (GitHub's confirmation page is quick to answer).
STATE_TTL = 600.0
#: ``state`` tokens kept at once; a new one pushes out the oldest.
MAX_PENDING = 16
#: Wrong setup codes after which the code is replaced by a new one.
MAX_CODE_ATTEMPTS = 5
#: The setup code: letters and digits that cannot be mistaken for one another, 60 bits.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


class Spent(Enum):
    """What became of a ``state`` token presented at the callback."""

    OK = "ok"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    OTHER_BROWSER = "other_browser"


@dataclass(frozen=True)
class _Pending:
    browser: str
    expires: float


class SetupGuard:
    """The setup's secrets and one-time values, for one process. ``clock`` (monotonic seconds)
    can be replaced, for tests of expiry."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        #: Held while the App is being created, so that two callbacks cannot both save one.
        self.finishing = threading.Lock()
        self._code = _new_code()
        self._wrong = 0
        self._pending: OrderedDict[str, _Pending] = OrderedDict()

    def announce(self, where: str) -> None:
        """Print the setup code in the log: only someone who can read it can finish setup."""
        with self._lock:
            code = self._code
        log.warning(
            "prgate is not set up yet. Open %s in a browser and enter this one-time setup code: %s",
            where,
            _grouped(code),
        )

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, nonce: str) -> str:
        return self._mac("csrf", nonce)

    def csrf_ok(self, nonce: str, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(nonce).encode(), token.encode())

    def check_code(self, given: str) -> bool | None:
        """``True`` for the right code; ``False`` for a wrong one; ``None`` for a wrong one
        that used up the attempts, after which a new code is printed in the log."""
        typed = "".join(ch for ch in given.upper() if ch.isalnum())
        with self._lock:
            if hmac.compare_digest(typed.encode(), self._code.encode()):
                return True
            self._wrong += 1
            if self._wrong < MAX_CODE_ATTEMPTS:
                return False
            self._code, self._wrong = _new_code(), 0
            code = self._code
        log.warning(
            "%d wrong setup codes were entered, so the setup code was replaced. "
            "The new one-time setup code is: %s",
            MAX_CODE_ATTEMPTS,
            _grouped(code),
        )
        return None

    def issue_state(self, nonce: str) -> str:
        """A new ``state`` token for GitHub, bound to the browser holding ``nonce``."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            for key in [k for k, p in self._pending.items() if p.expires <= now]:
                del self._pending[key]
            while len(self._pending) >= MAX_PENDING:
                self._pending.popitem(last=False)
            self._pending[_digest(token)] = _Pending(
                browser=self._mac("browser", nonce), expires=now + STATE_TTL
            )
        return token

    def spend_state(self, token: str, nonce: str) -> Spent:
        """Spend ``token`` (it never works again) and say whether it may finish setup."""
        with self._lock:
            pending = self._pending.pop(_digest(token), None)
        if pending is None:
            return Spent.UNKNOWN
        if pending.expires <= self.clock():
            return Spent.EXPIRED
        if not nonce or not hmac.compare_digest(
            pending.browser.encode(), self._mac("browser", nonce).encode()
        ):
            return Spent.OTHER_BROWSER
        return Spent.OK

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        """Setup is done: every token and the code stop working."""
        with self._lock:
            self._pending.clear()
            self._code = _new_code()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
