"""paths/protected on GitHub: approvals from someone other than the author, that go stale.

Every test drives the App through its webhook route against the fake GitHub on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appharness import RunningApp, World, comment_delivery, make_world
from fakegithub.fake import FakeGitHub
from fakegithub.state import PullRequest, Review

CONFIG = """\
packs: [safe-zones]
rules:
  paths/protected:
    unless_label: approved-by-eng
    approvers:
      users: [lead, helper, builder]
      teams: [octo-org/dba]
      codeowners: true
"""
CODEOWNERS = "* @nobody-in-particular\n/db/ @dba-lead @octo-org/data\n"
TITLE = "This change edits a sensitive file that needs an engineer's approval"


#: A config written when a label lifted the rule (it still loads; the label lifts nothing).
LABEL_CONFIG = (
    "packs: [safe-zones]\nrules:\n  paths/protected:\n    unless_label: approved-by-eng\n"
)


def files(config: str) -> dict[str, str]:
    return {
        ".github/prgate.yml": config,
        ".github/CODEOWNERS": CODEOWNERS,
        "app/core.py": "x = 1\n",
        "requirements.txt": "django==5.0\n",
        "db/schema.sql": "CREATE TABLE a (id int);\n",
    }


@pytest.fixture
def world(fake_github: FakeGitHub, tmp_path: Path, request: pytest.FixtureRequest) -> World:
    config = LABEL_CONFIG if "label" in request.node.name else CONFIG
    return make_world(fake_github, tmp_path, files=files(config))


@pytest.fixture
def running(world: World) -> Iterator[RunningApp]:
    with RunningApp(world.settings) as app:
        yield app


def opened(world: World, running: RunningApp, pr: PullRequest) -> None:
    running.deliver(
        world.gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    running.wait_idle()


def pushed(world: World, running: RunningApp, pr: PullRequest, files: dict[str, Any]) -> str:
    before = world.gh.head_sha(pr)
    sha = world.gh.push(world.repo, pr.head_ref, files)
    running.deliver(
        world.gh.webhook(
            "pull_request",
            "synchronize",
            repo=world.repo,
            pr=pr,
            before=before,
            installation=world.inst,
        )
    )
    running.wait_idle()
    return sha


def reviewed(
    world: World, running: RunningApp, pr: PullRequest, review: Review, action: str = "submitted"
) -> None:
    response = running.deliver(
        world.gh.webhook(
            "pull_request_review",
            action,
            repo=world.repo,
            pr=pr,
            review=review,
            sender=review.user,
            installation=world.inst,
        )
    )
    assert response.status_code == 202, response.text
    running.wait_idle()


def verdict(world: World, pr: PullRequest) -> tuple[str | None, list[str]]:
    """The conclusion of the latest ``prgate`` run on the PR's head, and its approval messages."""
    runs = world.gh.check_runs(world.repo, head_sha=world.gh.head_sha(pr))
    run = max(runs, key=lambda r: r.id)
    assert run.status == "completed"
    messages = [a["message"] for a in run.annotations if a["title"] == TITLE]
    return run.conclusion, messages


def test_a_label_added_by_the_author_does_not_lift_the_rule(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(
        world.repo,
        files={"requirements.txt": "django==5.0\nleftpad==0.1\n"},
        labels=["approved-by-eng"],
    )
    opened(world, running, pr)
    conclusion, messages = verdict(world, pr)
    assert conclusion == "failure"
    (message,) = messages
    assert "@nobody-in-particular" in message  # the code owner of requirements.txt
    assert "label" not in message.lower()
    # The author labels it again and asks for a re-check: still not lifted.
    gh.add_label(pr, "APPROVED-BY-ENG")
    running.deliver(comment_delivery(world, pr, "/prgate recheck"))
    running.wait_idle()
    assert verdict(world, pr)[0] == "failure"


def test_an_approval_by_the_author_or_a_commit_author_does_not_count(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"requirements.txt": "django==5.1\n"})
    gh.push(world.repo, pr.head_ref, {"app/core.py": "x = 2\n"}, author="helper")
    gh.add_review(pr, "builder")  # the PR's author
    review = gh.add_review(pr, "helper")  # wrote a commit of it
    reviewed(world, running, pr, review)
    conclusion, (message,) = verdict(world, pr)
    assert conclusion == "failure"
    assert "@builder's approval does not count: they opened the pull request" in message
    assert "@helper's approval does not count: they wrote or committed changes in it" in message


