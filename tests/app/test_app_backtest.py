"""End to end: a pull request that changes prgate's rules gets, in its comment, how the rules it
proposes would have judged the pull requests already merged (the fake GitHub merges them).
Its own check is still decided by the base's rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from appharness import RunningApp, World, comment_delivery
from fakegithub.state import PullRequest

from prgate.app.jobs import MARKER
from prgate.app.settings import BacktestLimits, SettingsError, from_env
from prgate.app.store import JobKind, JobSpec, JobState
from prgate.backtest.prcomment import section_sha

RULE = """\
  team/no-todo:
    check: pattern
    level: {level}
    pattern: 'TODO'
    paths: ["**/*.py"]
    title: "A TODO is left in the code"
    why: "A TODO is work nobody tracks."
    fix: "Finish it, or open a ticket and remove the TODO."
"""


def config(level: str) -> str:
    return "packs: []\nrules:\n" + RULE.format(level=level)


@pytest.fixture
def history(world: World) -> list[PullRequest]:
    """Three merged pull requests: #1 and #3 leave a TODO (a warning on main today), #2 not."""
    gh, repo = world.gh, world.repo
    gh.push(repo, "main", {".github/prgate.yml": config("warning")}, message="Rules")
    merged = []
    for i, text in enumerate(["x = 1  # TODO tidy\n", "y = 2\n", "z = 3  # TODO later\n"], start=1):
        pr = gh.open_pull_request(
            repo, head=f"past-{i}", files={f"app/m{i}.py": text}, title=f"Past change {i}"
        )
        gh.merge_pull_request(pr)
        merged.append(pr)
    return merged


def _backtest_world(world: World, **limits: int) -> World:
    world.settings = replace(world.settings, backtest=BacktestLimits(**limits))
    return world


@pytest.fixture
def app(world: World, history: list[PullRequest]) -> Iterator[RunningApp]:
    with RunningApp(world.settings) as running:
        yield running


def _open(world: World, running: RunningApp, files: dict[str, str | None]) -> PullRequest:
    pr = world.gh.open_pull_request(world.repo, head="proposal", files=files, title="New rules")
    hook = world.gh.webhook(
        "pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst
    )
    assert running.deliver(hook).status_code == 202
    running.wait_idle()
    return pr


def _comment(world: World, pr: PullRequest) -> str:
    (only,) = world.gh.comments(world.repo, pr.number)
    assert only.body.startswith(MARKER)
    return only.body


def _section(body: str) -> str:
    start = body.index("<!-- prgate:backtest ")
    return body[start : body.index("<!-- prgate:backtest:end -->", start)]


