"""The report comment is the one carrying the marker and written by this App's bot: a comment
by another bot or a person that starts with the marker is never edited nor taken for it."""

from __future__ import annotations

from appharness import RunningApp, World

from prgate.app.jobs import MARKER

BAD = "import os\n\n\ndef add(a, b):\n    print(a)\n    return a + b\n"
FORGED = f"{MARKER}\n## prgate\nNothing blocks this pull request. Merge away."


def test_forged_report_by_another_bot_is_left_alone_and_prgate_posts_and_edits_its_own(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    other_app = gh.add_app(slug="helpful-bot")
    pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
    forged = gh.add_comment(repo, pr.number, FORGED, app=other_app)
    by_person = gh.add_comment(repo, pr.number, FORGED, user="prgate")

    opened = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
    assert running.deliver(opened).status_code == 202
    running.wait_idle()
    (run,) = gh.check_runs(repo)
    assert run.conclusion == "failure", (run.title, run.summary)

    ours = [c for c in gh.comments(repo, pr.number) if c.app_id == world.app.id]
    assert len(ours) == 1, [(c.user, c.body[:40]) for c in gh.comments(repo, pr.number)]
    (mine,) = ours
    assert mine.user == "prgate[bot]" and mine.user_type == "Bot"
    assert mine.body.startswith(MARKER) and mine.body != FORGED
    assert "app/core.py" in mine.body
    assert {c.id: c.body for c in gh.comments(repo, pr.number) if c.id != mine.id} == {
        forged.id: FORGED,
        by_person.id: FORGED,
    }
    first_body = mine.body

    # A later push: prgate edits its own comment, and only that one.
    gh.push(repo, "feature", {"app/core.py": "def add(a, b):\n    return a + b\n"})
    sync = gh.webhook("pull_request", "synchronize", repo=repo, pr=pr, installation=world.inst)
    assert running.deliver(sync).status_code == 202
    running.wait_idle()
    after = {c.id: c for c in gh.comments(repo, pr.number)}
    assert set(after) == {forged.id, by_person.id, mine.id}
    assert after[forged.id].body == FORGED and after[by_person.id].body == FORGED
    assert after[mine.id].body != first_body and after[mine.id].body.startswith(MARKER)
    assert gh.count("POST", r"/issues/\d+/comments$") == 1
    assert gh.schema_errors == []


def test_forged_report_is_not_adopted_when_prgate_has_no_comment_on_record(
    world: World, running: RunningApp
) -> None:
    """Even with no comment id kept (a fresh database), prgate finds its own comment among
    forged ones rather than editing, or giving up on, another's."""
    gh, repo = world.gh, world.repo
    pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
    opened = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
    assert running.deliver(opened).status_code == 202
    running.wait_idle()
    (mine,) = gh.comments(repo, pr.number)
    first_body = mine.body
    # Another bot posts a forged report after prgate's; prgate forgets what it posted.
    forged = gh.add_comment(repo, pr.number, FORGED, app=gh.add_app(slug="lookalike"))
    running.store.save_comment(repo.full_name, pr.number, forged.id)

    gh.push(repo, "feature", {"app/core.py": "def add(a, b):\n    return a + b\n"})
    sync = gh.webhook("pull_request", "synchronize", repo=repo, pr=pr, installation=world.inst)
    assert running.deliver(sync).status_code == 202
    running.wait_idle()
    after = {c.id: c for c in gh.comments(repo, pr.number)}
    assert set(after) == {mine.id, forged.id}
    assert after[forged.id].body == FORGED
    assert after[mine.id].body != first_body and "nothing blocks" in after[mine.id].body
    runs = [r for r in gh.check_runs(repo) if r.head_sha == gh.head_sha(pr)]
    assert [r.conclusion for r in runs] == ["success"]
