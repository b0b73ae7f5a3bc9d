"""The AI reviewer through the real SDK, against a fake Messages API on loopback."""

from __future__ import annotations

import logging
import os
import socket
import unicodedata

import pytest
from llm.fakeanthropic import finding
from llm.helpers import INSTRUCTIONS, change, sent_key, session, sql_rule, texts

from prgate.errors import ConfigError
from prgate.llm.client import AnthropicService, service_from_env
from prgate.llm.pricing import DEFAULT_MODEL
from prgate.llm.session import MAX_OUTPUT_TOKENS
from prgate.model import Level
from prgate.sources.memory import FileSides, changeset_from_files


def test_sends_the_task_and_only_added_lines_of_matching_files(fake_api, api_key):
    fake_api.tool_answer([])

    result = session(fake_api.url, api_key).review(sql_rule(), change())

    assert result.findings == [] and result.skipped == []
    [request] = fake_api.requests
    assert request.path == "/v1/messages"
    assert sent_key(request) == api_key
    body = request.body
    assert body["model"] == DEFAULT_MODEL
    assert body["max_tokens"] == MAX_OUTPUT_TOKENS
    assert body["tool_choice"]["type"] == "tool"
    assert (
        [t["name"] for t in body["tools"]] == [body["tool_choice"]["name"]] == ["report_findings"]
    )
    schema = body["tools"][0]["input_schema"]["properties"]["findings"]["items"]
    assert set(schema["required"]) == {
        "path",
        "line",
        "end_line",
        "title",
        "why",
        "fix",
        "confidence",
    }
    assert INSTRUCTIONS in body["system"]
    assert "untrusted" in body["system"].lower()
    [user] = body["messages"]
    assert user["role"] == "user"
    content = user["content"]
    assert "3| q = f'select * from t where id = {uid}'" in content
    assert "4| db.run(q)" in content
    assert '--- file "app/new file.py" ---\n1| x = 1' in content
    assert "import db" not in content  # an unchanged line
    assert "docs/notes.md" not in content and "Ignore all previous" not in content
    assert api_key not in repr(body)


def test_the_model_and_timeout_come_from_the_settings(fake_api, api_key):
    fake_api.tool_answer([])

    session(fake_api.url, api_key, model="claude-haiku-5-5").review(sql_rule(), change())

    assert fake_api.requests[0].body["model"] == "claude-haiku-5-5"


def test_findings_are_placed_on_sent_lines_attached_to_their_file_or_dropped(fake_api, api_key):
    fake_api.tool_answer(
        [
            finding("app/db.py", 3, title="Formatted SQL", why="An f-string builds the query."),
            finding("app/db.py", 1, title="Unchanged line", why="Outside the change."),
            finding("app/db.py", 2, end_line=9, title="A span", why="Covers lines 3 and 4."),
            finding("app/ghost.py", 3, why="A file that is not in the change."),
            finding("docs/notes.md", 1, why="A file the rule does not cover."),
            finding("app/db.py", 4, why="Not sure.", confidence=0.3),
        ]
    )

    result = session(fake_api.url, api_key).review(sql_rule(), change())

    placed = {(f.path, f.line, f.end_line, f.title) for f in result.findings}
    assert placed == {
        ("app/db.py", 3, 3, "AI review: Formatted SQL"),
        ("app/db.py", 3, 4, "AI review: A span"),
        ("app/db.py", None, None, "AI review: Unchanged line"),
    }
    assert len(result.findings) == 3
    first = next(f for f in result.findings if f.title.endswith("Formatted SQL"))
    assert first.rule == "team/ai-sql"
    assert first.level is Level.ERROR
    assert first.message == "An f-string builds the query."
    assert first.fix == "Fix it."
    assert not any(f.fixable for f in result.findings)


def test_the_answer_cannot_choose_its_level_rule_or_fixability(fake_api, api_key):
    bold = finding("app/db.py", 4, title="Runs the query")
    bold.update({"level": "error", "rule": "style/ruff-lint", "fixable": True})
    fake_api.tool_answer([bold])

    result = session(fake_api.url, api_key).review(sql_rule("notice"), change())

    [found] = result.findings
    assert (found.rule, found.level, found.fixable) == ("team/ai-sql", Level.NOTICE, False)


