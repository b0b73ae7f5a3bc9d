"""The AI reviewer in the App: a plain-English rule on the base branch, end to end.

The App runs under uvicorn against the fake GitHub; its AI service is the fake Messages API on
loopback, reached through the real SDK (``ANTHROPIC_BASE_URL``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from appharness import RunningApp, World, make_world
from fakegithub.fake import FakeGitHub
from llm.fakeanthropic import API_KEY, FakeAnthropic, finding

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
    return make_world(fake_github, tmp_path, files=dict(BASE))


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
