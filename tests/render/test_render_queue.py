"""A merge queue group's check run: the pull request report, introduced for the queue."""

from __future__ import annotations

from render.render_samples import failing_report

from prgate.model import Conclusion, Report
from prgate.render.markdown import check_summary
from prgate.render.queue import attribute, queue_summary


def test_findings_about_a_file_name_the_pull_requests_that_change_it() -> None:
    report = failing_report()
    owners = {"app/settings.py": [3], "app/views.py": [3, 8]}
    named = attribute(report, owners)
    assert len(named.findings) == len(report.findings)
    for before, after in zip(report.findings, named.findings, strict=True):
        if before.path == "app/settings.py":
            assert after.message == f"From pull request #3: {before.message}"
        elif before.path == "app/views.py":
            assert after.message == f"From pull requests #3 and #8: {before.message}"
        else:  # the whole change, or a file no pull request of the group was seen changing
            assert after == before
    assert attribute(report, {}) == report


def test_the_summary_says_what_was_judged_then_shows_the_report() -> None:
    report = failing_report()
    title, summary = queue_summary(
        report, target="main", base_sha="c" * 40, prs=[3, 5, 8], sha="d" * 40
    )
    expected_title, report_part = check_summary(report, fixes_pushable=False, sha="d" * 40)
    assert title == expected_title and summary.endswith(report_part)
    intro = summary.removesuffix(report_part)
    assert intro.startswith("**This is a merge queue group for `main`.**")
    assert "It holds pull requests #3, #5 and #8 (in the order of the queue)." in intro
    assert "from `main` at commit `cccccccccccc` to this commit" in intro
    assert "fix it in that pull request" in intro


def test_a_passing_group_and_a_branch_name_with_backticks() -> None:
    passing = Report(conclusion=Conclusion.SUCCESS, findings=())
    _title, summary = queue_summary(passing, target="rel`x`", base_sha="c" * 40, prs=[], sha="")
    assert summary.startswith("**This is a merge queue group for `` rel`x` ``.**")
    assert "could not tell which pull requests it holds" in summary
    assert "fix it in that pull request" not in summary and "Every rule passed." in summary
