"""Reading the AI service's answer, which is as untrusted as the change it read.

The answer must be exactly one call of the answer tool whose input has the finding shape;
anything else is :class:`UnreadableAnswer` (the caller asks once more, then gives up). Each
finding is then placed: on the lines of its span that were sent to the model; on its file as a
whole when its file was sent but none of its lines were (a line outside the change); dropped
when its file was not sent at all. Findings the model is not confident about (below
:data:`MIN_CONFIDENCE`) are dropped. All text is cleaned by :func:`prgate.llm.sanitize.clean_text`.
The level, the rule and whether a finding is fixable never come from the answer.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from prgate.checks import Rule
from prgate.llm.prompt import TOOL_NAME
from prgate.llm.sanitize import TEXT_CHARS, TITLE_CHARS, clean_text
from prgate.model import Finding, Level

#: Findings with a lower confidence (0 to 1, as the model rates itself) are not reported.
MIN_CONFIDENCE = 0.5
#: The prefix that tells a reader a finding's text was written by the AI reviewer.
PREFIX = "AI review: "


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


class _Usage(_Loose):
    input_tokens: StrictInt = Field(ge=0)
    output_tokens: StrictInt = Field(ge=0)
    cache_creation_input_tokens: StrictInt | None = Field(default=None, ge=0)
    cache_read_input_tokens: StrictInt | None = Field(default=None, ge=0)


class _Message(_Loose):
    stop_reason: StrictStr | None = None
    content: list[_Block]


class _RawFinding(_Loose):
    path: StrictStr
    line: StrictInt = Field(ge=1)
    end_line: StrictInt | None = Field(default=None, ge=1)
    title: StrictStr
    why: StrictStr
    fix: StrictStr = ""
    confidence: StrictFloat | StrictInt = Field(ge=0, le=1)


class _Findings(_Loose):
    findings: list[_RawFinding]


@dataclass(frozen=True)
class AiFinding:
    """One checked finding of the model, about one file: kept in the cache as it is."""

    path: str
    line: int | None
    end_line: int | None
    title: str
    why: str
    fix: str

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "title": self.title,
            "why": self.why,
            "fix": self.fix,
        }

    @classmethod
    def from_json(cls, data: object) -> AiFinding:
        """A finding read back from the cache; ``ValueError`` when it is not one."""
        if not isinstance(data, dict):
            raise ValueError("not a finding")
        path, line, end, title, why, fix = (
            data.get(k) for k in ("path", "line", "end_line", "title", "why", "fix")
        )
        if not all(isinstance(v, str) for v in (path, title, why, fix)):
            raise ValueError("not a finding")
        if not all(v is None or (isinstance(v, int) and v >= 1) for v in (line, end)):
            raise ValueError("not a finding")
        return cls(str(path), line, end, str(title), str(why), str(fix))

    def anchored(self, path: str, added: frozenset[int]) -> AiFinding:
        """This cached finding placed on ``path`` and its ``added`` lines as they are now: a
        cache entry never brings another file's path, nor lines outside the change."""
        if self.line is None:
            return dataclasses.replace(self, path=path)
        line, end = place(self.line, self.end_line, added)
        return dataclasses.replace(self, path=path, line=line, end_line=end)

    def finding(self, rule: Rule) -> Finding:
        """This finding as ``rule``'s, at ``rule``'s level, never fixable."""
        level = Level(rule.level) if rule.level != "off" else Level.NOTICE
        return Finding(
            rule=rule.id,
            level=level,
            path=self.path,
            line=self.line,
            end_line=self.end_line,
            title=PREFIX + self.title,
            message=self.why,
            fix=self.fix or rule.fix,
            fixable=False,
            from_ai=True,
        )


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


def parse_body(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise UnreadableAnswer("its answer was not JSON") from None


def read_usage(body: object) -> Usage | None:
    """The tokens the answer says it used, when it says so in the expected shape."""
    if not isinstance(body, dict):
        return None
    try:
        usage = _Usage.model_validate(body.get("usage"))
    except ValidationError:
        return None
    extra = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    return Usage(input_tokens=usage.input_tokens + extra, output_tokens=usage.output_tokens)


def read_answer(body: object, *, sent: Mapping[str, frozenset[int]]) -> list[AiFinding]:
    """The findings in the Messages API answer ``body`` (parsed JSON), checked and placed.

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
    calls = [b for b in message.content if b.type == "tool_use"]
    if len(calls) != 1 or calls[0].name != TOOL_NAME:
        raise UnreadableAnswer("it did not answer in the form prgate asked for")
    try:
        answer = _Findings.model_validate(calls[0].input)
    except ValidationError:
        raise UnreadableAnswer("its answer did not have the shape prgate asked for") from None

    out: list[AiFinding] = []
    seen: set[AiFinding] = set()
    for raw in answer.findings:
        if raw.confidence < MIN_CONFIDENCE:
            continue
        lines = sent.get(raw.path)
        if lines is None:
            continue  # a file the model was not shown: an invention
        line, end = place(raw.line, raw.end_line, lines)
        found = AiFinding(
            path=raw.path,
            line=line,
            end_line=end,
            title=clean_text(raw.title, limit=TITLE_CHARS, empty="A possible problem"),
            why=clean_text(raw.why, limit=TEXT_CHARS, empty="The reviewer gave no reason."),
            fix=clean_text(raw.fix, limit=TEXT_CHARS),
        )
        if found not in seen:
            seen.add(found)
            out.append(found)
    return out


def place(line: int, end_line: int | None, sent: frozenset[int]) -> tuple[int | None, int | None]:
    """The span's sent lines, or ``(None, None)`` (the whole file) when none was sent."""
    last = max(line, end_line if end_line is not None else line)
    if last - line > 10_000:
        last = line
    inside = [n for n in sent if line <= n <= last]
    if not inside:
        return None, None
    return min(inside), max(inside)
