"""What the App records for insights, end to end against the fake GitHub: a pull request held
for an approval keeps its blocking findings and those awaiting the approval in its run records,
and the insights read them back (one head, green once approved)."""

from __future__ import annotations

from pathlib import Path

from appharness import RunningApp, make_world
from fakegithub.fake import FakeGitHub

from prgate.app.insights import gather

CONFIG = """\
packs: [safe-zones, hygiene]
rules:
  paths/protected:
    paths: ["db/**"]
    approvers:
      users: [lead]
"""


def test_a_pull_request_held_for_an_approval_is_recorded_and_counted(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = make_world(
        fake_github,
        tmp_path,
        files={".github/prgate.yml": CONFIG, "db/schema.sql": "CREATE TABLE a (id int);\n"},
    )
    gh, repo = world.gh, world.repo
    pr = gh.open_pull_request(repo, files={"db/schema.sql": "CREATE TABLE b (id int);\n"})
    with RunningApp(world.settings) as running:
        opened = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        assert running.deliver(opened).status_code == 202
        running.wait_idle()
        review = gh.add_review(pr, "lead")
        approved = gh.webhook(
            "pull_request_review",
            "submitted",
            repo=repo,
            pr=pr,
            review=review,
            sender="lead",
            installation=world.inst,
        )
        assert running.deliver(approved).status_code == 202
        running.wait_idle()
        first, second = running.store.runs_since(0.0)
        figures = gather(running.store, now=second.finished_at + 1)
    assert first.conclusion == "failure" and second.conclusion == "success"
    assert first.counts == {"paths/protected": 1}
    assert first.blocking == {"paths/protected": 1}
    assert first.awaiting_approval == {"paths/protected": 1}
    assert second.counts == {} and second.blocking == {} and second.awaiting_approval == {}
    (widgets,) = figures.repos
    (rule,) = widgets.rules
    assert (rule.rule, rule.fired, rule.blocked, rule.needed_approval) == (
        "paths/protected",
        1,
        1,
        1,
    )
    (pull,) = widgets.pulls
    assert pull.rounds_to_green == 1 and pull.heads == 1  # green on the same head, once approved
    assert pull.seconds_to_green == second.finished_at - first.finished_at
