"""Reading the AI service's answer, which is as untrusted as the change it read.

The answer's shape is validated; a finding survives only if it points at a line that was sent to
the model (an added line of a file in the change); its message is cleaned (no control or
invisible characters, no @mentions, no long token-like strings that could be a copied secret) and
cut to a bounded length; the number of findings is capped. The level, title and fix text come
from the rule, never from the answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from prgate.checks import CheckResult, Rule
from prgate.llm.prompt import TOOL_NAME

#: At most this many findings of one rule are reported; more are noted as skipped.
MAX_FINDINGS = 25
#: A message longer than this is cut on a word boundary.
MAX_MESSAGE_CHARS = 400

#: Terminal escape sequences (colours, cursor moves): dropped whole, not just their ESC.
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_MENTION = re.compile(r"@(?=[\w-])")
#: Long runs of token characters mixing letters and digits look like keys: never repeated.
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")
_SPACES = re.compile(r"\s+")


class UnreadableAnswer(Exception):
    """The answer could not be used. ``reason`` is prgate's own wording, safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Block(_Loose):
    type: StrictStr
    name: StrictStr | None = None
    input: object = None


class _Message(_Loose):
    stop_reason: StrictStr | None = None
    content: list[_Block]


class _RawFinding(_Loose):
    path: StrictStr
    line: StrictInt
    message: StrictStr


class _Findings(_Loose):
    findings: list[_RawFinding]


def read_answer(body: object, *, rule: Rule, sent: Mapping[str, frozenset[int]]) -> CheckResult:
    """The findings of ``rule`` in the Messages API answer ``body`` (parsed JSON).

    Raises :class:`UnreadableAnswer` when the answer is not the one tool call that was asked for.
    """
    try:
        message = _Message.model_validate(body)
    except ValidationError:
        raise UnreadableAnswer("its answer was not a message prgate could read") from None
    if message.stop_reason == "max_tokens":
        raise UnreadableAnswer("its answer was cut off before it was complete")
    if message.stop_reason == "refusal":
        raise UnreadableAnswer("it declined to review this change")
    calls = [b for b in message.content if b.type == "tool_use" and b.name == TOOL_NAME]
    if len(calls) != 1:
        raise UnreadableAnswer("it did not answer in the form prgate asked for")
    try:
        answer = _Findings.model_validate(calls[0].input)
    except ValidationError:
        raise UnreadableAnswer("its answer did not have the shape prgate asked for") from None

    result = CheckResult()
    seen: set[tuple[str, int, str]] = set()
    for raw in answer.findings:
        lines = sent.get(raw.path)
        if lines is None or raw.line not in lines:
            continue  # not a line the model was shown: an invention, or a line outside the change
        text = clean_message(raw.message)
        key = (raw.path, raw.line, text)
        if key in seen:
            continue
        seen.add(key)
        if len(result.findings) == MAX_FINDINGS:
            result.skipped.append(
                rule.skipped(
                    f"the AI reviewer reported more than {MAX_FINDINGS} problems; "
                    f"only the first {MAX_FINDINGS} are shown"
                )
            )
            break
        result.findings.append(
            rule.finding(path=raw.path, line=raw.line, message=f"AI review: {text}")
        )
    return result


def clean_message(text: str) -> str:
    """``text`` made safe to show: one line, visible characters, no mentions, bounded length."""
    chars = (" " if unicodedata.category(c) in _INVISIBLE else c for c in _ESCAPE.sub("", text))
    flat = _SPACES.sub(" ", "".join(chars)).strip()
    flat = _TOKEN.sub(_redact, flat)
    flat = _MENTION.sub("@ ", flat)
    if len(flat) > MAX_MESSAGE_CHARS:
        cut = flat[:MAX_MESSAGE_CHARS]
        space = cut.rfind(" ")
        if space > MAX_MESSAGE_CHARS // 2:
            cut = cut[:space]
        flat = cut.rstrip() + "…"
    return flat or "The reviewer flagged this line without saying why."


def _redact(match: re.Match[str]) -> str:
    token = match.group(0)
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
        return "[redacted]"
    return token
