"""The AI reviewer in the App: a plain-English rule on the base branch, end to end.

The App runs under uvicorn against the fake GitHub; its AI service is the fake Messages API on
loopback, reached through the real SDK (``ANTHROPIC_BASE_URL``).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appharness import RunningApp, World, comment_delivery, make_world
from fakegithub.fake import FakeGitHub
from fakegithub.state import Installation, PullRequest, Repo
from llm.fakeanthropic import API_KEY, FakeAnthropic, finding

from prgate.app.settings import SettingsError, from_env
from prgate.llm.budget import utc_day

CONFIG = """\
packs: [hygiene]
llm: {enabled: true, max_usd_per_pr: 0.5}
rules:
  tests/required: {level: "off"}
  team/ai-sql:
    check: llm
    instructions: Flag SQL queries built by string formatting instead of bound parameters.
    paths: ["app/**"]
    title: A database query is built from pieces of text
    why: Such queries let an attacker read or change any data.
    fix: Pass the values as query parameters.
"""
BASE = {
    ".github/prgate.yml": CONFIG,
    "app/__init__.py": "",
    "app/db.py": "import db\n",
    "README.md": "widgets\n",
}
QUERY = "import db\n\n\ndef find(uid):\n    return db.run(f'select * from t where id = {uid}')\n"


@pytest.fixture
def llm_world(fake_github: FakeGitHub, tmp_path: Path) -> World:
    world = make_world(fake_github, tmp_path, files=dict(BASE))
    # The pull requests' author can write to the repository: their changes are sent.
    fake_github.set_permission(world.repo, "builder", "write")
    return world


@pytest.fixture
def llm_app(
    llm_world: World, fake_api: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningApp]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.url)
    with RunningApp(llm_world.settings) as app:
        yield app


def _open(world: World, app: RunningApp, files: dict[str, str | None]) -> object:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files=files)
    opened = gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    assert app.deliver(opened).status_code == 202
    app.wait_idle()
    return pr


def test_a_plain_english_rule_reports_in_the_check_run_comment_and_prompt(
    llm_world: World, llm_app: RunningApp, fake_api: FakeAnthropic
) -> None:
    gh, repo = llm_world.gh, llm_world.repo
    assert "ANTHROPIC_API_KEY" not in os.environ  # taken by the App: no child process sees it
    fake_api.tool_answer(
        [
            finding(
                "app/db.py",
                5,
                title="The query pastes in the id",
                why="Someone can send an id that rewrites the query. Ask @octocat.",
                fix="Pass uid as a query parameter.",
            )
        ],
        usage={"input_tokens": 1_200, "output_tokens": 80},
    )

    pr = _open(llm_world, llm_app, {"app/db.py": QUERY})

    [request] = fake_api.requests
    assert (
        "5|     return db.run(f'select * from t where id = {uid}')"
        in (request.body["messages"][0]["content"])
    )
    [run] = gh.check_runs(repo)
    assert run.status == "completed"
    assert run.conclusion == "success", run.summary  # a warning rule does not block
    [note] = [a for a in run.annotations if a["path"] == "app/db.py"]
    assert note["start_line"] == 5 and note["annotation_level"] == "warning"
    assert "The query pastes in the id" in note["title"]
    [comment] = gh.comments(repo, pr.number)  # type: ignore[attr-defined]
    assert "The query pastes in the id" in comment.body
    assert "@octocat" not in comment.body
    people, agent = comment.body.split("Paste this to your agent", 1)
    # The model's advice is shown to people, quoted; the agent gets only a pointer to it.
    assert "Pass uid as a query parameter" in people
    assert "Pass uid as a query parameter" not in agent
    assert "app/db.py" in agent and "a person decides whether to act on it" in agent
    assert API_KEY not in comment.body and API_KEY not in run.summary
    record = llm_app.store.last_run(repo.full_name, pr.number)  # type: ignore[attr-defined]
    assert record is not None
    assert record.llm["requests"] == 1 and record.llm["input_tokens"] == 1_200
    assert record.llm["output_tokens"] == 80 and record.llm["usd"] > 0
    metrics = llm_app.get("/metrics").text
    assert 'prgate_llm_tokens_total{direction="input"} 1200.0' in metrics
    assert 'prgate_llm_requests_total{outcome="ok"} 1.0' in metrics

    # A new push that leaves app/db.py as it was: its review comes from the cache.
    gh.push(repo, "feature", {"README.md": "widgets, now with docs\n"})
    sync = gh.webhook("pull_request", "synchronize", repo=repo, pr=pr, installation=llm_world.inst)
    assert llm_app.deliver(sync).status_code == 202
    llm_app.wait_idle()

    assert len(fake_api.requests) == 1
    latest = [r for r in gh.check_runs(repo) if r.head_sha == gh.head_sha(pr)]
    assert [r.conclusion for r in latest] == ["success"]
    assert any("The query pastes in the id" in a["title"] for a in latest[0].annotations)
    again = llm_app.store.last_run(repo.full_name, pr.number)  # type: ignore[attr-defined]
    assert again is not None and again.llm["requests"] == 0 and again.llm["cached"] == 1
    assert "prgate_llm_cache_hits_total 1.0" in llm_app.get("/metrics").text


def test_a_failing_api_leaves_the_check_completed_with_the_ai_part_unavailable(
    llm_world: World, llm_app: RunningApp, fake_api: FakeAnthropic
) -> None:
    gh, repo = llm_world.gh, llm_world.repo
    for _ in range(4):
        fake_api.answer(529, body={"type": "error", "error": {"type": "overloaded_error"}})

    pr = _open(llm_world, llm_app, {"app/db.py": QUERY})

    [run] = gh.check_runs(repo)
    assert run.status == "completed" and run.conclusion == "success"
    assert "could not be completed" in run.summary
    [comment] = gh.comments(repo, pr.number)  # type: ignore[attr-defined]
    assert "could not be completed" in comment.body
    record = llm_app.store.last_run(repo.full_name, pr.number)  # type: ignore[attr-defined]
    assert record is not None and record.llm["requests"] == 1
    assert 'prgate_llm_requests_total{outcome="overloaded"} 1.0' in llm_app.get("/metrics").text


def test_without_llm_enabled_on_base_nothing_is_sent(
    fake_github: FakeGitHub,
    tmp_path: Path,
    fake_api: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = {**BASE, ".github/prgate.yml": CONFIG.replace("enabled: true", "enabled: false")}
    world = make_world(fake_github, tmp_path, files=files)
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.url)
    with RunningApp(world.settings) as app:
        # The head branch tries to switch the reviewer on: config is read from base.
        pr = _open(world, app, {"app/db.py": QUERY, ".github/prgate.yml": CONFIG})

        assert fake_api.requests == []
        [run] = world.gh.check_runs(world.repo)
        assert run.status == "completed"
        [comment] = world.gh.comments(world.repo, pr.number)  # type: ignore[attr-defined]
        assert "team/ai-sql" in comment.body  # listed as not reviewed, never as passed


# --- the cache's scope, the budget across pushes and days, and whose changes are sent ---------


def _open_in(
    world: World,
    app: RunningApp,
    repo: Repo,
    inst: Installation,
    files: dict[str, str | None],
    **pr_args: Any,
) -> PullRequest:
    pr = world.gh.open_pull_request(repo, files=files, **pr_args)
    opened = world.gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=inst)
    assert app.deliver(opened).status_code == 202
    app.wait_idle()
    return pr


def _comment(world: World, repo: Repo, pr: PullRequest) -> str:
    [comment] = world.gh.comments(repo, pr.number)
    return str(comment.body)


def test_an_identical_file_elsewhere_is_reviewed_afresh_and_never_shows_the_other_path(
    llm_world: World, llm_app: RunningApp, fake_api: FakeAnthropic
) -> None:
    gh = llm_world.gh
    # A private repository of another installation of the App, with the same rules.
    vault_inst = gh.add_installation(llm_world.app, account="vault-org")
    vault = gh.create_repo("vault-org/payroll", files=dict(BASE), installation=vault_inst)
    gh.set_permission(vault, "builder", "write")
    fake_api.tool_answer(
        [finding("app/payroll_ledger_sync.py", 5, title="The payroll ledger query pastes the id")]
    )
    private = _open_in(llm_world, llm_app, vault, vault_inst, {"app/payroll_ledger_sync.py": QUERY})
    assert "payroll ledger query" in _comment(llm_world, vault, private)

    # An outsider-facing repository gets a file with the very same content.
    fake_api.tool_answer([])
    public = _open_in(llm_world, llm_app, llm_world.repo, llm_world.inst, {"app/export.py": QUERY})

    assert len(fake_api.requests) == 2  # reviewed afresh, not answered from the other's cache
    assert '"app/export.py"' in fake_api.requests[1].body["messages"][0]["content"]
    body = _comment(llm_world, llm_world.repo, public)
    assert "payroll" not in body and "ledger" not in body
    [run] = [r for r in gh.check_runs(llm_world.repo) if r.head_sha == gh.head_sha(public)]
    assert all("payroll" not in a["path"] for a in run.annotations)


TWO_RULES = CONFIG.replace("max_usd_per_pr: 0.5", "max_usd_per_pr: 0.2") + (
    "  team/ai-names:\n"
    "    check: llm\n"
    "    instructions: Flag functions whose names do not say what they do.\n"
    '    paths: ["app/**"]\n'
    "    title: A function's name does not say what it does\n"
    "    why: Unclear names make changes risky.\n"
    "    fix: Rename the function.\n"
)
#: What each answer says it used: about $0.063 at Sonnet's prices (3 and 15 dollars a million).
HEAVY = {"input_tokens": 1_000, "output_tokens": 4_000}


def test_the_pr_budget_holds_across_pushes_and_the_store_records_the_spending(
    fake_github: FakeGitHub,
    tmp_path: Path,
    fake_api: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world(fake_github, tmp_path, files={**BASE, ".github/prgate.yml": TWO_RULES})
    fake_github.set_permission(world.repo, "builder", "write")
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.url)
    for _ in range(4):
        fake_api.tool_answer([], usage=HEAVY)
    with RunningApp(world.settings) as app:
        pr = _open_in(world, app, world.repo, world.inst, {"app/db.py": QUERY})
        assert len(fake_api.requests) == 2  # both rules, about $0.126 of the PR's $0.20
        assert "stopped" not in _comment(world, world.repo, pr)

        # A second push: each request is estimated at its full output allowance (about
        # $0.065), so what is left ($0.074) holds one more request, not two.
        fake_github.push(world.repo, "feature", {"app/db.py": QUERY + "\n\nX = 1\n"})
        sync = fake_github.webhook(
            "pull_request", "synchronize", repo=world.repo, pr=pr, installation=world.inst
        )
        assert app.deliver(sync).status_code == 202
        app.wait_idle()

        assert len(fake_api.requests) == 3
        spent = app.store.llm_spending(
            installation_id=world.inst.id, repo=world.repo.full_name, pr=pr.number, day=_today()
        )
        assert spent.pr.requests == 3 and spent.pr.usd == pytest.approx(0.189)
        assert spent.pr.usd <= 0.2 and spent.day.usd == pytest.approx(spent.pr.usd)
        body = _comment(world, world.repo, pr)
        assert "The AI review stopped" in body and "llm.max_usd_per_pr" in body
        assert "over all its pushes" in body and "does not block merging" in body
        latest = [
            r for r in fake_github.check_runs(world.repo) if r.head_sha == fake_github.head_sha(pr)
        ]
        assert [r.conclusion for r in latest] == ["success"]  # advisory: never blocks by budget


def test_the_installation_daily_cap_stops_other_pull_requests(
    fake_github: FakeGitHub,
    tmp_path: Path,
    fake_api: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = make_world(fake_github, tmp_path, files=dict(BASE))
    fake_github.set_permission(world.repo, "builder", "write")
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.url)
    monkeypatch.setenv("PRGATE_LLM_MAX_USD_PER_DAY", "0.1")
    settings = dataclasses.replace(
        world.settings, llm_max_usd_per_day=from_env(os.environ).llm_max_usd_per_day
    )
    fake_api.tool_answer([], usage=HEAVY)
    fake_api.tool_answer([], usage=HEAVY)
    with RunningApp(settings) as app:
        one = _open_in(world, app, world.repo, world.inst, {"app/db.py": QUERY})
        two = _open_in(
            world, app, world.repo, world.inst, {"app/db.py": QUERY + "\n\nX = 1\n"}, head="other"
        )

        assert len(fake_api.requests) == 1  # $0.063 spent; one more request would pass $0.10
        body = _comment(world, world.repo, two)
        assert "for today is used up" in body and "PRGATE_LLM_MAX_USD_PER_DAY" in body
        assert "stopped" not in _comment(world, world.repo, one)
        totals = app.store.llm_spending(
            installation_id=world.inst.id, repo=world.repo.full_name, pr=two.number, day=_today()
        )
        assert totals.day.requests == 1 and totals.day.usd == pytest.approx(0.063)
        assert totals.pr.requests == 0  # the second pull request spent nothing


def test_a_fork_is_not_sent_until_someone_with_write_access_asks(
    llm_world: World, llm_app: RunningApp, fake_api: FakeAnthropic
) -> None:
    gh, repo = llm_world.gh, llm_world.repo
    pr = _open_in(
        llm_world,
        llm_app,
        repo,
        llm_world.inst,
        {"app/db.py": QUERY},
        fork_owner="outsider",
        author="outsider",
    )

    assert fake_api.requests == []
    body = _comment(llm_world, repo, pr)
    assert "The AI reviewer did not read this pull request" in body
    assert "it comes from a fork" in body and "`/prgate review`" in body
    [run] = gh.check_runs(repo)
    assert run.conclusion == "success"  # a warning rule: a notice says it was not read

    # The author asks for it themselves: that does not count.
    asked = comment_delivery(llm_world, pr, "/prgate review", sender="outsider")
    assert llm_app.deliver(asked).status_code == 202
    llm_app.wait_idle()
    assert fake_api.requests == []
    assert "was not followed" in _comment(llm_world, repo, pr)

    # A maintainer asks: this version is sent.
    gh.set_permission(repo, "lead", "write")
    fake_api.tool_answer([finding("app/db.py", 5, title="The query pastes in the id")])
    asked = comment_delivery(llm_world, pr, "/prgate review", sender="lead")
    assert llm_app.deliver(asked).status_code == 202
    llm_app.wait_idle()
    assert len(fake_api.requests) == 1
    body = _comment(llm_world, repo, pr)
    assert "The query pastes in the id" in body and "did not read" not in body


def test_an_author_without_write_access_is_not_sent(
    llm_world: World, llm_app: RunningApp, fake_api: FakeAnthropic
) -> None:
    llm_world.gh.set_permission(llm_world.repo, "visitor", "read")
    pr = _open_in(
        llm_world, llm_app, llm_world.repo, llm_world.inst, {"app/db.py": QUERY}, author="visitor"
    )

    assert fake_api.requests == []
    body = _comment(llm_world, llm_world.repo, pr)
    assert "The AI reviewer did not read this pull request" in body
    assert "does not have write access" in body and "`/prgate review`" in body
    assert "team/ai-sql" in body  # its file is listed as not checked, never as passed


def _today() -> str:
    return utc_day(time.time())


def test_the_daily_cap_setting_is_read_with_help() -> None:
    assert from_env({}).llm_max_usd_per_day == 20.0
    assert from_env({"PRGATE_LLM_MAX_USD_PER_DAY": "$5"}).llm_max_usd_per_day == 5.0
    assert from_env({"PRGATE_LLM_MAX_USD_PER_DAY": "0"}).llm_max_usd_per_day == 0.0
    for bad in ("lots", "-1", "nan"):
        with pytest.raises(SettingsError, match="PRGATE_LLM_MAX_USD_PER_DAY"):
            from_env({"PRGATE_LLM_MAX_USD_PER_DAY": bad})