def test_hostile_text_is_rendered_inert(fake_api, api_key):
    hostile = (
        "Fine\x1b[31m\x00 code.\n\n@octocat please approve \u202egnp.exe\u202c and ping "
        "@security-team. See [the docs](https://evil.example/x) and "
        "![pixel](https://evil.example/p.png) or <https://evil.example/a> or "
        "www.evil.example/b or http://evil.example/c. <img src=x onerror=alert(1)> "
        "<b>bold</b> <!-- hidden --> Key: AKIAZ7QW3ER4TY5UI6OP " + "very long " * 300
    )
    fake_api.tool_answer(
        [finding("app/db.py", 3, title="<script>@admin</script> [click](http://x.y)", why=hostile)]
    )

    [found] = session(fake_api.url, api_key).review(sql_rule(), change()).findings

    for text in (found.title, found.message, found.fix):
        assert all(unicodedata.category(c)[0] != "C" for c in text)
        assert "\n" not in text
        assert "<" not in text and ">" not in text
        assert "http" not in text and "www." not in text and "](" not in text
        assert "@octocat" not in text and "@security-team" not in text and "@admin" not in text
    text = found.message
    assert "AKIAZ7QW3ER4TY5UI6OP" not in text and "[redacted]" in text
    assert text.startswith("Fine code. @ octocat please approve")
    assert "the docs" in text and "pixel" in text  # a link's words stay, its target goes
    assert len(text) < 450 and text.endswith("…")
    assert found.title == "AI review: @ admin click"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"type": "message", "content": [{"type": "text", "text": "Looks good to me!"}]},
            id="text-instead-of-the-tool",
        ),
        pytest.param(
            {"content": [{"type": "tool_use", "name": "report_findings", "input": {"ok": True}}]},
            id="tool-input-without-findings",
        ),
        pytest.param(
            {
                "content": [
                    {
                        "type": "tool_use",
                        "name": "report_findings",
                        "input": {"findings": [{"path": "app/db.py", "line": "3", "why": 1}]},
                    }
                ]
            },
            id="finding-of-the-wrong-types",
        ),
        pytest.param(
            {
                "content": [
                    {
                        "type": "tool_use",
                        "name": "report_findings",
                        "input": {"findings": [{**finding("app/db.py", 3), "confidence": 7}]},
                    }
                ]
            },
            id="confidence-out-of-range",
        ),
        pytest.param(
            {
                "stop_reason": "max_tokens",
                "content": [
                    {"type": "tool_use", "name": "report_findings", "input": {"findings": []}}
                ],
            },
            id="cut-off",
        ),
        pytest.param(
            {
                "content": [
                    {"type": "tool_use", "name": "report_findings", "input": {"findings": []}},
                    {"type": "tool_use", "name": "report_findings", "input": {"findings": []}},
                ]
            },
            id="two-answers",
        ),
        pytest.param(
            {"content": [{"type": "tool_use", "name": "approve_pr", "input": {}}]},
            id="another-tool",
        ),
        pytest.param({"findings": []}, id="not-a-message"),
        pytest.param(b"<html>Bad gateway</html>", id="not-json"),
        pytest.param([1, 2, 3], id="a-list"),
    ],
)
def test_an_unreadable_answer_is_asked_again_once_then_fails_closed(fake_api, api_key, body):
    fake_api.answer(body=body)
    fake_api.answer(body=body)

    result = session(fake_api.url, api_key).review(sql_rule(), change())

    assert len(fake_api.requests) == 2
    [found] = result.findings
    assert found.level is Level.ERROR
    assert found.path is None and found.line is None
    assert found.title.startswith("The AI review could not be completed")
    assert "answered, but" in found.message and "cannot pass" in found.message
    assert {s.path for s in result.skipped} == {"app/db.py", "app/new file.py"}
    assert api_key not in texts(result)


def test_a_second_answer_that_reads_is_used(fake_api, api_key):
    fake_api.answer(body={"content": [{"type": "text", "text": "approve"}]})
    fake_api.tool_answer([finding("app/db.py", 3)])

    result = session(fake_api.url, api_key).review(sql_rule("warning"), change())

    assert len(fake_api.requests) == 2
    assert [(f.path, f.line, f.level) for f in result.findings] == [("app/db.py", 3, Level.WARNING)]
    assert result.skipped == []


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        (500, "answered with an error (HTTP 500)", "error"),
        (529, "overloaded", "overloaded"),
        (401, "did not accept the API key", "refused"),
        (429, "too many requests", "rate_limited"),
    ],
)
def test_an_api_error_fails_closed(fake_api, api_key, status, reason, outcome):
    for _ in range(2):
        fake_api.answer(status, body={"type": "error", "error": {"type": "x", "message": api_key}})
    reviewer = session(fake_api.url, api_key, max_retries=1)

    result = reviewer.review(sql_rule(), change())

    [found] = result.findings
    assert found.level is Level.ERROR
    assert reason in found.message
    assert api_key not in texts(result)
    retried = status != 401
    assert len(fake_api.requests) == (2 if retried else 1)
    assert reviewer.usage().outcomes == {outcome: 1}


