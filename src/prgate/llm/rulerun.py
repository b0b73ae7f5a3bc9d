"""One ``llm`` rule's review within a :class:`prgate.llm.session.ReviewSession`: which files the
cache answers, which are sent (in batches that fit the budget), and what the rule reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prgate.checks import CheckResult, Rule
from prgate.llm.answer import AiFinding, UnreadableAnswer
from prgate.llm.budget import BudgetSpent
from prgate.llm.cache import cache_key, file_hash, rule_hash
from prgate.llm.params import LlmParams
from prgate.llm.prompt import FilePart, Prompt, build_prompt, candidates, file_part
from prgate.llm.reviewer import budget_spent, cannot_judge, not_sent
from prgate.llm.service import ServiceError
from prgate.model import ChangeSet, Finding

if TYPE_CHECKING:
    from prgate.llm.session import ReviewSession

#: One request carries at most this many characters of the change (several files together).
BATCH_CHARS = 40_000
#: At most this many findings of one rule are reported; more are noted as skipped.
MAX_FINDINGS = 25


@dataclass
class _Pending:
    part: FilePart
    key: str | None


class RuleRun:
    """One rule's review within a session."""

    def __init__(self, session: ReviewSession, rule: Rule, params: LlmParams) -> None:
        self.session = session
        self.rule = rule
        self.params = params
        self.found: list[AiFinding] = []
        self.skipped = CheckResult()
        self.pending: list[_Pending] = []
        self.problem: str | None = None
        #: Why the budget stopped this rule's review, once it did.
        self.over_budget: str | None = None

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
                    rule,
                    model=session.settings.model,
                    file_digest=content,
                    rule_digest=digest,
                    scope=session.scope,
                    path=change.path,
                )
                if content is not None
                else None
            )
            known = session.cached(key)
            if known is not None:
                added = frozenset(change.added_line_numbers())
                self.found.extend(f.anchored(change.path, added) for f in known)
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
        """Send the lined-up files in batches that fit the budget (nothing when held)."""
        hold = self.session.hold
        if hold is not None:
            # Nothing is read: notes of a partial read made while lining up would mislead.
            held = {item.part.path for item in self.pending}
            self.skipped.skipped[:] = [s for s in self.skipped.skipped if s.path not in held]
            for item in self.pending:
                self.skip(item.part.path, f"not sent to the AI reviewer: {hold.why}")
            self.session.held = self.session.held or bool(self.pending)
            return
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
            refused = self.session.room(self.prompt([*batch, item]))
            if refused is None:
                batch.append(item)
                continue
            if batch:
                self.flush(batch)
                batch = []
                if self.problem is not None:
                    self.skip(item.part.path, f"not reviewed by the AI reviewer: {self.problem}")
                    continue
                refused = self.over_budget or self.session.room(self.prompt([item]))
                if refused is None:
                    batch.append(item)
                    continue
            self.stop(item.part.path, refused)
        if batch:
            self.flush(batch)

    def stop(self, path: str, reason: str) -> None:
        """``path`` was not reviewed because the budget is spent (``reason``)."""
        self.skip(path, f"not reviewed by the AI reviewer: {reason}")
        self.over_budget = self.over_budget or reason
        self.session.stopped = self.session.stopped or reason

    def prompt(self, items: Sequence[_Pending]) -> Prompt:
        return build_prompt(self.rule, self.params, [p.part for p in items])

    def flush(self, batch: Sequence[_Pending]) -> None:
        try:
            found = self.session.ask(self.prompt(batch))
        except BudgetSpent as exc:
            for item in batch:
                self.stop(item.part.path, exc.reason)
            return
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
        elif self.over_budget is not None:
            out.findings.append(budget_spent(self.rule, self.over_budget))
        hold = self.session.hold
        if hold is not None and self.pending:
            out.findings.append(not_sent(self.rule, hold.why, how=hold.how))
        return out
