"""One pull request's AI review: the budget, the cache, batching, retries, and failing closed.

A :class:`ReviewSession` is made for each evaluation (one run of ``prgate check --llm``, one job
of the App) and handed to the engine as its :class:`prgate.checks.Reviewer`. For each ``llm``
rule it takes the files the rule covers (most important first), answers from the cache what was
already reviewed in the same place (scope and path) with the same content and the same rule text,
and sends the rest in batches, each reserved against what is left of the budget
(:mod:`prgate.llm.budget`) *before* it is sent. What did not fit, and what the service could not
review, is listed as skipped; when the review could not be completed the rule also reports so: a
``notice``, or an ``error`` when the team set the rule to ``error`` (a rule that must approve
every change fails closed). A budget that runs out only ever gives a ``notice``: it stops the
review, never the change. A session may also be *held* (the App's pull requests from forks and
from authors without write access): then nothing is sent, only cached reviews of this very
repository are used, and each rule says why the rest was not read. Nothing raises.

The service behind it is a small protocol (:class:`Service`): the Anthropic SDK in production
(:mod:`prgate.llm.client`), scripted answers for the rule cases (:mod:`prgate.llm.replay`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prgate.checks import CheckResult, Rule
from prgate.llm.answer import AiFinding, UnreadableAnswer, parse_body, read_answer, read_usage
from prgate.llm.budget import Budget, BudgetSpent, LocalBudget, Spend
from prgate.llm.cache import LOCAL_SCOPE, LlmCache
from prgate.llm.params import LlmParams
from prgate.llm.pricing import CHARS_PER_TOKEN, price_for
from prgate.llm.prompt import Prompt
from prgate.llm.reviewer import cannot_judge
from prgate.llm.rulerun import BATCH_CHARS, MAX_FINDINGS, RuleRun
from prgate.llm.service import Service, ServiceError
from prgate.llm.settings import LlmSettings
from prgate.model import ChangeSet

__all__ = [
    "BATCH_CHARS",
    "MAX_FINDINGS",
    "MAX_OUTPUT_TOKENS",
    "BudgetSpent",
    "Hold",
    "LlmUsage",
    "ReviewSession",
    "Service",
    "ServiceError",
]

#: The answer is a list of short findings: this is plenty, and bounds cost and time.
MAX_OUTPUT_TOKENS = 4_096


@dataclass(frozen=True)
class Hold:
    """Why a session may not send the change to the AI service, in prgate's own words: ``why``
    completes "this change was not sent to it: ...", ``how`` says what a person can do."""

    why: str
    how: str


@dataclass(frozen=True)
class LlmUsage:
    """What one session used, for the run record and the metrics."""

    requests: int = 0
    cached: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    #: Requests by outcome: ``ok``, ``invalid_answer``, ``timeout``, ``rate_limited``...
    outcomes: Mapping[str, int] = field(default_factory=dict)

    def record(self) -> dict[str, float]:
        """The run record's ``llm`` mapping."""
        return {
            "requests": float(self.requests),
            "cached": float(self.cached),
            "input_tokens": float(self.input_tokens),
            "output_tokens": float(self.output_tokens),
            "usd": round(self.usd, 6),
        }


