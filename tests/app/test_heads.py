"""One verdict per commit, in pure pieces: the inputs digest, the worst verdict, the summary."""

from __future__ import annotations

from dataclasses import replace

from prgate.app import heads
from prgate.model import Approvals, Conclusion, Finding, Level, Report, Review
from prgate.render.markdown import BaseVerdict, head_summary
from prgate.sources.memory import FileSides, changeset_from_files

FILES = {"app/a.py": FileSides(base="a = 1\n", head="a = 2\n")}


def _blocking(title: str = "Debugging code was left in") -> Report:
    finding = Finding("content/debug", Level.ERROR, "app/a.py", 1, 1, title, "msg", "fix it")
    return Report(conclusion=Conclusion.FAILURE, findings=(finding,))


def test_the_change_digest_follows_what_a_verdict_reads_and_not_set_order() -> None:
    plain = heads.changeset_inputs(changeset_from_files(FILES, labels=["a", "b"], author="ann"))
    assert plain == heads.changeset_inputs(
        changeset_from_files(FILES, labels=["b", "a"], author="ann")
    )
    assert plain != heads.changeset_inputs(changeset_from_files(FILES, labels=["a"], author="ann"))
    assert plain != heads.changeset_inputs(
        changeset_from_files(FILES, labels=["a", "b"], author="bob")
    )
    moved = {"app/a.py": FileSides(base="a = 1\n", head="a = 2\nb = 3\n")}
    assert plain != heads.changeset_inputs(
        changeset_from_files(moved, labels=["a", "b"], author="ann")
    )
    assert heads.changeset_inputs(None) == ""


def test_the_head_digest_covers_every_open_pr_and_base_in_any_order() -> None:
    one = heads.PullInputs(1, "o/r:main", "cfg-main", "chg")
    two = heads.PullInputs(2, "o/r:weak", "cfg-weak", "chg")
    both = heads.inputs_digest("sha", [one, two])
    assert both == heads.inputs_digest("sha", [two, one])
    assert both != heads.inputs_digest("sha", [one])  # a PR closed
    assert both != heads.inputs_digest("other", [one, two])
    assert both != heads.inputs_digest(
        "sha", [one, heads.PullInputs(2, "o/r:main", "cfg-weak", "chg")]
    )  # a base changed
    assert both != heads.inputs_digest("sha", [one, heads.PullInputs(2, "o/r:weak", "x", "chg")])


def test_the_worst_verdict_wins_and_nothing_judged_never_passes() -> None:
    ok, bad = Conclusion.SUCCESS, Conclusion.FAILURE
    assert heads.worst([ok, ok]) is ok
    assert heads.worst([ok, bad]) is bad and heads.worst([bad, ok]) is bad
    assert heads.worst([]) is bad


def test_annotations_of_several_bases_are_sent_once() -> None:
    a = {"path": "x", "start_line": 1, "title": "t"}
    b = {"path": "y", "start_line": 2, "title": "u"}
    assert heads.merged_annotations([[a, b], [dict(a)], [b]]) == [a, b]


def test_a_summary_over_several_bases_names_each_verdict_and_escapes_branch_names() -> None:
    passing = Report(conclusion=Conclusion.SUCCESS, findings=())
    title, summary = head_summary(
        [BaseVerdict(7, "@everyone-#12", passing), BaseVerdict(3, "main", _blocking())],
        sha="a" * 40,
    )
    assert title == "Blocked by the rules of main (#3)"
    assert summary.startswith("**prgate: this commit is blocked by the rules of one of its base")
    assert "| #3 | main | 1 problem blocks this change. |" in summary
    assert "| #7 |" in summary and "nothing blocks this change" in summary
    assert "@everyone" not in summary and "#12" not in summary  # no mention, no reference
    assert summary.index("### Into main (#3)") < summary.index("(#7)\n")  # the strictest first
    assert "Debugging code was left in" in summary
    # One pull request: exactly the summary a single verdict always had.
    from prgate.render.markdown import check_summary

    only = head_summary([BaseVerdict(3, "main", _blocking())], sha="a" * 40)
    assert only == check_summary(_blocking(), sha="a" * 40)
    t2, s2 = head_summary([BaseVerdict(1, "a", passing), BaseVerdict(2, "b", passing)])
    assert t2 == "Nothing blocks this change on any of its base branches" and "| #2 | b |" in s2


def test_closing_a_pr_and_rerunning_a_suite_route_to_an_evaluation() -> None:
    import json
    from pathlib import Path

    from prgate.app.events import route
    from prgate.app.store import JobKind

    examples = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
    closed = json.loads((examples / "pull_request.closed.json").read_text(encoding="utf-8"))
    assert closed["pull_request"]["state"] == "closed"
    (job,) = route("pull_request", closed, app_id=None).jobs
    assert job.kind is JobKind.EVALUATE and job.pr == closed["number"]
    assert job.sha == closed["pull_request"]["head"]["sha"] and not job.payload
    suite = json.loads((examples / "check_suite.rerequested.json").read_text(encoding="utf-8"))
    app_id = str(suite["check_suite"]["app"]["id"])
    jobs = route("check_suite", suite, app_id=app_id).jobs
    assert jobs and all(dict(j.payload) == {"force": True} for j in jobs)
    requested = {**suite, "action": "requested"}
    assert all(not j.payload for j in route("check_suite", requested, app_id=app_id).jobs)


def test_the_change_digest_follows_approvals() -> None:
    changeset = changeset_from_files(FILES, author="ann")
    approved = Approvals(head="h2", reviews=(Review("lead", "APPROVED", "h1"),))
    with_review = heads.changeset_inputs(replace(changeset, approvals=approved))
    assert with_review != heads.changeset_inputs(changeset)
    assert with_review == heads.changeset_inputs(
        replace(
            changeset, approvals=Approvals(head="h2", reviews=(Review("lead", "APPROVED", "h1"),))
        )
    )
    dismissed = Approvals(head="h2", reviews=(Review("lead", "DISMISSED", "h1"),))
    assert with_review != heads.changeset_inputs(replace(changeset, approvals=dismissed))
    moved_on = replace(approved, oids=(("h2", "migrations/1.py", "b0b"),))
    assert with_review != heads.changeset_inputs(replace(changeset, approvals=moved_on))
