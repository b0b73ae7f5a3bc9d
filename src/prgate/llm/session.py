"""One pull request's AI review: the budget, the cache, batching, retries, and failing closed.

A :class:`ReviewSession` is made for each evaluation (one run of ``prgate check --llm``, one job
of the App) and handed to the engine as its :class:`prgate.checks.Reviewer`. For each ``llm``
rule it takes the files the rule covers (most important first), answers from the cache what was
already reviewed with the same content and the same rule text, and sends the rest in batches,
each checked against what is left of the pull request's budget *before* it is sent. What did not
fit, and what the service could not review, is listed as skipped; when the review could not be
completed the rule also reports so: a ``notice``, or an ``error`` when the team set the rule to
``error`` (a rule that must approve every change fails closed). Nothing raises.

The service behind it is a small protocol (:class:`Service`): the Anthropic SDK in production
(:mod:`prgate.llm.client`), scripted answers for the rule cases (:mod:`prgate.llm.replay`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prgate.checks import CheckResult, Rule
from prgate.llm.answer import (
    AiFinding,
    UnreadableAnswer,
    parse_body,
    read_answer,
    read_usage,
)
from prgate.llm.cache import LlmCache, cache_key, file_hash, rule_hash
from prgate.llm.params import LlmParams
from prgate.llm.pricing import CHARS_PER_TOKEN, price_for
from prgate.llm.prompt import FilePart, Prompt, build_prompt, candidates, file_part
from prgate.llm.reviewer import cannot_judge
from prgate.llm.settings import LlmSettings
from prgate.model import ChangeSet, Finding

#: The answer is a list of short findings: this is plenty, and bounds cost and time.
MAX_OUTPUT_TOKENS = 4_096
#: One request carries at most this many characters of the change (several files together).
BATCH_CHARS = 40_000
#: At most this many findings of one rule are reported; more are noted as skipped.
MAX_FINDINGS = 25


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

    def __init__(self, service: Service, *, settings: LlmSettings, cache: LlmCache) -> None:
        self.service = service
        self.settings = settings
        self.cache = cache
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
        run = _RuleRun(self, rule, params)
        run.collect(changeset)
        run.send()
        return run.result()

    # --- budget and requests -----------------------------------------------------------------

    def _estimate(self, prompt: Prompt) -> tuple[int, float]:
        tokens = math.ceil(prompt.size() / CHARS_PER_TOKEN)
        return tokens, self._price.usd(tokens, MAX_OUTPUT_TOKENS)

    def fits(self, prompt: Prompt) -> bool:
        tokens, usd = self._estimate(prompt)
        return (
            self._input_tokens + tokens <= self.settings.max_input_tokens_per_pr
            and self._usd + usd <= self.settings.max_usd_per_pr
        )

    def ask(self, prompt: Prompt) -> list[AiFinding]:
        """The findings for ``prompt``: asked again once when the answer cannot be read.

        Raises :class:`ServiceError` (the service failed) or :class:`UnreadableAnswer`.
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
        tokens, _usd = self._estimate(prompt)
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
            self._spend(tokens, 0)
            raise
        try:
            usage = read_usage(json.loads(body))
        except ValueError:
            usage = None
        if usage is None:
            self._spend(tokens, MAX_OUTPUT_TOKENS)
        else:
            self._spend(usage.input_tokens, usage.output_tokens)
        return body

    def _spend(self, input_tokens: int, output_tokens: int) -> None:
        self._input_tokens += input_tokens
        self._output_tokens += output_tokens
        self._usd += self._price.usd(input_tokens, output_tokens)

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


@dataclass
class _Pending:
    part: FilePart
    key: str | None


