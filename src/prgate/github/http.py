"""One configured githubkit client: explicit timeouts, deliberate retries, typed errors.

githubkit's defaults do not suit a gate: no timeout, automatic retries of *any* method on a 5xx
(a retried POST can create a second check run), and sleeping until a rate limit resets inside
the caller. Here only reads (GET, GraphQL queries) and the writes a caller marks as safe to
repeat are retried, briefly, on a 5xx, a timeout or a lost connection; rate limits are raised at
once as :class:`RateLimited` so that the job is retried later instead.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from githubkit import GitHub, UnauthAuthStrategy
from githubkit.exception import (
    GitHubException,
    GraphQLFailed,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)

from prgate.github.errors import GitHubError, NotFound, RateLimited, Unprocessable

#: Called after every HTTP answer from GitHub with (method, status); status 0 = no answer.
CallObserver = Callable[[str, int], None]
#: Called with (resource, remaining, reset epoch seconds) of every answer that carries them.
RateObserver = Callable[[str, int, float], None]

#: GitHub's REST API version prgate speaks (the published OpenAPI description's version).
API_VERSION = "2022-11-28"


@functools.cache
def _tls(trust_env: bool) -> ssl.SSLContext:
    """One TLS context per process: building one costs ~40 ms of CPU, and each job opens a client."""
    return httpx.create_ssl_context(trust_env=trust_env)


def _no_observer(_method: str, _status: int) -> None:
    return None


@dataclass(frozen=True)
class ApiSettings:
    """Where GitHub is and how patient to be with it."""

    base_url: str = "https://api.github.com"
    #: Seconds for connecting, reading, writing; every call has a bound.
    timeout: float = 15.0
    user_agent: str = "prgate"
    #: Retries of a read (or a write marked safe to repeat) after a 5xx answer, a timeout or a
    #: lost connection.
    read_retries: int = 2
    retry_pause: float = 0.5
    observer: CallObserver = _no_observer
    trust_env: bool = True


def _transient(exc: GitHubException) -> bool:
    """A 5xx answer, a timeout or a lost connection: worth trying again (never a rate limit)."""
    if isinstance(exc, RateLimitExceeded):
        return False
    if isinstance(exc, RequestFailed):
        return exc.response.status_code >= 500
    return isinstance(exc, RequestError)


class Http:
    """Requests to GitHub with one ``Authorization`` header. Use as a context manager to reuse
    one connection pool; without it, each call opens its own connection."""

    def __init__(
        self,
        settings: ApiSettings,
        *,
        authorization: str | None,
        on_rate: RateObserver | None = None,
    ) -> None:
        self._settings = settings
        headers: dict[str, str] = {"X-GitHub-Api-Version": API_VERSION}
        if authorization:
            headers["Authorization"] = authorization
        self._headers = headers
        #: GitHub's ``x-ratelimit-remaining`` on the latest answer, once there was one.
        self.rate_remaining: int | None = None
        observer = settings.observer

        def on_response(response: httpx.Response) -> None:
            remaining = response.headers.get("x-ratelimit-remaining")
            if remaining is not None and remaining.isdigit():
                self.rate_remaining = int(remaining)
                reset = response.headers.get("x-ratelimit-reset", "")
                # Figures of answers only: a refusal says when to try again (RateLimited).
                if on_rate is not None and reset.isdigit() and response.status_code < 400:
                    resource = response.headers.get("x-ratelimit-resource") or "core"
                    on_rate(resource, int(remaining), float(reset))
            observer(response.request.method, response.status_code)

        self._client: GitHub[Any] = GitHub(
            UnauthAuthStrategy(),
            base_url=settings.base_url.rstrip("/") + "/",
            user_agent=settings.user_agent,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            trust_env=settings.trust_env,
            ssl_verify=_tls(settings.trust_env),
            event_hooks={"response": [on_response]},
            http_cache=False,
            auto_retry=False,  # retried here, by what the call is (see _call)
            rest_api_validate_body=False,
        )
        self._entered = False

    def __repr__(self) -> str:  # never show the authorization header
        return f"Http({self._settings.base_url!r})"

    def __enter__(self) -> Http:
        self._client.__enter__()  # type: ignore[no-untyped-call]
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._entered:
            self._entered = False
            self._client.__exit__(exc_type, exc, tb)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = False,
    ) -> httpx.Response:
        """One REST call; the raw response on 2xx, a typed :class:`GitHubError` otherwise.

        GETs are retried on transient failures; other methods only with ``retry=True`` (the
        caller knows that repeating the write is harmless)."""
        merged = dict(self._headers)
        merged.update(headers or {})
        return self._call(
            method,
            path.lstrip("/"),
            json=json,
            params=dict(params) if params else None,
            headers=merged,
            retry=retry or method.upper() == "GET",
            what=path,
        )

    def _call(
        self,
        method: str,
        url: str,
        *,
        json: object,
        params: dict[str, str | int] | None,
        headers: dict[str, str],
        retry: bool,
        what: str,
    ) -> httpx.Response:
        tries = 1 + (self._settings.read_retries if retry else 0)
        for n in range(tries):
            try:
                resp = self._client.request(method, url, json=json, params=params, headers=headers)
            except GitHubException as exc:
                if n + 1 < tries and _transient(exc):
                    time.sleep(self._settings.retry_pause * (n + 1))
                    continue
                raise _translate(exc, method, what) from None
            return resp.raw_response
        raise AssertionError("unreachable")  # pragma: no cover

    def json(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str | int] | None = None,
        retry: bool = False,
    ) -> Any:
        return self.request(method, path, json=json, params=params, retry=retry).json()

    def pages(
        self, path: str, what: str, *, params: Mapping[str, str | int] | None = None
    ) -> Iterator[list[Any]]:
        """The pages (100 items each) of a REST list, until a short one; the caller may stop
        sooner. An answer that is not a list raises :class:`GitHubError` naming ``what``."""
        page = 1
        while True:
            batch = self.json("GET", path, params={**(params or {}), "per_page": 100, "page": page})
            if not isinstance(batch, list):
                raise GitHubError(f"GitHub listed {what} in an unexpected shape")
            yield batch
            if len(batch) < 100:
                return
            page += 1

    def graphql(self, query: str, variables: Mapping[str, object] | None = None) -> Any:
        """One GraphQL query (a read: retried like a GET); its ``data`` object. Errors become
        :class:`GitHubError`."""
        resp = self._call(
            "POST",
            "graphql",
            json={"query": query, "variables": dict(variables or {})},
            params=None,
            headers=self._headers,
            retry=True,
            what="/graphql",
        )
        try:
            body = resp.json()
        except ValueError:
            raise GitHubError("GitHub's GraphQL API answered with something not JSON") from None
        if not isinstance(body, dict):
            raise GitHubError("GitHub's GraphQL API answered with an unexpected shape")
        errors = body.get("errors")
        if errors:
            kinds = {str(e.get("type", "")) for e in errors if isinstance(e, dict)}
            if kinds & {"RATE_LIMIT", "RATE_LIMITED"}:
                raise RateLimited(
                    "GitHub's GraphQL rate limit was reached", retry_at=time.time() + 60
                )
            # Also with partial data: a field that failed reads as null, which must never be
            # taken for "this file does not exist" (a missing config would loosen the rules).
            raise GitHubError(f"GitHub's GraphQL API reported an error ({_first(errors)})")
        data = body.get("data")
        if not isinstance(data, dict):
            raise GitHubError("GitHub's GraphQL API returned no data")
        return data


def _first(errors: object) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", "unknown error"))[:200]
    return "unknown error"


def _translate(exc: GitHubException, method: str, path: str) -> GitHubError:
    what = f"{method} {path.split('?')[0]}"
    if isinstance(exc, RateLimitExceeded):
        return RateLimited(
            f"GitHub's rate limit was reached ({what})",
            retry_at=time.time() + exc.retry_after.total_seconds(),
            status=exc.response.status_code,
        )
    if isinstance(exc, GraphQLFailed):
        return GitHubError(f"GitHub's GraphQL API refused the query ({what})")
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        if status == 429:  # throttled without the usual headers: try again in a minute
            return RateLimited(
                f"GitHub asked to slow down ({what})", retry_at=time.time() + 60, status=status
            )
        message = f"GitHub answered {status} to {what}"
        detail = _message(exc.response.raw_response)
        if status == 403 and "rate limit" in detail.lower():
            # A secondary rate limit without retry-after: GitHub asks for at least a minute.
            return RateLimited(
                f"GitHub's rate limit was reached ({what})",
                retry_at=time.time() + 60,
                status=status,
            )
        if detail:
            message += f": {detail}"
        if status == 404:
            return NotFound(message, status=status)
        if status == 422:
            return Unprocessable(message, status=status)
        return GitHubError(message, status=status)
    if isinstance(exc, RequestTimeout):
        return GitHubError(f"GitHub did not answer in time ({what})")
    if isinstance(exc, RequestError):
        return GitHubError(f"GitHub could not be reached ({what}: {type(exc.exc).__name__})")
    return GitHubError(f"GitHub call failed ({what}: {type(exc).__name__})")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:200]
    return ""
