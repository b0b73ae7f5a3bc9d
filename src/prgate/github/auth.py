"""The App's identity: a signed JWT for App calls, and installation tokens per repository.

Installation tokens are asked for one repository at a time (least privilege) and kept until
shortly before they expire. Nothing here ever puts a key or a token into a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import jwt

from prgate.github.budget import RateBudget
from prgate.github.errors import GitHubError, NotFound
from prgate.github.http import ApiSettings, Http, RateObserver

#: Tokens are renewed this many seconds before GitHub says they expire.
TOKEN_MARGIN = 300.0
#: App JWTs live 9 minutes (GitHub allows 10) and are re-signed a minute before that.
JWT_LIFETIME = 540
#: A repository the installation cannot access is not asked about again for this long.
DENIED_FOR = 300.0
Clock = Callable[[], float]


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    private_key: str = field(repr=False)

    def __repr__(self) -> str:
        return f"AppCredentials(app_id={self.app_id!r})"


@dataclass
class _Token:
    value: str
    expires_at: float


class AppAuth:
    """Signs App JWTs and hands out cached installation tokens scoped to one repository."""

    def __init__(
        self,
        credentials: AppCredentials,
        api: ApiSettings,
        *,
        clock: Clock = time.time,
        slug: str | None = None,
    ) -> None:
        self._credentials = credentials
        #: The App's slug (its bot is ``<slug>[bot]``), when known; else asked of GitHub once.
        self._slug = slug or None
        self._api = api
        self._clock = clock
        self._lock = threading.Lock()
        self._jwt: _Token | None = None
        self._tokens: dict[tuple[int, str], _Token] = {}
        #: Repositories the installation could not access, and until when to believe that.
        self._denied: dict[tuple[int, str], float] = {}
        #: What each installation has left of GitHub's rate limit, from its answers.
        self.budget = RateBudget()

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self._credentials.app_id!r})"

    @property
    def api(self) -> ApiSettings:
        return self._api

    def app_jwt(self) -> str:
        with self._lock:
            now = time.time()  # GitHub checks the JWT against its own (real) clock
            if self._jwt is None or self._jwt.expires_at - 60 <= now:
                self._jwt = _Token(self._sign(now), now + JWT_LIFETIME)
            return self._jwt.value

    def _sign(self, now: float) -> str:
        payload = {
            "iat": int(now) - 60,
            "exp": int(now) + JWT_LIFETIME,
            "iss": self._credentials.app_id,
        }
        try:
            return jwt.encode(payload, self._credentials.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            raise GitHubError(
                "The App's private key could not be used to sign (is it the PEM file GitHub "
                "gave for this App?)"
            ) from None

    def bot_login(self) -> str:
        """The login of this App's bot (``<app-slug>[bot]``), the author of its comments."""
        with self._lock:
            slug = self._slug
        if slug is None:
            with self.app_http() as http:
                data = http.json("GET", "/app")
            found = data.get("slug") if isinstance(data, dict) else None
            if not isinstance(found, str) or not found:
                raise GitHubError("GitHub did not say which App this is (GET /app had no slug)")
            with self._lock:
                self._slug = slug = found
        return f"{slug}[bot]"

    def app_http(self) -> Http:
        """A client acting as the App itself (installation and manifest calls)."""
        return Http(self._api, authorization=f"Bearer {self.app_jwt()}")

    def installation_token(self, installation_id: int, repo: str) -> str:
        """A token for ``repo`` (``owner/name``) only, reused until shortly before it expires."""
        key = (installation_id, repo.lower())
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.expires_at - TOKEN_MARGIN > self._clock():
                return cached.value
            if self._denied.get(key, 0.0) > self._clock():
                raise NotFound(f"The App's installation cannot access {repo}", status=404)
        name = repo.split("/", 1)[1]
        with self.app_http() as http:
            try:
                body = http.json(
                    "POST",
                    f"/app/installations/{installation_id}/access_tokens",
                    json={"repositories": [name]},
                    retry=True,  # a second token does no harm
                )
            except GitHubError as exc:
                if exc.status in (404, 422):
                    with self._lock:
                        self._denied[key] = self._clock() + DENIED_FOR
                    raise NotFound(
                        f"The App's installation cannot access {repo}", status=exc.status
                    ) from None
                raise
        token = _Token(str(body["token"]), _parse_time(str(body.get("expires_at", ""))))
        with self._lock:
            self._tokens[key] = token
        return token.value

    def installation_http(self, installation_id: int) -> Http:
        """A client for the installation as a whole, allowed to read metadata only (enough to
        list the repositories it covers)."""
        key = (installation_id, "*")
        with self._lock:
            cached = self._tokens.get(key)
            value = (
                cached.value
                if cached is not None and cached.expires_at - TOKEN_MARGIN > self._clock()
                else None
            )
        if value is None:
            with self.app_http() as http:
                body = http.json(
                    "POST",
                    f"/app/installations/{installation_id}/access_tokens",
                    json={"permissions": {"metadata": "read"}},
                    retry=True,
                )
            token = _Token(str(body["token"]), _parse_time(str(body.get("expires_at", ""))))
            with self._lock:
                self._tokens[key] = token
            value = token.value
        return Http(self._api, authorization=f"token {value}", on_rate=self._noter(installation_id))

    def repo_http(self, installation_id: int, repo: str) -> Http:
        return Http(
            self._api,
            authorization=f"token {self.installation_token(installation_id, repo)}",
            on_rate=self._noter(installation_id),
        )

    def _noter(self, installation_id: int) -> RateObserver:
        def note(resource: str, remaining: int, reset_at: float) -> None:
            self.budget.note(installation_id, resource, remaining, reset_at)

        return note

    def forget(self, installation_id: int, repo: str) -> None:
        """Drop a cached token (after GitHub said it is no longer valid)."""
        with self._lock:
            self._tokens.pop((installation_id, repo.lower()), None)


def _parse_time(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time() + 600  # unknown: assume a short life