class _RuleRun:
    """One rule's review within a session."""

    def __init__(self, session: ReviewSession, rule: Rule, params: LlmParams) -> None:
        self.session = session
        self.rule = rule
        self.params = params
        self.found: list[AiFinding] = []
        self.skipped = CheckResult()
        self.pending: list[_Pending] = []
        self.problem: str | None = None
        self.over_budget = False

    def skip(self, path: str, reason: str) -> None:
        self.skipped.skipped.append(self.rule.skipped(reason, path=path))

    def collect(self, changeset: ChangeSet) -> None:
        """Serve what the cache knows; line up the rest within the rule's own limits."""
        session, rule, params = self.session, self.rule, self.params
        digest = rule_hash(rule)
        chars_left = params.max_chars
        for index, change in enumerate(candidates(params, changeset)):
            if index >= params.max_files:
                self.skip(
                    change.path,
                    "not reviewed by the AI reviewer: this rule reads at most "
                    f"{params.max_files} files of a change (its max_files setting)",
                )
                continue
            content = file_hash(change)
            key = (
                cache_key(
                    rule, model=session.settings.model, file_digest=content, rule_digest=digest
                )
                if content is not None
                else None
            )
            known = session.cached(key)
            if known is not None:
                self.found.extend(known)
                continue
            part = file_part(change, chars_left) if chars_left > 0 else None
            if part is None or not part.sent:
                self.skip(
                    change.path,
                    "not reviewed by the AI reviewer: the change is larger than this rule "
                    "reads at once (its max_chars setting)",
                )
                chars_left = 0
                continue
            chars_left -= len(part.text) + 1
            if not part.complete:
                self.skip(
                    change.path,
                    f"only partly reviewed by the AI reviewer: {len(part.sent)} of {part.total} "
                    "added lines (the rest did not fit this rule's max_chars setting)",
                )
                chars_left = 0
                key = None  # a partial review is not remembered as the file's review
            elif part.cut:
                self.skip(
                    change.path,
                    f"only partly reviewed by the AI reviewer: {part.cut} added line(s) longer "
                    "than 2000 characters were cut short",
                )
            self.pending.append(_Pending(part, key))

    def send(self) -> None:
        """Send the lined-up files in batches that fit the budget."""
        batch: list[_Pending] = []
        for item in self.pending:
            if self.problem is None and self.session.down is not None:
                self.problem = self.session.down
            if self.problem is not None:
                self.skip(item.part.path, f"not reviewed by the AI reviewer: {self.problem}")
                continue
            chars = sum(len(p.part.text) for p in batch) + len(item.part.text)
            if batch and chars > BATCH_CHARS:
                self.flush(batch)
                batch = []
                if self.problem is not None:
                    self.skip(item.part.path, f"not reviewed by the AI reviewer: {self.problem}")
                    continue
            if self.session.fits(self.prompt([*batch, item])):
                batch.append(item)
                continue
            if batch:
                self.flush(batch)
                batch = []
                if self.problem is None and self.session.fits(self.prompt([item])):
                    batch.append(item)
                    continue
                if self.problem is not None:
                    self.skip(item.part.path, f"not reviewed by the AI reviewer: {self.problem}")
                    continue
            self.skip(item.part.path, "not reviewed by the AI reviewer: " + _OVER_BUDGET)
            self.over_budget = True
        if batch:
            self.flush(batch)

    def prompt(self, items: Sequence[_Pending]) -> Prompt:
        return build_prompt(self.rule, self.params, [p.part for p in items])

    def flush(self, batch: Sequence[_Pending]) -> None:
        try:
            found = self.session.ask(self.prompt(batch))
        except ServiceError as exc:
            self.problem = exc.reason
        except UnreadableAnswer as exc:
            self.problem = f"the AI service answered, but {exc.reason}"
        except Exception as exc:  # a bug must not pass the change, nor crash the run
            self.problem = f"an internal error occurred ({type(exc).__name__})"
        else:
            self.found.extend(found)
            for item in batch:
                if item.key is not None:
                    self.session.remember(item.key, [f for f in found if f.path == item.part.path])
            return
        for item in batch:
            self.skip(item.part.path, f"not reviewed by the AI reviewer: {self.problem}")

    def result(self) -> CheckResult:
        out = CheckResult(skipped=list(self.skipped.skipped))
        ordered = sorted(self.found, key=lambda f: (f.path, f.line or 0, f.title))
        findings: list[Finding] = [f.finding(self.rule) for f in ordered[:MAX_FINDINGS]]
        if len(ordered) > MAX_FINDINGS:
            out.skipped.append(
                self.rule.skipped(
                    f"the AI reviewer reported more than {MAX_FINDINGS} problems; "
                    f"only the first {MAX_FINDINGS} are shown"
                )
            )
        out.findings.extend(findings)
        if self.problem is not None:
            out.findings.append(cannot_judge(self.rule, self.problem))
        elif self.over_budget:
            out.findings.append(cannot_judge(self.rule, _OVER_BUDGET))
        return out


_OVER_BUDGET = (
    "the pull request's AI review budget was used up (the llm settings max_input_tokens_per_pr "
    "and max_usd_per_pr)"
)
