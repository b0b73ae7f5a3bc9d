"""The comment, the check summary and annotations: escaping, layout and GitHub's limits."""

from __future__ import annotations

import re

import pytest
from render.render_samples import HOSTILE_PATH, failing_report, fixable_report, passing_report

from prgate.model import Conclusion, Finding, Level, Report
from prgate.render.markdown import (
    COMMENT_LIMIT,
    MARKER,
    SUMMARY_LIMIT,
    check_annotations,
    check_summary,
    code_fence,
    comment,
    md_escape,
    truncate_lines,
)

ZWJ = "\u200d"
ZWSP = "\u200b"
URL = "https://github.com/acme/shop/runs/7"


def _finding(**kw: object) -> Finding:
    base: dict[str, object] = {
        "rule": "paths/forbidden",
        "level": Level.ERROR,
        "path": "a.py",
        "line": 1,
        "end_line": 1,
        "title": "t",
        "message": "m",
        "fix": "f",
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def _report(*findings: Finding) -> Report:
    failing = any(f.level is Level.ERROR for f in findings)
    return Report(
        conclusion=Conclusion.FAILURE if failing else Conclusion.SUCCESS, findings=findings
    )


def _outside_code_blocks(markdown: str) -> str:
    """The markdown with fenced code blocks removed (there, nothing is interpreted)."""
    return re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", markdown)


@pytest.mark.parametrize(
    ("raw", "forbidden"),
    [
        ("hi @octocat and @acme/team", ["@octocat", "@acme"]),
        ("<img src=x onerror=alert(1)>", ["<img", ">"]),
        ("[click](http://evil.example)", ["[click]", "](", "http://"]),
        ("![pixel](https://evil/x.png)", ["![", "https://"]),
        ("see www.evil.com now", ["www.evil"]),
        ("mailto:a@b.c and javascript:alert(1)", ["mailto:a", "javascript:a"]),
        ("fixes #12 and GH-7", ["#12", "GH-7"]),
        ("a | b", [" | "]),
        ("**bold** _it_ ~~s~~ $x$ `unclosed", ["**bold**", "_it_", "~~s~~", "$x$", " `"]),
        ("line one\n# heading\n- item", ["\n"]),
        ("&amp; &#64;team", ["&amp; ", "&#64;"]),
    ],
)
def test_md_escape_neutralises(raw: str, forbidden: list[str]) -> None:
    out = md_escape(raw)
    for bad in forbidden:
        assert bad not in out, (bad, out)


def test_md_escape_keeps_the_words_readable() -> None:
    out = md_escape("app/settings.py has @team's key")
    visible = out.replace("\\", "").replace(ZWJ, "").replace(ZWSP, "")
    assert visible == "app/settings.py has @team's key"


def test_md_escape_shows_control_characters_instead_of_passing_them() -> None:
    out = md_escape("a\x1b[31mred\u202eb")
    assert "\x1b" not in out and "\u202e" not in out
    assert "x1b" in out and "u202e" in out


def test_md_escape_clips_long_text() -> None:
    assert len(md_escape("x" * 5000, 100)) == 100


def test_code_fence_is_longer_than_any_backtick_run() -> None:
    assert code_fence("no ticks") == "```"
    assert code_fence("a ```` b") == "`````"


def test_comment_starts_with_marker_and_escapes_everything_from_the_change() -> None:
    text = comment(failing_report(), check_run_url=URL)
    assert text.startswith(MARKER + "\n")
    outside = _outside_code_blocks(text)
    assert "Paste this to your agent" in text
    assert HOSTILE_PATH not in outside
    assert "<img" not in outside and "<script" not in outside
    assert "@team" not in outside and "@octocat" not in outside
    assert "](http://evil" not in outside and "http://" not in outside
    assert "#12" not in outside
    assert "\x1b" not in text and "\u202e" not in text
    # The only HTML and links are prgate's own.
    assert set(re.findall(r"<(/?[a-z]+)", outside)) <= {
        "details",
        "/details",
        "summary",
        "/summary",
        "sub",
        "/sub",
    }
    assert re.findall(r"\]\(([^)]*)\)", outside) == [URL]


def test_agent_block_fence_cannot_be_closed_by_the_change() -> None:
    hostile = _finding(message="```` \n</details>\n@everyone ````")
    text = comment(_report(hostile))
    fence = re.search(r"(?m)^(`{3,})text$", text)
    assert fence is not None
    body = text[fence.end() :]
    closing = re.search(rf"(?m)^{fence.group(1)}$", body)
    assert closing is not None
    assert "</details>" in body[closing.end() :]
    assert "````" in body[: closing.start()]  # the change's backticks stay inside


def test_passing_comment_is_brief_and_has_no_prompt() -> None:
    text = comment(passing_report(), sha="0123456789abcdef")
    assert "nothing blocks this change" in text
    assert "Every rule passed." in text
    assert "<details>" not in text
    assert len(text.splitlines()) < 8


def test_comment_mentions_pulling_a_fix_commit() -> None:
    text = comment(fixable_report(), fix_commit="abcdef1234567")
    assert "`abcdef1`" in text and "git pull" in text
    assert "Apply fixes" not in text  # the fixes were already pushed
    prompt_part = text[text.index("<details>") :]
    assert "pull the commit prgate pushed" in prompt_part


def test_comment_offers_fixes_or_explains_when_it_cannot_push() -> None:
    pushable = comment(fixable_report(), check_run_url=URL)
    assert "**Apply fixes**" in pushable and "/prgate fix" in pushable
    fork = comment(fixable_report(), fixes_pushable=False)
    assert "Apply fixes" not in fork
    assert "cannot push" in fork and "prgate fix" in fork


def test_unsafe_check_run_url_is_not_linked() -> None:
    text = comment(fixable_report(), check_run_url="javascript:alert(1)")
    assert "javascript" not in text
    text = comment(fixable_report(), check_run_url="https://x.example/a) [b](http://evil")
    assert "evil" not in text


def _many(n: int, *, message: str = "The thing is wrong here.") -> Report:
    findings = tuple(
        _finding(path=f"src/module_{i:05d}.py", line=i + 1, end_line=i + 1, message=message)
        for i in range(n)
    )
    return _report(*findings)


def test_comment_stays_under_githubs_limit_and_says_where_the_rest_is() -> None:
    report = _many(3000)
    text = comment(report, check_run_url=URL)
    assert len(text.encode("utf-8")) < COMMENT_LIMIT
    assert text.startswith(MARKER)
    m = re.search(r"(\d+) more findings are listed in the \[check run\]\((.*?)\)", text)
    assert m is not None and m.group(2) == URL
    shown = text.count("- **Line ")
    assert shown > 50
    assert shown + int(m.group(1)) == 3000
    # The agent block is complete (closed), and its count of left-out problems matches.
    assert text.rstrip().endswith("</details>")
    assert f"{m.group(1)} more problems are not listed here" in text


def test_comment_truncation_keeps_the_most_serious_findings() -> None:
    notices = [
        _finding(level=Level.NOTICE, path=f"n/{i}.py", message="x" * 900) for i in range(400)
    ]
    error = _finding(level=Level.ERROR, path="z/last.py", title="The one that blocks")
    text = comment(_report(*notices, error))
    assert len(text.encode("utf-8")) < COMMENT_LIMIT
    assert "The one that blocks" in text


def test_check_summary_within_limits() -> None:
    title, summary = check_summary(_many(3000))
    assert title == "3000 problems block this change."
    assert len(summary.encode("utf-8")) < SUMMARY_LIMIT
    assert "more findings are not listed here" in summary


def test_check_summary_of_a_passing_report() -> None:
    title, summary = check_summary(passing_report())
    assert title == "Nothing blocks this change."
    assert "Every rule passed." in summary


def test_huge_single_message_is_clipped_not_dropped() -> None:
    text = comment(_report(_finding(message="y" * 200_000)))
    assert len(text.encode("utf-8")) < COMMENT_LIMIT
    assert "- **Line 1 (blocks merging)" in text
    assert "…" in text


def test_truncate_lines_cuts_on_a_line_boundary() -> None:
    text = "\n".join(f"line {i}" for i in range(100))
    out = truncate_lines(text, 200, "NOTE")
    assert len(out) < 200
    assert out.endswith("\n\nNOTE")
    kept = out.removesuffix("\n\nNOTE").split("\n")
    assert kept == [f"line {i}" for i in range(len(kept))]
    assert truncate_lines("short", 200, "NOTE") == "short"


def test_annotations_shape_and_mapping() -> None:
    report = failing_report()
    notes = check_annotations(report)
    by_rule = {a["raw_details"].split("\n")[0].removeprefix("Rule: "): a for a in notes}
    assert "size/limit" not in by_rule  # about the whole change: in the summary instead
    assert len(notes) == sum(1 for f in report.findings if f.path is not None)
    secret = by_rule["content/secrets"]
    assert secret["path"] == "app/settings.py"
    assert (secret["start_line"], secret["end_line"]) == (2, 2)
    assert secret["annotation_level"] == "failure"
    assert "What to do:" in secret["message"]
    span = by_rule["style/ruff-lint"]
    assert (span["start_line"], span["end_line"]) == (10, 12)
    whole_file = by_rule["style/ruff-format"]
    assert (whole_file["start_line"], whole_file["end_line"]) == (1, 1)
    assert whole_file["annotation_level"] == "warning"
    assert by_rule["content/debug"]["annotation_level"] == "notice"
    for a in notes:
        assert set(a) == {
            "path",
            "start_line",
            "end_line",
            "annotation_level",
            "title",
            "message",
            "raw_details",
        }
        assert len(a["title"]) <= 255
        assert "\x1b" not in a["message"]


def test_line_break_in_a_path_is_shown_in_the_heading() -> None:
    text = comment(_report(_finding(path="a.py\n# Approved")))
    heading = next(line for line in text.splitlines() if line.startswith("#### "))
    assert heading == "#### a\\.py\\\\x0a\\# Approved"