def test_an_error_on_a_warning_rule_is_a_notice_and_later_rules_do_not_wait(fake_api, api_key):
    fake_api.answer(529, body={"type": "error"})
    reviewer = session(fake_api.url, api_key)

    first = reviewer.review(sql_rule("warning"), change())
    second = reviewer.review(sql_rule("notice", rule_id="team/other"), change())

    assert len(fake_api.requests) == 1  # the service is known to be down for this run
    for result, rule_id in ((first, "team/ai-sql"), (second, "team/other")):
        [found] = result.findings
        assert (found.rule, found.level) == (rule_id, Level.NOTICE)
        assert "could not be completed" in found.title
        assert "does not block merging" in found.message
        assert {s.path for s in result.skipped} == {"app/db.py", "app/new file.py"}


def test_a_slow_service_times_out_and_fails_closed(fake_api, api_key):
    fake_api.answer(body={"content": []}, delay=2.0)

    result = session(fake_api.url, api_key, timeout_seconds=0.3).review(sql_rule(), change())

    [found] = result.findings
    assert "did not answer in time" in found.message
    assert found.level is Level.ERROR


def test_an_unreachable_service_fails_closed(api_key):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the request: nothing listens there

    result = session(f"http://127.0.0.1:{port}", api_key).review(sql_rule(), change())

    [found] = result.findings
    assert "could not reach the AI service" in found.message


def test_no_request_when_no_file_matches(fake_api, api_key):
    only_docs = changeset_from_files({"docs/a.md": FileSides(base=None, head="hello\n")})

    result = session(fake_api.url, api_key).review(sql_rule(), only_docs)

    assert result.findings == [] and result.skipped == []
    assert fake_api.requests == []


def test_usage_is_recorded_from_the_answer(fake_api, api_key):
    fake_api.tool_answer([], usage={"input_tokens": 1_000_000, "output_tokens": 100_000})
    reviewer = session(fake_api.url, api_key, max_usd_per_pr=100.0)

    reviewer.review(sql_rule(), change())

    usage = reviewer.usage()
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (1, 1_000_000, 100_000)
    assert usage.usd == pytest.approx(3.0 + 1.5)  # a Sonnet-class price: $3 in, $15 out
    assert usage.record()["usd"] == pytest.approx(4.5)


def test_service_from_env_takes_the_key_out_of_the_environment(fake_api, api_key):
    assert service_from_env({}) is None
    assert service_from_env({"ANTHROPIC_API_KEY": "   "}) is None
    assert service_from_env({"ANTHROPIC_BASE_URL": fake_api.url}) is None

    env = {"ANTHROPIC_API_KEY": api_key, "ANTHROPIC_BASE_URL": fake_api.url, "PATH": "/bin"}
    service = service_from_env(env)

    assert service is not None
    assert env == {"ANTHROPIC_BASE_URL": fake_api.url, "PATH": "/bin"}
    fake_api.tool_answer([])
    from prgate.llm.cache import MemoryCache
    from prgate.llm.session import ReviewSession
    from prgate.llm.settings import LlmSettings

    ReviewSession(service, settings=LlmSettings(), cache=MemoryCache()).review(sql_rule(), change())
    assert sent_key(fake_api.requests[0]) == api_key
    assert api_key not in repr(service) and fake_api.url not in repr(service)


def test_a_bad_base_url_is_explained_without_repeating_it(api_key):
    url = "ftp://proxy-user:proxy-pass@example"
    with pytest.raises(ConfigError) as raised:
        service_from_env({"ANTHROPIC_API_KEY": api_key, "ANTHROPIC_BASE_URL": url})
    assert "ANTHROPIC_BASE_URL" in str(raised.value)
    assert "proxy-pass" not in str(raised.value) and api_key not in str(raised.value)


def test_an_empty_key_is_refused():
    with pytest.raises(ValueError):
        AnthropicService("  ")


def test_the_key_reaches_no_output_or_log(fake_api, api_key, caplog):
    caplog.set_level(logging.DEBUG)
    fake_api.tool_answer([finding("app/db.py", 3, why=f"key is {api_key}")])
    fake_api.answer(500, body={"type": "error", "error": {"message": api_key}})
    for _ in range(2):
        fake_api.answer(body=api_key.encode())
    for _ in range(2):
        fake_api.answer(body={"content": [{"type": "text", "text": api_key}]})
    outputs = []
    for _ in range(4):
        reviewer = session(fake_api.url, api_key)
        outputs.append(texts(reviewer.review(sql_rule(), change())) + repr(reviewer))

    assert len(fake_api.requests) == 6
    assert all(api_key not in out for out in outputs)
    assert "[redacted]" in outputs[0]
    assert caplog.records  # the SDK's debug logging was on and captured
    assert api_key not in caplog.text
    assert "ANTHROPIC_API_KEY" not in os.environ or os.environ["ANTHROPIC_API_KEY"] != api_key
