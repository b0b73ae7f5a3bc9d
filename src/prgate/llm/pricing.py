"""Which model the AI reviewer uses by default, and what its requests are estimated to cost.

The prices are estimates in US dollars per million tokens, by model family. They are used to keep
a pull request within the team's budget (``llm.max_usd_per_pr``), not to bill anyone: a model
whose family is not in the table is priced as the most expensive one known, so that the budget
errs on the safe side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The newest Sonnet-class model in the installed SDK's list of models (``anthropic.types.Model``).
DEFAULT_MODEL = "claude-sonnet-5-5"

#: Characters per token assumed when estimating a request before it is sent. Real text averages
#: closer to four; three over-estimates, so a request that fits the estimate fits the budget.
CHARS_PER_TOKEN = 3


@dataclass(frozen=True)
class Price:
    """US dollars per million input and output tokens."""

    input: float
    output: float

    def usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


#: By family, matched as a word of the model's name (``claude-sonnet-5-5`` is a ``sonnet``).
PRICES: dict[str, Price] = {
    "haiku": Price(input=1.0, output=5.0),
    "sonnet": Price(input=3.0, output=15.0),
    "opus": Price(input=15.0, output=75.0),
}
#: What an unknown model is assumed to cost: the most expensive family known.
UNKNOWN_PRICE = max(PRICES.values(), key=lambda p: (p.output, p.input))


def price_for(model: str) -> Price:
    words = model.lower().replace("_", "-").split("-")
    for family, price in PRICES.items():
        if family in words:
            return price
    return UNKNOWN_PRICE


def estimate_tokens(text: str) -> int:
    """A conservative estimate of the tokens ``text`` takes (rounded up)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)
