"""The AI reviewer's settings for one repository: the ``llm:`` section of ``.github/prgate.yml``.

Read from the base branch like the rest of the config, so a pull request cannot raise its own
budget or pick its own model.
"""

from __future__ import annotations

from dataclasses import dataclass

from prgate.llm.pricing import DEFAULT_MODEL

DEFAULT_MAX_INPUT_TOKENS_PER_PR = 200_000
DEFAULT_MAX_USD_PER_PR = 1.0
DEFAULT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class LlmSettings:
    #: Whether the App runs rules of check kind ``llm``.
    enabled: bool = False
    #: The Anthropic model that reviews.
    model: str = DEFAULT_MODEL
    #: Most input tokens (estimated before sending) spent on one pull request, all rules together:
    #: on the App over all its pushes (``prgate.llm.budget``), on the command line per run.
    max_input_tokens_per_pr: int = DEFAULT_MAX_INPUT_TOKENS_PER_PR
    #: Most US dollars (estimated) spent on one pull request, all rules together (likewise).
    max_usd_per_pr: float = DEFAULT_MAX_USD_PER_PR
    #: Seconds one request to the AI service may take.
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
