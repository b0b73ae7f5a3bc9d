"""Invisible characters from a change never reach a reader raw, in any output."""

from __future__ import annotations

import json
import unicodedata

import pytest

from prgate.model import Conclusion, Finding, Level, Report, Skipped
from prgate.render import render
from prgate.render.markdown import check_annotations, check_summary, comment
from prgate.render.prompt import agent_prompt

#: Tag characters, fillers, a soft hyphen, a private-use and an unassigned code point, a bidi
#: isolate and a zero-width character.
SNEAKY = (
    "\U000e0001\U000e0041\U000e007f",
    "\u115f",
    "\u3164",
    "\u180e",
    "\u00ad",
    "\ue000",
    "\U000f0000",
    "\u0378",
    "\u2067",
    "\u200b",
)
PATH = "src/a" + "".join(SNEAKY) + "b.py"
LINE = "x = 1  # " + "".join(SNEAKY) + " end"


def report() -> Report:
    f = Finding(
        rule="content/pattern",
        level=Level.ERROR,
        path=PATH,
        line=2,
        end_line=2,
        title="A quoted line: " + LINE,
        message="The line reads:\n" + LINE,
        fix="Remove " + LINE,
    )
    skipped = Skipped(rule=None, path=PATH, reason="not read: " + LINE)
    return Report(conclusion=Conclusion.FAILURE, findings=(f,), skipped=(skipped,))


def _raw_hidden(text: str) -> list[str]:
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if ch not in "\n\t"
        and (
            unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cn"} or ch in "\u115f\u3164\u180e\u00ad"
        )
    ]


def test_every_sneaky_character_is_of_a_category_or_list_the_issue_names() -> None:
    assert not [ch for ch in "".join(SNEAKY) if not _raw_hidden(ch)]


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "sarif"])
def test_no_output_format_carries_them_raw(fmt: str) -> None:
    out = render(report(), fmt, color=True)
    assert _raw_hidden(out.replace("\x1b", "")) == []
    if fmt in ("text", "markdown"):
        assert "\\U000e0041" in out.replace("\\\\", "\\")
        assert "\\u3164" in out.replace("\\\\", "\\")


def test_json_escapes_them_and_reads_back_the_same_data() -> None:
    out = render(report(), "json")
    data = json.loads(out)
    assert data["findings"][0]["path"] == PATH
    assert data["skipped"][0]["reason"] == "not read: " + LINE
    assert "\\udb40\\udc41" in out and "\\u3164" in out and "\\u00ad" in out


def test_sarif_messages_show_them_as_escapes() -> None:
    run = json.loads(render(report(), "sarif"))["runs"][0]
    text = run["results"][0]["message"]["text"]
    assert _raw_hidden(text) == []
    assert "\\U000e0041" in text and "\\u180e" in text
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"
    ].isascii()
    notification = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert _raw_hidden(notification) == []


def test_comment_summary_prompt_and_annotations_show_them_as_escapes() -> None:
    r = report()
    texts = [comment(r), check_summary(r)[1], agent_prompt(r)]
    [annotation] = check_annotations(r)
    assert annotation["path"] == PATH  # GitHub places it by the real path
    texts += [annotation["title"], annotation["message"], annotation["raw_details"]]
    for text in texts:
        assert _raw_hidden(text) == []
    assert "\\U000e0041" in agent_prompt(r)
