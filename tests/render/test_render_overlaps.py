"""The comment's list of other open pull requests that change the same files."""

from __future__ import annotations

from render.render_samples import HOSTILE_PATH, failing_report, passing_report

from prgate.model import Finding, Level, OpenPull, Report
from prgate.render.markdown import (
    COMMENT_LIMIT,
    OVERLAP_RESERVE,
    assemble,
    comment,
    comment_parts,
)

URL = "https://github.com/acme/shop/runs/7"
SHA = "3f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"


def _worst_overlaps(n: int = 40) -> tuple[OpenPull, ...]:
    """As long as titles and paths can be, full of characters that escaping lengthens."""
    title = ("<@team> [x](http://e) `#1` & " * 20)[:256]
    path = ("<[@`#&.md/" * 500)[:4096]
    return tuple(OpenPull(n + i, title, tuple(f"{path}{j}" for j in range(20))) for i in range(n))


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def test_the_list_fits_in_the_room_kept_for_it() -> None:
    for report in (passing_report(), failing_report()):
        parts = comment_parts(report, check_run_url=URL, sha=SHA, reserve=OVERLAP_RESERVE)
        grown = _size(assemble(parts, _worst_overlaps())) - _size(assemble(parts, None))
        assert 0 < grown < OVERLAP_RESERVE


def test_a_comment_cut_for_length_still_fits_with_the_longest_list() -> None:
    findings = tuple(
        Finding(
            rule="paths/forbidden",
            level=Level.ERROR,
            path=f"src/module_{i:05d}.py",
            line=i + 1,
            end_line=i + 1,
            title="Not allowed",
            message="The thing is wrong here. " * 5,
            fix="Do not.",
        )
        for i in range(3000)
    )
    report = Report(conclusion=failing_report().conclusion, findings=findings)
    text = comment(report, check_run_url=URL, overlaps=_worst_overlaps())
    assert _size(text) < COMMENT_LIMIT
    assert "#### Other open pull requests change the same files" in text
    assert text.rstrip().endswith("</details>")


def test_the_comment_is_its_parts_with_the_list() -> None:
    overlaps = (OpenPull(4, "Settings", ("app/settings.py",)),)
    parts = comment_parts(failing_report(), check_run_url=URL, reserve=OVERLAP_RESERVE)
    assert assemble(parts, overlaps) == comment(
        failing_report(), check_run_url=URL, overlaps=overlaps
    )
    # No overlaps: no section, and the comment is the one prgate posts without them.
    assert "Other open pull requests" not in comment(failing_report(), overlaps=())
    assert comment(passing_report(), overlaps=()) == comment(passing_report())


def test_titles_and_paths_of_other_pull_requests_are_inert() -> None:
    hostile = OpenPull(
        9, "@octocat fixes #1 <img src=x> [a](http://evil) **x**", (HOSTILE_PATH, "a.py")
    )
    text = comment(passing_report(), overlaps=(hostile,))
    section = text.split("#### Other open pull requests change the same files", 1)[1]
    section = section.split("<details>", 1)[0]
    assert "- #9 “" in section  # the number is prgate's own: it links the pull request
    for raw in ("@octocat", "#1", "<img", "[a](", "**x**", "http://"):
        assert raw not in section
    prompt = text.split("```text", 1)[1]
    assert "- #9 `@octocat fixes #1 <img src=x> [a](http://evil) **x**`: " in prompt
    assert "`a.py`" in prompt