class ReviewSession:
    """The reviewer of one evaluation. Not shared between threads."""

    def __init__(
        self,
        service: Service,
        *,
        settings: LlmSettings,
        cache: LlmCache,
        budget: Budget | None = None,
        scope: str = LOCAL_SCOPE,
        hold: Hold | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.cache = cache
        #: What may be spent: this run's own by default (the command line).
        self.budget: Budget = budget if budget is not None else LocalBudget(settings)
        #: Where the reviewed files are (part of every cache key).
        self.scope = scope
        self.hold = hold
        #: Whether the hold kept something from being sent; why the budget stopped the review.
        self.held = False
        self.stopped: str | None = None
        self._price = price_for(settings.model)
        self._requests = 0
        self._cached = 0
        self._input_tokens = 0
        self._output_tokens = 0
        self._usd = 0.0
        self._outcomes: Counter[str] = Counter()
        #: Set once the service failed: later rules do not wait for it again.
        self._down: str | None = None

    def __repr__(self) -> str:
        return f"ReviewSession(model={self.settings.model!r})"

    @property
    def down(self) -> str | None:
        """Why the service is unavailable for the rest of this session, once it failed."""
        return self._down

    def usage(self) -> LlmUsage:
        return LlmUsage(
            requests=self._requests,
            cached=self._cached,
            input_tokens=self._input_tokens,
            output_tokens=self._output_tokens,
            usd=self._usd,
            outcomes=dict(self._outcomes),
        )

    # --- the Reviewer protocol ---------------------------------------------------------------

    def review(self, rule: Rule, changeset: ChangeSet) -> CheckResult:
        params = rule.params
        if not isinstance(params, LlmParams):
            return CheckResult(findings=[cannot_judge(rule, "the rule has no instructions")])
        run = RuleRun(self, rule, params)
        run.collect(changeset)
        run.send()
        return run.result()

    # --- budget and requests -----------------------------------------------------------------

    def _estimate(self, prompt: Prompt) -> tuple[int, float]:
        tokens = math.ceil(prompt.size() / CHARS_PER_TOKEN)
        return tokens, self._price.usd(tokens, MAX_OUTPUT_TOKENS)

    def room(self, prompt: Prompt) -> str | None:
        """``None`` when ``prompt`` fits what is left of the budget, else why not."""
        tokens, usd = self._estimate(prompt)
        try:
            return self.budget.check(Spend(tokens, MAX_OUTPUT_TOKENS, usd, 1))
        except Exception:  # a budget that cannot be read spends nothing
            return BUDGET_UNKNOWN

    def fits(self, prompt: Prompt) -> bool:
        return self.room(prompt) is None

    def ask(self, prompt: Prompt) -> list[AiFinding]:
        """The findings for ``prompt``: asked again once when the answer cannot be read.

        Raises :class:`ServiceError` (the service failed), :class:`BudgetSpent` (the budget
        refused the request) or :class:`UnreadableAnswer`.
        """
        for attempt in (1, 2):
            if attempt == 2 and not self.fits(prompt):
                raise UnreadableAnswer(
                    "its answer could not be read, and the budget left no room to ask again"
                )
            body = self._send(prompt)
            try:
                found = read_answer(parse_body(body), sent=prompt.sent)
            except UnreadableAnswer:
                self._outcomes["invalid_answer"] += 1
                if attempt == 2:
                    raise
                continue
            self._outcomes["ok"] += 1
            return found
        raise AssertionError("unreachable")

    def _send(self, prompt: Prompt) -> str:
        tokens, usd = self._estimate(prompt)
        reserved = Spend(tokens, MAX_OUTPUT_TOKENS, usd, 1)
        try:
            refused = self.budget.take(reserved)
        except Exception:  # a budget that cannot be recorded spends nothing
            refused = BUDGET_UNKNOWN
        if refused is not None:
            raise BudgetSpent(refused)
        self._requests += 1
        try:
            body = self.service.ask(
                prompt,
                model=self.settings.model,
                max_tokens=MAX_OUTPUT_TOKENS,
                timeout=self.settings.timeout_seconds,
            )
        except ServiceError as exc:
            self._outcomes[exc.outcome] += 1
            self._down = exc.reason
            # The request may have been read and billed: count the estimate, to err safe.
            self._spend(tokens, 0, reserved=reserved)
            raise
        try:
            usage = read_usage(json.loads(body))
        except ValueError:
            usage = None
        if usage is None:
            self._spend(tokens, MAX_OUTPUT_TOKENS, reserved=reserved)
        else:
            self._spend(usage.input_tokens, usage.output_tokens, reserved=reserved)
        return body

    def _spend(self, input_tokens: int, output_tokens: int, *, reserved: Spend) -> None:
        usd = self._price.usd(input_tokens, output_tokens)
        self._input_tokens += input_tokens
        self._output_tokens += output_tokens
        self._usd += usd
        try:
            self.budget.settle(reserved, Spend(input_tokens, output_tokens, usd, 1))
        except Exception:  # the reservation (an over-estimate) stays recorded: errs safe
            return

    # --- the cache ---------------------------------------------------------------------------

    def cached(self, key: str | None) -> list[AiFinding] | None:
        if key is None:
            return None
        try:
            raw = self.cache.llm_cache_get(key)
            if raw is None:
                return None
            data = json.loads(raw)
            if not isinstance(data, list):
                return None
            found = [AiFinding.from_json(item) for item in data]
        except Exception:  # an unreadable or failing cache is a miss
            return None
        self._cached += 1
        return found

    def remember(self, key: str, found: Sequence[AiFinding]) -> None:
        try:
            self.cache.llm_cache_put(key, json.dumps([f.to_json() for f in found]))
        except Exception:  # a cache that cannot be written costs a request next time
            return


#: Why nothing more is sent when the budget itself fails (the store is unavailable).
BUDGET_UNKNOWN = "prgate could not read what the AI reviewer has spent, so it sent nothing more"
