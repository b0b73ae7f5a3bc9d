"""The comment as people see it: rendered by a CommonMark renderer (GitHub's markdown is
CommonMark with extensions), the assertions are on the resulting HTML, not on the markdown."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from render.render_samples import HOSTILE_PATH, failing_report, fixable_report

from prgate.model import Conclusion, Finding, Level, Report
from prgate.render.markdown import check_summary, comment

RUN_URL = "https://github.com/acme/shop/runs/4242"


def html_of(markdown: str) -> str:
    # GitHub lets a little HTML through (details, summary, sub): so does this renderer.
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def _prose(html: str) -> str:
    """What a reader sees outside code: the HTML without code blocks, code spans and tags."""
    text = re.sub(r"(?s)<pre>.*?</pre>", "", html)
    text = re.sub(r"(?s)<code>.*?</code>", "", text)
    return re.sub(r"<[^>]+>", "", text)


def test_code_in_rule_texts_shows_as_code_not_as_literal_backticks() -> None:
    html = html_of(comment(fixable_report(), check_run_url=RUN_URL))
    assert "<code>prgate fix</code>" in html
    assert "`" not in _prose(html)


def test_hostile_text_stays_inert_when_rendered() -> None:
    hostile = Finding(
        rule="team/x",
        level=Level.ERROR,
        path=HOSTILE_PATH,
        line=1,
        end_line=1,
        title="`@octocat` and @acme/team <img src=x onerror=alert(1)>",
        message="see [here](https://evil.example/x) ![p](https://evil/p.png) #12 `[y](http://e)`",
        fix="``a `nested` b`` then <script>alert(1)</script>",
    )
    report = Report(conclusion=Conclusion.FAILURE, findings=(hostile,))
    for markdown in (comment(report, check_run_url=RUN_URL), check_summary(report)[1]):
        html = html_of(markdown)
        assert "<img" not in html and "<script" not in html
        links = re.findall(r'<a href="([^"]*)"', html)
        assert all(link == RUN_URL for link in links), links
        # Quoted code stays readable, as code.
        assert "<code>@octocat</code>" in html
        assert "<code>[y](http://e)</code>" in html
        assert "<code>a `nested` b</code>" in html


def test_the_why_and_the_configuration_are_shown() -> None:
    html = html_of(comment(failing_report(), check_run_url=RUN_URL))
    assert "<summary>Why these rules matter</summary>" in html
    assert "nobody can review 4,000 lines well" in html
    assert "Rules: .github/prgate.yml, as it is on the base branch" in _prose(html)
    html = html_of(comment(fixable_report()))
    assert "No .github/prgate.yml was found; the default packs apply." in _prose(html)
