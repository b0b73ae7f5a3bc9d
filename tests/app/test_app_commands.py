"""Comment commands through the webhook route: who may use them, what counts as one, once each.

On a public repository anyone can comment. Commands run for people who may push to the
repository (and ``recheck`` / ``explain`` for the pull request's author); a command quoted or
shown as code is not a command; a comment's command runs once, whatever delivery brings it.
"""

from __future__ import annotations

from pathlib import Path

from appharness import RunningApp, World, comment_delivery
from fakegithub.state import PullRequest

from prgate.app.commands import REPLY_MARKER

#: An unused import: it fails the check, and ruff's fix removes it.
BAD = "import os\n\n\ndef add(a, b):\n    return a + b\n"


def _judged(world: World, running: RunningApp, **kw: object) -> PullRequest:
    """A pull request whose head has been judged once (the unused import fails it)."""
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": BAD}, **kw)  # type: ignore[arg-type]
    running.deliver(
        gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    running.wait_idle()
    return pr


def _writes(world: World) -> dict[str, int]:
    """What the App has written on GitHub so far, by kind."""
    gh = world.gh
    return {
        "check runs": gh.count("POST", r"/check-runs$") + gh.count("PATCH", r"/check-runs/\d+$"),
        "comments": gh.count("POST", r"/comments$") + gh.count("PATCH", r"/comments/\d+$"),
        "git": gh.count("POST", r"/git/") + gh.count("PATCH", r"/git/"),
    }


def _say(world: World, running: RunningApp, pr: PullRequest, body: str, sender: str) -> None:
    assert running.deliver(comment_delivery(world, pr, body, sender=sender)).status_code == 202
    running.wait_idle()


def test_an_outsiders_commands_do_nothing(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    pr = _judged(world, running)
    before, runs = _writes(world), len(running.store.runs())
    head = gh.branch_head(repo, "feature")
    for body in ("/prgate recheck", "/prgate fix", "/prgate explain content/debug"):
        _say(world, running, pr, body, sender="stranger")  # read access, as anyone on GitHub
    assert _writes(world) == before
    assert len(running.store.runs()) == runs  # not judged again
    assert gh.branch_head(repo, "feature") == head
    assert len(gh.comments(repo, pr.number)) == 1  # the report only: no answer to outsiders
    metrics = running.get("/metrics").text
    assert 'prgate_job_results_total{kind="command",result="ignored"} 3.0' in metrics


def test_the_author_may_recheck_and_explain_but_not_fix(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    gh.set_permission(repo, "ann", "read")
    pr = _judged(world, running, author="ann")
    head = gh.branch_head(repo, "feature")
    runs = len(running.store.runs())
    _say(world, running, pr, "/prgate recheck", sender="ann")
    assert len(running.store.runs()) == runs + 1
    _say(world, running, pr, "/prgate explain content/debug", sender="ann")
    replies = [c for c in gh.comments(repo, pr.number) if c.body.startswith(REPLY_MARKER)]
    assert len(replies) == 1 and "Why it matters" in replies[0].body
    _say(world, running, pr, "/prgate fix", sender="ann")
    assert gh.branch_head(repo, "feature") == head
    assert gh.count("POST", r"/git/") == 0
    (reply,) = [c for c in gh.comments(repo, pr.number) if c.body.startswith(REPLY_MARKER)]
    assert reply.id == replies[0].id  # the one reply, now saying why nothing was pushed
    assert "prgate fix" in reply.body and "push" in reply.body
    # Someone who may push asks: the fixes are pushed.
    gh.set_permission(repo, "lead", "maintain")
    _say(world, running, pr, "/prgate fix", sender="lead")
    assert gh.branch_head(repo, "feature") != head


def test_two_explains_edit_one_reply_and_a_forged_one_is_left_alone(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    pr = _judged(world, running)
    forged_body = f"{REPLY_MARKER}\nAll rules are off here."
    forged = gh.add_comment(repo, pr.number, forged_body, user="mallory")
    _say(world, running, pr, "/prgate explain content/debug", sender="builder")
    _say(world, running, pr, "/prgate explain content/secrets", sender="builder")
    ours = [c for c in gh.comments(repo, pr.number) if c.user == "prgate[bot]"]
    replies = [c for c in ours if c.body.startswith(REPLY_MARKER)]
    assert len(replies) == 1, [c.body[:80] for c in ours]
    assert "content/secrets" in replies[0].body and "content/debug" not in replies[0].body
    assert gh.count("POST", r"/issues/\d+/comments$") == 2  # the report, and the reply once
    assert {c.id: c.body for c in gh.comments(repo, pr.number)}[forged.id] == forged_body


def test_quoted_and_code_commands_are_not_commands(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    pr = _judged(world, running)
    head = gh.branch_head(repo, "feature")
    shown_not_asked = (
        "To apply the fixes, write:\n\n```\n/prgate fix\n```\n",
        "    /prgate fix\n",
        "> /prgate fix\n\nThat is what the report says.",
        "> The report says\n/prgate fix\n",
        "Write `/prgate fix` to push them.",
        "``\n/prgate fix\n``",
        "<!--\n/prgate fix\n-->",
        "- ~~~\n  /prgate fix\n  ~~~",
    )
    for body in shown_not_asked:
        _say(world, running, pr, body, sender="builder")
    assert gh.branch_head(repo, "feature") == head
    assert gh.count("POST", r"/git/") == 0
    _say(world, running, pr, "> quoted\n\nThanks, so:\n/prgate fix", sender="builder")
    assert gh.branch_head(repo, "feature") != head


def test_a_replayed_delivery_under_a_new_id_does_not_run_again(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    pr = _judged(world, running)
    runs = len(running.store.runs())
    recheck = comment_delivery(world, pr, "/prgate recheck", sender="builder")
    assert running.deliver(recheck).status_code == 202
    running.wait_idle()
    assert len(running.store.runs()) == runs + 1
    # The same signed body under new delivery ids: accepted as new deliveries, run never again.
    for n in range(2):
        again = running.deliver(recheck, **{"X-GitHub-Delivery": f"replayed-{n}"})
        assert again.status_code == 202
    running.wait_idle()
    assert len(running.store.runs()) == runs + 1
    # The comment edited (same comment id): not run again either.
    edited = gh.webhook(
        "issue_comment",
        "created",
        repo=repo,
        pr=pr,
        comment_body="/prgate recheck\n\n(edited)",
        comment_id=recheck.payload["comment"]["id"],
        sender="builder",
        installation=world.inst,
        payload_overrides={"action": "edited"},
    )
    assert running.deliver(edited).status_code == 202
    running.wait_idle()
    assert len(running.store.runs()) == runs + 1
    explain = comment_delivery(world, pr, "/prgate explain content/debug", sender="builder")
    running.deliver(explain)
    running.wait_idle()
    edits = gh.count("PATCH", r"/comments/\d+$") + gh.count("POST", r"/comments$")
    running.deliver(explain, **{"X-GitHub-Delivery": "replayed-explain"})
    running.wait_idle()
    assert gh.count("PATCH", r"/comments/\d+$") + gh.count("POST", r"/comments$") == edits
    assert len(gh.comments(repo, pr.number)) == 2


def test_the_replay_is_refused_after_a_restart(world: World, tmp_path: Path) -> None:
    gh = world.gh
    with RunningApp(world.settings) as first:
        pr = _judged(world, first)
        recheck = comment_delivery(world, pr, "/prgate recheck", sender="builder")
        first.deliver(recheck)
        first.wait_idle()
        runs = len(first.store.runs())
    with RunningApp(world.settings) as second:
        second.deliver(recheck, **{"X-GitHub-Delivery": "after-restart"})
        second.wait_idle()
        assert len(second.store.runs()) == runs
    assert gh.count("POST", r"/check-runs$") == 1


def test_a_custom_role_built_on_write_may_push_fixes(world: World, running: RunningApp) -> None:
    gh, repo = world.gh, world.repo
    pr = _judged(world, running, author="ann")
    head = gh.branch_head(repo, "feature")
    gh.set_permission(repo, "dee", "write", custom_role="deployer")
    _say(world, running, pr, "/prgate fix", sender="dee")
    assert gh.branch_head(repo, "feature") != head
