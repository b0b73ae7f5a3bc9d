"""The AI reviewer the shells plug into the engine: Anthropic's Messages API, through its SDK.

This is the only module that imports ``anthropic``. Settings come from the SDK's own variables:
``ANTHROPIC_API_KEY`` (without it there is no reviewer) and ``ANTHROPIC_BASE_URL``. The key is
handed to the SDK and kept nowhere else: no message, log line or ``repr`` of prgate's contains it,
and exceptions are turned into prgate's own wording, never shown as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import anthropic

from prgate.checks import CheckResult, Reviewer, Rule
from prgate.errors import ConfigError
from prgate.llm.answer import UnreadableAnswer, read_answer
from prgate.llm.params import LlmParams
from prgate.llm.prompt import TOOL, TOOL_NAME, Prompt, build_prompt
from prgate.llm.reviewer import cannot_judge
from prgate.model import ChangeSet

DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_BASE_URL = "https://api.anthropic.com"
#: Seconds one request may take in all, and to connect.
DEFAULT_TIMEOUT = 90.0
CONNECT_TIMEOUT = 10.0
#: Retries of a failed request (the SDK retries connection errors, 408, 409, 429 and 5xx).
DEFAULT_MAX_RETRIES = 1
#: The answer is a list of short findings: this is plenty, and bounds cost and time.
MAX_OUTPUT_TOKENS = 4_096


class AnthropicReviewer:
    """Reviews each ``llm`` rule with one Messages API request."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        if not api_key.strip():
            raise ValueError("the AI reviewer needs an API key (ANTHROPIC_API_KEY is empty)")
        if not 0 <= max_retries <= 3:
            raise ValueError("max_retries must be between 0 and 3")
        self.model = model
        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=_checked_base_url(base_url),
            timeout=anthropic.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            max_retries=max_retries,
        )

    def __repr__(self) -> str:
        # Neither the key nor the base URL (which may carry credentials of a proxy) is shown.
        return f"AnthropicReviewer(model={self.model!r})"

    def close(self) -> None:
        self._client.close()

    def review(self, rule: Rule, changeset: ChangeSet) -> CheckResult:
        params = rule.params
        if not isinstance(params, LlmParams):
            return CheckResult(findings=[cannot_judge(rule, "the rule has no instructions")])
        prompt = build_prompt(rule, params, changeset)
        result = CheckResult(skipped=list(prompt.skipped))
        if not prompt.sent:
            return result  # no matching added lines: nothing to ask about
        try:
            result.extend(read_answer(self._ask(prompt), rule=rule, sent=prompt.sent))
        except UnreadableAnswer as exc:
            result.findings.append(cannot_judge(rule, f"the AI service answered, but {exc.reason}"))
        except Exception as exc:  # fail closed, in our own words
            result.findings.append(cannot_judge(rule, _describe(exc)))
        return result

    def _ask(self, prompt: Prompt) -> object:
        tool: Any = TOOL
        raw = self._client.messages.with_raw_response.create(
            model=self.model,
            max_tokens=MAX_OUTPUT_TOKENS,
            system=prompt.system,
            messages=[{"role": "user", "content": prompt.user}],
            tools=[tool],
            tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
        )
        try:
            return json.loads(raw.text())
        except ValueError:
            raise UnreadableAnswer("its answer was not JSON") from None


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
            "ANTHROPIC_BASE_URL is not a web address prgate can use.",
            file="the environment",
            hint="Set it to an http:// or https:// address, or unset it to use Anthropic's API.",
        )
    return value


def _describe(exc: Exception) -> str:
    """What went wrong, in prgate's words: never the exception's own text."""
    if isinstance(exc, anthropic.APITimeoutError):
        return "the AI service did not answer in time"
    if isinstance(exc, anthropic.APIConnectionError):
        return "prgate could not reach the AI service"
    if isinstance(exc, anthropic.AuthenticationError | anthropic.PermissionDeniedError):
        return "the AI service did not accept the API key (ANTHROPIC_API_KEY)"
    if isinstance(exc, anthropic.RateLimitError):
        return "the AI service is receiving too many requests; try again in a few minutes"
    if isinstance(exc, anthropic.APIStatusError):
        return f"the AI service answered with an error (HTTP {exc.status_code})"
    return f"an unexpected error occurred ({type(exc).__name__})"


def reviewer_from_env(environ: Mapping[str, str], *, model: str = DEFAULT_MODEL) -> Reviewer | None:
    """The AI reviewer configured by ``ANTHROPIC_API_KEY`` (and ``ANTHROPIC_BASE_URL``), if any."""
    key = environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        return None
    base_url = environ.get("ANTHROPIC_BASE_URL", "").strip() or None
    return AnthropicReviewer(key, base_url=base_url, model=model)
