"""The AI service behind the reviewer: Anthropic's Messages API, through its SDK.

This is the only module that imports ``anthropic``. Settings come from the SDK's own variables:
``ANTHROPIC_API_KEY`` (without it there is no reviewer) and ``ANTHROPIC_BASE_URL``.
:func:`service_from_env` *takes* the key out of the environment it is given, so that no process
prgate starts afterwards (git, ruff, the flag parser's workers) inherits it; the key is handed to
the SDK and kept nowhere else: no message, log line or ``repr`` of prgate's contains it, and
exceptions are turned into prgate's own wording, never shown as they are.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

import anthropic

from prgate.errors import ConfigError
from prgate.llm.prompt import TOOL, TOOL_NAME, Prompt
from prgate.llm.session import ServiceError

DEFAULT_BASE_URL = "https://api.anthropic.com"
#: Seconds to connect, at most.
CONNECT_TIMEOUT = 10.0
#: Retries of a failed request (the SDK retries connection errors, 408, 409, 429 and 5xx).
DEFAULT_MAX_RETRIES = 1
KEY_VARIABLE = "ANTHROPIC_API_KEY"
URL_VARIABLE = "ANTHROPIC_BASE_URL"


class AnthropicService:
    """Asks the Messages API, forcing the one answer tool; shared safely between threads."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        if not api_key.strip():
            raise ValueError("the AI reviewer needs an API key (ANTHROPIC_API_KEY is empty)")
        if not 0 <= max_retries <= 3:
            raise ValueError("max_retries must be between 0 and 3")
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=_checked_base_url(base_url),
            max_retries=max_retries,
        )

    def __repr__(self) -> str:
        # Neither the key nor the base URL (which may carry credentials of a proxy) is shown.
        return "AnthropicService()"

    def close(self) -> None:
        self._client.close()

    def ask(self, prompt: Prompt, *, model: str, max_tokens: int, timeout: float) -> str:
        tool: Any = TOOL
        try:
            raw = self._client.messages.with_raw_response.create(
                model=model,
                max_tokens=max_tokens,
                system=prompt.system,
                messages=[{"role": "user", "content": prompt.user}],
                tools=[tool],
                tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
                timeout=anthropic.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            )
            return raw.text()
        except Exception as exc:  # in our own words: the SDK's text may quote the request
            raise _service_error(exc) from None


def _checked_base_url(value: str | None) -> str:
    if not value:
        return DEFAULT_BASE_URL
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        # The value itself is not repeated: it may hold a proxy's credentials.
        raise ConfigError(
            f"{URL_VARIABLE} is not a web address prgate can use.",
            file="the environment",
            hint="Set it to an http:// or https:// address, or unset it to use Anthropic's API.",
        )
    return value


def _service_error(exc: Exception) -> ServiceError:
    """What went wrong, in prgate's words: never the exception's own text."""
    if isinstance(exc, anthropic.APITimeoutError):
        return ServiceError("the AI service did not answer in time", outcome="timeout")
    if isinstance(exc, anthropic.APIConnectionError):
        return ServiceError("prgate could not reach the AI service", outcome="unreachable")
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return ServiceError(
            f"the AI service did not accept the API key ({KEY_VARIABLE})", outcome="refused"
        )
    if isinstance(exc, anthropic.RateLimitError):
        return ServiceError(
            "the AI service is receiving too many requests; try again in a few minutes",
            outcome="rate_limited",
        )
    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code == 529:
            return ServiceError(
                "the AI service is overloaded (HTTP 529); try again in a few minutes",
                outcome="overloaded",
            )
        return ServiceError(
            f"the AI service answered with an error (HTTP {exc.status_code})", outcome="error"
        )
    return ServiceError(f"an unexpected error occurred ({type(exc).__name__})", outcome="error")


def service_from_env(environ: MutableMapping[str, str]) -> AnthropicService | None:
    """The AI service configured by ``ANTHROPIC_API_KEY`` (and ``ANTHROPIC_BASE_URL``), if any.

    The key is removed from ``environ`` (pass ``os.environ``): child processes never see it.
    Raises :class:`ConfigError` when ``ANTHROPIC_BASE_URL`` cannot be used.
    """
    key = environ.pop(KEY_VARIABLE, "").strip()
    if not key:
        return None
    base_url = environ.get(URL_VARIABLE, "").strip() or None
    return AnthropicService(key, base_url=base_url)
