"""A scripted AI service for the rule cases of ``prgate rules test``: no network, no key.

A case of an ``llm`` rule writes the findings the model answers (``answer:``, the answer tool's
``findings`` list); the case then runs through the same prompt building, answer checking,
placement and cleaning as a real review, so it shows what the rule reports for such an answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from prgate.llm.cache import MemoryCache
from prgate.llm.prompt import TOOL_NAME, Prompt
from prgate.llm.session import ReviewSession
from prgate.llm.settings import LlmSettings


class ReplayService:
    """Answers every request with the same scripted findings; records the prompts."""

    def __init__(self, findings: Sequence[Any]) -> None:
        self.findings = list(findings)
        self.prompts: list[Prompt] = []

    def ask(self, prompt: Prompt, *, model: str, max_tokens: int, timeout: float) -> str:
        self.prompts.append(prompt)
        return json.dumps(
            {
                "type": "message",
                "role": "assistant",
                "model": model,
                "stop_reason": "tool_use",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_replay",
                        "name": TOOL_NAME,
                        "input": {"findings": self.findings},
                    }
                ],
                "usage": {"input_tokens": 0, "output_tokens": 0},
            }
        )


def replay_session(findings: Sequence[Any]) -> ReviewSession:
    return ReviewSession(ReplayService(findings), settings=LlmSettings(), cache=MemoryCache())