def test_a_tightened_rule_shows_the_merged_pull_requests_it_would_newly_block(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    pr = _open(world, app, {".github/prgate.yml": config("error")})
    (run,) = [r for r in world.gh.check_runs(world.repo) if r.head_sha == world.gh.head_sha(pr)]
    assert run.conclusion == "success"  # the base's rules: the edit only warns
    section = _section(_comment(world, pr))
    assert world.gh.head_sha(pr) in section
    assert "Would newly block** (2):" in section
    assert re.search(r"- #3 Past change 3 \(blocked by team/no\\?-todo\)", section), section
    assert "- #1 Past change 1" in section
    assert "#2" not in section
    assert "2 of the last 3 merged pull requests would have been blocked" in section
    assert "Partial result" not in section
    assert "being worked out" not in section and "is replaying" not in section
    assert world.gh.schema_errors == []


def test_its_own_verdict_stays_with_the_base_rules_however_loose_the_proposal(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    world.gh.push(world.repo, "main", {".github/prgate.yml": config("error")}, message="Strict")
    pr = _open(
        world,
        app,
        {".github/prgate.yml": "packs: []\n", "app/new.py": "w = 4  # TODO some day\n"},
    )
    (run,) = [r for r in world.gh.check_runs(world.repo) if r.head_sha == world.gh.head_sha(pr)]
    assert run.conclusion == "failure"  # judged by main's rules, not by the head's
    body = _comment(world, pr)
    section = _section(body)
    assert "team/no-todo" in body.replace(section, "")  # the report, outside the section
    assert "Would newly block:** none." in section
    # Today's rules blocked #1 and #3 (main's rules now block TODOs); the proposal would not.
    assert "Would newly pass** (2):" in section and "- #3 Past change 3" in section


def test_a_pull_request_that_does_not_touch_the_rules_gets_no_backtest(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    pr = _open(world, app, {"app/other.py": "v = 5\n"})
    assert "prgate:backtest" not in _comment(world, pr)
    assert not [j for j in app.store.jobs() if j.kind is JobKind.BACKTEST]


def pack(level: str) -> str:
    return "pack: team\ndescription: The team's rules.\nrules:\n" + RULE.format(level=level)


def test_a_change_to_a_pack_of_the_repository_is_backtested_with_the_pack_at_head(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    world.gh.push(
        world.repo,
        "main",
        {".github/prgate.yml": "packs: [team]\n", ".github/prgate/team.yml": pack("warning")},
        message="The team's pack",
    )
    pr = _open(world, app, {".github/prgate/team.yml": pack("error")})
    (run,) = [r for r in world.gh.check_runs(world.repo) if r.head_sha == world.gh.head_sha(pr)]
    assert run.conclusion == "success"
    section = _section(_comment(world, pr))
    assert "Would newly block** (2):" in section and "- #1 Past change 1" in section


def test_a_broken_proposed_config_gets_a_plain_message(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    pr = _open(world, app, {".github/prgate.yml": "packs: [no-such-pack]\nrules: [\n"})
    (run,) = [r for r in world.gh.check_runs(world.repo) if r.head_sha == world.gh.head_sha(pr)]
    assert run.conclusion == "success"  # the base's rules decide
    section = _section(_comment(world, pr))
    assert "There is no backtest: the rules this pull request proposes could not be loaded." in (
        section
    )
    assert r"> \.github/prgate\.yml:3:1: The file is not valid YAML" in section


def test_a_proposal_may_not_read_a_repository_the_base_does_not_use(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    world.gh.create_repo(
        "octo-org/secret-rules",
        files={".github/prgate.yml": "packs: []\n"},
        installation=world.inst,
    )
    pr = _open(world, app, {".github/prgate.yml": "extends: octo-org/secret-rules\n"})
    section = _section(_comment(world, pr))
    assert "could not be loaded" in section
    assert "config already uses it" in section and "is not used there" in section
    # Refused before any read: the App never asked GitHub for that repository's files.
    assert world.gh.count(path_regex="secret-rules") == 0


def test_past_the_call_budget_it_says_so_and_shows_what_it_replayed(
    world: World, history: list[PullRequest]
) -> None:
    _backtest_world(world, prs=30, max_calls=14)
    with RunningApp(world.settings) as app:
        pr = _open(world, app, {".github/prgate.yml": config("error")})
    section = _section(_comment(world, pr))
    assert "**Partial result.**" in section
    m = re.search(r"prgate replayed (\d) of the 3 merged pull requests it found", section)
    assert m is not None, section
    assert 0 < int(m.group(1)) < 3
    assert "at most 14 calls to GitHub (`PRGATE_BACKTEST_MAX_CALLS`)" in section
    assert f"the last {m.group(1)} merged pull request" in section


def test_with_the_backtest_off_a_change_of_the_rules_gets_no_section(
    world: World, history: list[PullRequest]
) -> None:
    _backtest_world(world, prs=0, max_calls=200)
    with RunningApp(world.settings) as app:
        pr = _open(world, app, {".github/prgate.yml": config("error")})
        assert not [j for j in app.store.jobs() if j.kind is JobKind.BACKTEST]
    assert "prgate:backtest" not in _comment(world, pr)


def test_the_backtest_settings() -> None:
    assert from_env({}).backtest == BacktestLimits(prs=30, max_calls=200)
    s = from_env({"PRGATE_BACKTEST_PRS": "0", "PRGATE_BACKTEST_MAX_CALLS": "50"})
    assert s.backtest == BacktestLimits(prs=0, max_calls=50)
    with pytest.raises(SettingsError, match="PRGATE_BACKTEST_MAX_CALLS must be at least 10"):
        from_env({"PRGATE_BACKTEST_MAX_CALLS": "3"})
    with pytest.raises(SettingsError, match="PRGATE_BACKTEST_PRS must be a whole number"):
        from_env({"PRGATE_BACKTEST_PRS": "all"})


def test_a_proposal_may_extend_what_the_base_already_extends(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    world.gh.create_repo(
        "octo-org/shared-rules",
        files={".github/prgate.yml": "packs: []\n"},
        installation=world.inst,
    )
    world.gh.push(
        world.repo,
        "main",
        {".github/prgate.yml": "extends: octo-org/shared-rules\n" + config("warning")[9:]},
        message="Shared rules",
    )
    proposal = "extends: octo-org/shared-rules\n" + config("error")[9:]
    pr = _open(world, app, {".github/prgate.yml": proposal})
    section = _section(_comment(world, pr))
    assert "Would newly block** (2):" in section, section


def test_a_push_gets_the_backtest_of_its_own_head_and_a_late_one_writes_nothing(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    gh = world.gh
    pr = _open(world, app, {".github/prgate.yml": config("error")})
    old = gh.head_sha(pr)
    gh.push(world.repo, "proposal", {".github/prgate.yml": config("notice")}, message="Softer")
    sync = gh.webhook(
        "pull_request", "synchronize", repo=world.repo, pr=pr, installation=world.inst
    )
    assert app.deliver(sync).status_code == 202
    app.wait_idle()
    body = _comment(world, pr)
    assert section_sha(body) == gh.head_sha(pr) != old
    assert body.count("<!-- prgate:backtest ") == 1 and "Would newly block:** none." in body
    # A backtest of the older head that runs late leaves the comment as it is.
    spec = JobSpec(JobKind.BACKTEST, world.repo.full_name, world.inst.id, pr.number, old)
    app.store.enqueue(spec)
    app.wait_idle()
    assert _comment(world, pr) == body
    late = [j for j in app.store.jobs() if j.kind is JobKind.BACKTEST and j.sha == old]
    assert [j.state for j in late] == [JobState.DONE, JobState.DONE]


def test_when_github_keeps_failing_the_section_says_the_backtest_could_not_be_worked_out(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    world.gh.fail_next("GET", r"/repos/octo-org/widgets/pulls$", status=502, times=1000)
    pr = _open(world, app, {".github/prgate.yml": config("error")})
    world.gh.clear_faults()
    (run,) = [r for r in world.gh.check_runs(world.repo) if r.head_sha == world.gh.head_sha(pr)]
    assert run.conclusion == "success"  # the verdict never waits for, nor depends on, it
    section = _section(_comment(world, pr))
    assert "The backtest could not be worked out. Comment `/prgate recheck` to try again." in (
        section
    )
    assert "GitHub kept failing" in section
    (job,) = [j for j in app.store.jobs() if j.kind is JobKind.BACKTEST]
    assert job.state is JobState.FAILED


def test_a_recheck_works_the_backtest_out_again_with_the_newer_merges(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    gh = world.gh
    pr = _open(world, app, {".github/prgate.yml": config("error")})
    assert "Would newly block** (2):" in _section(_comment(world, pr))
    later = gh.open_pull_request(
        world.repo, head="past-4", files={"app/m4.py": "q = 4  # TODO\n"}, title="Past change 4"
    )
    gh.merge_pull_request(later)
    assert app.deliver(comment_delivery(world, pr, "/prgate recheck")).status_code == 202
    app.wait_idle()
    section = _section(_comment(world, pr))
    assert "Would newly block** (3):" in section and "- #5 Past change 4" in section


def test_a_new_list_of_overlapping_pull_requests_keeps_the_worked_out_section(
    world: World, history: list[PullRequest], app: RunningApp
) -> None:
    pr = _open(world, app, {".github/prgate.yml": config("error"), "app/shared.py": "s = 1\n"})
    before = _section(_comment(world, pr))
    assert "Would newly block" in before
    other = world.gh.open_pull_request(
        world.repo, head="other", files={"app/shared.py": "s = 2\n"}, title="Same file"
    )
    hook = world.gh.webhook(
        "pull_request", "opened", repo=world.repo, pr=other, installation=world.inst
    )
    assert app.deliver(hook).status_code == 202
    app.wait_idle()
    body = _comment(world, pr)
    assert f"#{other.number}" in body  # the refreshed list of overlaps
    assert _section(body) == before  # and the backtest as it was worked out, not pending again
    kinds = [j.kind for j in app.store.jobs() if j.pr == pr.number]
    assert kinds.count(JobKind.BACKTEST) == 1
