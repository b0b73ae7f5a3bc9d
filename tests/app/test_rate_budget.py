"""GitHub's rate limit is a budget: below the low-water mark jobs wait in the queue for the
reset, the head's check run says so (once), and nothing is lost or given up. The fake GitHub
scripts the installation's limit (``limit_rate``): its answers count down what is left."""

from __future__ import annotations

import time
from dataclasses import replace

from appharness import RunningApp, World, comment_delivery
from waiting import wait_until

from prgate.app.ratewait import WAITING_TITLE, waiting_summary
from prgate.app.store import JobState
from prgate.github.budget import RateBudget


def test_below_the_low_water_mark_a_head_waits_for_the_reset_and_says_so(world: World) -> None:
    gh, repo = world.gh, world.repo
    settings = replace(world.settings, rate_low_water=10)
    with RunningApp(settings) as running:
        first = gh.open_pull_request(repo, head="first", files={"app/a.py": "A = 1\n"})
        running.deliver(
            gh.webhook("pull_request", "opened", repo=repo, pr=first, installation=world.inst)
        )
        running.wait_idle()
        # GitHub now has 12 calls left for the installation until the reset; the App learns it
        # from its next answer (a reply to a command).
        reset = time.time() + 4
        gh.limit_rate(world.inst, remaining=12, reset_at=reset)
        running.deliver(comment_delivery(world, first, "/prgate explain content/debug"))
        running.wait_idle()
        left = gh.rate_remaining(world.inst)
        assert left is not None and left < 10
        pr = gh.open_pull_request(repo, head="second", files={"app/b.py": "B = 2\n"})
        sha = gh.head_sha(pr)
        running.deliver(
            gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        )

        def waiting() -> list[object]:
            return [r for r in gh.check_runs(repo) if r.head_sha == sha]

        wait_until(lambda: bool(waiting()), "the head shows that it waits")
        (note,) = [r for r in gh.check_runs(repo) if r.head_sha == sha]
        assert note.status == "in_progress" and note.title == WAITING_TITLE
        assert "calls GitHub allows" in (note.summary or "")
        assert time.strftime("%H:%M UTC", time.gmtime(int(reset + 0.999))) in (note.summary or "")
        # It waits in the queue (not failed, not retried blindly): one call for the note only.
        assert gh.rate_remaining(world.inst) == left - 1
        (job,) = [j for j in running.store.jobs() if j.sha == sha]
        assert job.state is JobState.QUEUED
        due = running.store.next_due()
        assert due is not None and due >= reset
        # After the reset the job runs and concludes that same run.
        wait_until(
            lambda: all(r.status == "completed" for r in waiting()),
            "the head is judged after the reset",
            timeout=30,
            detail=lambda: str(running.store.jobs()),
        )
        running.wait_idle()
        assert all(j.state is JobState.DONE for j in running.store.jobs())
    (run,) = [r for r in gh.check_runs(repo) if r.head_sha == sha]
    assert run.id == note.id and run.conclusion == "success", run.summary
    assert not [r for r in gh.requests if r.status == 403]


def test_a_budget_waits_only_while_it_is_low_and_before_its_reset() -> None:
    budget = RateBudget()
    assert budget.waits_until(7, low_water=100, now=1000.0) is None
    budget.note(7, "core", 4000, 2000.0)
    assert budget.waits_until(7, low_water=100, now=1000.0) is None
    budget.note(7, "graphql", 50, 1800.0)
    assert budget.waits_until(7, low_water=100, now=1000.0) == 1800.0
    assert budget.waits_until(8, low_water=100, now=1000.0) is None  # another installation
    assert budget.waits_until(7, low_water=100, now=1800.0) is None  # reset has passed
    assert budget.left(7, now=1000.0) == 50


def test_the_waiting_note_says_when_in_plain_words() -> None:
    text = waiting_summary(3600.0 * 5 + 60 * 7, now=3600.0 * 5 - 60 * 20)
    assert "05:07 UTC" in text and "about 27 minutes" in text
    assert "does not pass" in text