def test_an_allowed_approval_lifts_it_until_a_protected_file_changes(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"requirements.txt": "django==5.1\n"})
    opened(world, running, pr)
    assert verdict(world, pr)[0] == "failure"
    runs_before = len(running.store.runs())
    approved_at = gh.head_sha(pr)
    reviewed(world, running, pr, gh.add_review(pr, "lead"))
    assert len(running.store.runs()) == runs_before + 1  # the review delivery re-judged it
    assert verdict(world, pr) == ("success", [])

    # Only unprotected files change: the approval still covers the protected ones.
    pushed(world, running, pr, {"app/core.py": "x = 3\n"})
    assert verdict(world, pr) == ("success", [])

    # A protected file changes after the approval: it no longer covers it.
    head = pushed(world, running, pr, {"requirements.txt": "django==5.1\nleftpad==0.1\n"})
    conclusion, (message,) = verdict(world, pr)
    assert conclusion == "failure"
    assert f"@lead approved commit {approved_at[:12]}" in message
    assert f"now at {head[:12]}" in message

    # A new protected file appears after a fresh approval: needs another one.
    reviewed(world, running, pr, gh.add_review(pr, "lead"))
    assert verdict(world, pr)[0] == "success"
    pushed(world, running, pr, {"migrations/0002_more.py": "x = 1\n"})
    conclusion, messages = verdict(world, pr)
    assert conclusion == "failure"
    assert len(messages) == 1 and "changed since" in messages[0]


def test_a_dismissed_or_overridden_approval_stops_counting(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"requirements.txt": "django==5.1\n"})
    approval = gh.add_review(pr, "lead")
    reviewed(world, running, pr, approval)
    assert verdict(world, pr)[0] == "success"
    gh.dismiss_review(approval)
    reviewed(world, running, pr, approval, "dismissed")
    conclusion, (message,) = verdict(world, pr)
    assert conclusion == "failure"
    assert "No one who may approve it has approved" in message

    again = gh.add_review(pr, "lead")
    reviewed(world, running, pr, again)
    assert verdict(world, pr)[0] == "success"
    reviewed(world, running, pr, gh.add_review(pr, "lead", "CHANGES_REQUESTED"))
    assert verdict(world, pr)[0] == "failure"


def test_team_members_and_code_owners_may_approve(world: World, running: RunningApp) -> None:
    gh = world.gh
    gh.add_team_member("octo-org/dba", "dana")
    gh.add_team_member("octo-org/data", "dora")
    pr = gh.open_pull_request(
        world.repo,
        files={
            "requirements.txt": "django==5.1\n",
            "db/schema.sql": "CREATE TABLE a (id bigint);\n",
        },
    )
    # A stranger's approval counts for nothing; a code owner of db/ covers only db/.
    gh.add_review(pr, "stranger")
    reviewed(world, running, pr, gh.add_review(pr, "dba-lead"))
    conclusion, (message,) = verdict(world, pr)
    assert conclusion == "failure"
    assert "requirements.txt" in message and "@stranger approved, but is not among" in message
    assert "@dba-lead" not in message.split("from someone")[1].split(".")[0]

    # A member of the rule's team approves: everything is covered.
    reviewed(world, running, pr, gh.add_review(pr, "dana"))
    assert verdict(world, pr) == ("success", [])


def test_a_member_of_a_codeowners_team_may_approve_its_files(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    gh.add_team_member("octo-org/data", "dora")
    pr = gh.open_pull_request(world.repo, files={"db/schema.sql": "CREATE TABLE b (id int);\n"})
    reviewed(world, running, pr, gh.add_review(pr, "dora"))
    assert verdict(world, pr) == ("success", [])


def test_team_members_that_cannot_be_read_fail_closed_with_the_reason(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    world.inst.permissions.pop("members")  # an installation that did not grant the permission
    gh.add_team_member("octo-org/dba", "dana")
    pr = gh.open_pull_request(world.repo, files={"requirements.txt": "django==5.1\n"})
    reviewed(world, running, pr, gh.add_review(pr, "dana"))
    conclusion, (message,) = verdict(world, pr)
    assert conclusion == "failure"
    assert "Members (read)" in message and "@octo-org/dba" in message


def test_approvals_cost_a_few_calls_and_none_when_nothing_is_protected(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = make_world(fake_github, tmp_path, files=files(CONFIG))
    gh = world.gh
    gh.add_team_member("octo-org/dba", "dana")
    plain = gh.open_pull_request(world.repo, head="plain", files={"app/core.py": "x = 2\n"})
    guarded = gh.open_pull_request(
        world.repo, head="guarded", files={"requirements.txt": "django==5.1\n"}
    )
    gh.add_review(guarded, "dana")
    calls: dict[str, list[tuple[str, str]]] = {}
    with RunningApp(world.settings) as running:
        for name, pr in (("plain", plain), ("guarded", guarded)):
            gh.clear_requests()
            opened(world, running, pr)
            calls[name] = [(r.method, r.path) for r in gh.requests]
        records = {r.pr: r for r in running.store.runs()}
    assert records[plain.number].api_calls == len(calls["plain"])
    assert records[guarded.number].api_calls == len(calls["guarded"])
    assert records[guarded.number].conclusion == "success"
    # Nothing protected: not one call about reviews, commits or teams.
    assert not [p for _, p in calls["plain"] if p.endswith(("/reviews", "/commits"))]
    tokens = [sum(p.endswith("/access_tokens") for _, p in calls[n]) for n in ("plain", "guarded")]
    extra = (len(calls["guarded"]) - tokens[1]) - (len(calls["plain"]) - tokens[0])
    # reviews, commits, one GraphQL query (blob ids and CODEOWNERS), one team membership
    assert extra == 4, calls["guarded"]
    assert calls["guarded"].count(("POST", "/graphql")) == 3  # sizes, contents, reviews
