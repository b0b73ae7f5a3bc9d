"""The seam between the AI reviewer and the AI service: what a service answers, and how it fails.

:mod:`prgate.llm.client` implements it with the Anthropic SDK; :mod:`prgate.llm.replay` with
scripted answers for the rule cases.
"""

from __future__ import annotations

from typing import Protocol

from prgate.llm.prompt import Prompt


class ServiceError(Exception):
    """The service could not answer. ``reason`` is prgate's own wording, safe to show;
    ``outcome`` is a short word for metrics (``timeout``, ``rate_limited``, ``overloaded``...)."""

    def __init__(self, reason: str, *, outcome: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


class Service(Protocol):
    def ask(self, prompt: Prompt, *, model: str, max_tokens: int, timeout: float) -> str:
        """The raw answer (JSON text) to ``prompt``; :class:`ServiceError` when there is none."""
        ...
