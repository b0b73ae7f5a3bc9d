"""Where a cached review may be used, and a session that may not send (the App's held pull
requests). Through the real SDK to the fake Messages API on loopback."""

from __future__ import annotations

import json

from llm.fakeanthropic import finding
from llm.helpers import session, sql_rule

from prgate.config import Config
from prgate.engine import evaluate
from prgate.llm.answer import AiFinding
from prgate.llm.cache import LOCAL_SCOPE, MemoryCache, app_scope, cache_key, file_hash, rule_hash
from prgate.llm.pricing import DEFAULT_MODEL
from prgate.llm.session import Hold
from prgate.model import Conclusion, Level
from prgate.sources.memory import FileSides, changeset_from_files

QUERY = "q = f'select * from t where id = {uid}'\n"
HOLD = Hold(why="it comes from a fork", how="Ask a maintainer to comment `/prgate review`.")


def test_an_identical_file_in_another_scope_or_path_is_not_answered_from_the_cache(
    fake_api, api_key
):
    cache = MemoryCache()
    config = Config(rules=(sql_rule("warning"),))
    fake_api.tool_answer([finding("app/secret_payroll.py", 1, title="Payroll query")])
    private = session(fake_api.url, api_key, cache=cache)
    private.scope = app_scope(1, "vault/payroll")
    evaluate(
        changeset_from_files({"app/secret_payroll.py": FileSides(base=None, head=QUERY)}),
        config,
        reviewer=private,
    )

    for scope, path in (
        (app_scope(2, "octo/public"), "app/secret_payroll.py"),
        (app_scope(1, "vault/payroll"), "app/other.py"),
    ):
        fake_api.tool_answer([])
        other = session(fake_api.url, api_key, cache=cache)
        other.scope = scope
        report = evaluate(
            changeset_from_files({path: FileSides(base=None, head=QUERY)}), config, reviewer=other
        )
        assert other.usage().cached == 0 and other.usage().requests == 1
        assert all("Payroll" not in f.title for f in report.findings)
    assert len(fake_api.requests) == 3

    # The same file in the same place is answered from the cache, on its current path.
    again = session(fake_api.url, api_key, cache=cache)
    again.scope = app_scope(1, "vault/payroll")
    report = evaluate(
        changeset_from_files({"app/secret_payroll.py": FileSides(base=None, head=QUERY)}),
        config,
        reviewer=again,
    )
    assert again.usage().cached == 1 and len(fake_api.requests) == 3
    assert [(f.path, f.line) for f in report.findings] == [("app/secret_payroll.py", 1)]
    assert session(fake_api.url, api_key).scope == LOCAL_SCOPE  # the command line's own


def test_a_held_session_sends_nothing_uses_its_own_cache_and_says_why(fake_api, api_key):
    cache = MemoryCache()
    scope = app_scope(1, "octo/widgets")
    files = {
        "app/known.py": FileSides(base=None, head=QUERY),
        "app/new.py": FileSides(base=None, head="x = 1\n"),
    }
    fake_api.tool_answer([finding("app/known.py", 1, title="Formatted SQL")])
    first = session(fake_api.url, api_key, cache=cache)
    first.scope = scope
    evaluate(
        changeset_from_files({"app/known.py": files["app/known.py"]}),
        Config(rules=(sql_rule("warning"),)),
        reviewer=first,
    )
    assert len(fake_api.requests) == 1

    for level, conclusion, shown in (
        ("warning", Conclusion.SUCCESS, Level.NOTICE),
        ("error", Conclusion.FAILURE, Level.ERROR),  # a rule that must approve: waits
    ):
        held = session(fake_api.url, api_key, cache=cache)
        held.scope, held.hold = scope, HOLD
        report = evaluate(
            changeset_from_files(files), Config(rules=(sql_rule(level),)), reviewer=held
        )
        assert len(fake_api.requests) == 1  # nothing sent
        assert held.held and held.usage().cached == 1
        assert report.conclusion is conclusion
        [note] = [f for f in report.findings if f.path is None]
        assert note.level is shown and "did not read this change" in note.title
        assert "it comes from a fork" in note.message and "/prgate review" in note.fix
        assert [s.path for s in report.skipped] == ["app/new.py"]
        assert "not sent to the AI reviewer" in report.skipped[0].reason
        assert any(f.path == "app/known.py" for f in report.findings)  # from the cache


def test_a_cached_finding_is_placed_on_the_current_path_and_added_lines(fake_api, api_key):
    # Whatever a cache entry says (an older format, a hand-edited store), what is shown is
    # anchored to the file being judged: its path, and only lines the change added.
    cache = MemoryCache()
    rule = sql_rule("warning")
    change = changeset_from_files({"app/db.py": FileSides(base="a = 1\n", head="a = 1\n" + QUERY)})
    [file] = change.files
    key = cache_key(
        rule,
        model=DEFAULT_MODEL,
        file_digest=file_hash(file) or "",
        rule_digest=rule_hash(rule),
        scope=LOCAL_SCOPE,
        path="app/db.py",
    )
    stale = [
        AiFinding("vault/payroll.py", 1, 1, "On a line not added", "why", ""),
        AiFinding("vault/payroll.py", 2, 9, "On the added line", "why", ""),
    ]
    cache.llm_cache_put(key, json.dumps([f.to_json() for f in stale]))

    report = evaluate(
        change, Config(rules=(rule,)), reviewer=session(fake_api.url, api_key, cache=cache)
    )

    assert fake_api.requests == []
    placed = {(f.path, f.line, f.end_line) for f in report.findings}
    assert placed == {("app/db.py", None, None), ("app/db.py", 2, 2)}
