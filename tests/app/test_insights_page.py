"""The insights page over HTTP: only the operator gets in (bearer token, or a one-time sign-in
link that sets a session cookie), what it shows is escaped, and nothing it loads is allowed
beyond its own style sheet. The status page keeps showing counts only."""

from __future__ import annotations

import time
from dataclasses import replace

import httpx
import pytest
from appharness import RunningApp, World
from insightsdata import (
    FORBIDDEN,
    LINT,
    ODD_REPO,
    ODD_RULE,
    PROTECTED,
    REPO,
    TOKEN,
    fill,
    with_operator,
)

from prgate.app.operator import COOKIE, LINK_TTL, SESSION_TTL, Operator, login_link
from prgate.app.settings import SettingsError, from_env
from prgate.app.sqlite_store import SQLiteStore


def _running(world: World, **kw: bool) -> RunningApp:
    settings = with_operator(world.settings, **kw)
    store = SQLiteStore.from_url(settings.database_url)
    fill(store)
    return RunningApp(settings, start_workers=False, store=store)


def _get(app: RunningApp, path: str, **kw: object) -> httpx.Response:
    return httpx.get(f"{app.url}{path}", timeout=10, **kw)  # type: ignore[arg-type]


def test_without_an_operator_token_the_page_is_off(world: World) -> None:
    store = SQLiteStore.from_url(world.settings.database_url)
    fill(store)
    with RunningApp(world.settings, start_workers=False, store=store) as app:
        for path in ("/insights", "/insights/login?ticket=x"):
            answer = _get(app, path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 403 and "PRGATE_OPERATOR_TOKEN" in answer.text
            assert REPO not in answer.text and "<svg" not in answer.text


def test_strangers_are_refused_and_told_how_the_operator_gets_in(world: World) -> None:
    with _running(world) as app:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-wrong-token-wrong-token"},
            {"Authorization": TOKEN},  # not a bearer header
            {"Cookie": f"{COOKIE}=9999999999.{'0' * 64}"},  # a forged session
        ):
            answer = _get(app, "/insights", headers=headers)
            assert answer.status_code == 401, headers
            assert "prgate insights --link" in answer.text
            assert REPO not in answer.text and "<svg" not in answer.text
            assert "default-src 'none'" in answer.headers["content-security-policy"]


def test_the_operators_bearer_token_opens_the_page_with_its_figures(world: World) -> None:
    with _running(world) as app:
        answer = _get(app, "/insights", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    text = answer.text
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'none'" in policy
    assert "style-src 'sha256-" in policy and "unsafe-inline" not in policy
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert f'<tr data-rule="{FORBIDDEN}"><td><code>{FORBIDDEN}</code></td>' in text
    # fired, findings, blocked, PRs, fixed by a fix commit, needed an approval (see insightsdata)
    cells = "<td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
    assert cells.format(2, 2, 2, 1, 0, 0) in text.split(f'data-rule="{FORBIDDEN}"><td>')[1]
    assert cells.format(1, 2, 0, 1, 1, 0) in text.split(f'data-rule="{LINT}"><td>')[1]
    assert cells.format(1, 1, 1, 1, 0, 1) in text.split(f'data-rule="{PROTECTED}"><td>')[1]
    assert "<b id=total-runs>5</b>" in text and "<b id=total-repos>2</b>" in text
    assert "60 min" in text  # #1: from its first failing check to the passing one


def test_repository_names_and_rule_ids_are_escaped(world: World) -> None:
    with _running(world) as app:
        text = _get(app, "/insights", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert ODD_REPO not in text and ODD_RULE not in text and "<script>" not in text
    assert "octo-org/&lt;b&gt;odd&lt;/b&gt;" in text
    assert "team/&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_a_sign_in_link_sets_a_session_cookie_once(world: World) -> None:
    with _running(world) as app:
        link = login_link(TOKEN, app.url)
        answer = _get(app, link.removeprefix(app.url))
        assert answer.status_code == 303 and answer.headers["location"] == "/insights"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
        assert "SameSite=strict" in cookie and "Path=/insights" in cookie
        assert f"Max-Age={int(SESSION_TTL)}" in cookie
        assert TOKEN not in cookie  # the cookie holds an HMAC, never the token
        session = answer.cookies[COOKIE]
        page = _get(app, "/insights", cookies={COOKIE: session})
        assert page.status_code == 200 and REPO in page.text
        again = _get(app, link.removeprefix(app.url))  # a link works once
        assert again.status_code == 401 and "set-cookie" not in again.headers
        assert "used already" in again.text


def test_expired_forged_and_other_tokens_links_are_refused(world: World) -> None:
    with _running(world) as app:
        stale = login_link(TOKEN, app.url, now=time.time() - LINK_TTL - 1)
        other = login_link("another-operator-token-0123456789abcdef", app.url)
        ticket = login_link(TOKEN, app.url).split("ticket=")[1]
        tampered = ticket[:-1] + ("0" if ticket[-1] != "0" else "1")
        for path in (
            stale.removeprefix(app.url),
            other.removeprefix(app.url),
            f"/insights/login?ticket={tampered}",
            "/insights/login",
        ):
            answer = _get(app, path)
            assert answer.status_code == 401 and "set-cookie" not in answer.headers, path


def test_the_session_cookie_is_secure_unless_plain_http_is_allowed(world: World) -> None:
    with _running(world, allow_http=False) as app:
        answer = _get(app, login_link(TOKEN, app.url).removeprefix(app.url))
    assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]


def test_sessions_end_when_they_expire_or_the_token_changes() -> None:
    now = [1_800_000_000.0]
    operator = Operator(TOKEN, clock=lambda: now[0])
    session = operator.new_session()
    assert operator.session_ok(session)
    assert not Operator("another-operator-token-0123456789abcdef").session_ok(session)
    now[0] += SESSION_TTL + 1
    assert not operator.session_ok(session)
    assert not Operator(None).session_ok(session) and not Operator(None).bearer_ok(
        f"Bearer {TOKEN}"
    )


def test_the_status_page_shows_counts_and_no_repository_names(world: World) -> None:
    with _running(world) as app:
        text = app.get("/").text
    assert "Verdicts of the last 5 runs: failure: 4, success: 1." in text
    assert REPO not in text and "octo-org/" not in text and "paths/" not in text


def test_the_page_shows_a_window_of_days(world: World) -> None:
    with _running(world) as app:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        recent = _get(app, "/insights?days=1", headers=auth).text  # the runs are 2 days old
        odd = _get(app, "/insights?days=x", headers=auth).text
    assert "The last 1 days" in recent and "No runs were recorded in this window." in recent
    assert "The last 30 days" in odd and "<b id=total-runs>5</b>" in odd


def test_a_short_operator_token_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="PRGATE_OPERATOR_TOKEN is shorter than 32") as caught:
        from_env({"PRGATE_OPERATOR_TOKEN": "too-short-to-be-safe"})
    assert "too-short-to-be-safe" not in str(caught.value)  # a secret is never repeated
    settings = from_env({"PRGATE_OPERATOR_TOKEN": TOKEN})
    assert settings.operator_token == TOKEN and TOKEN not in repr(settings)
    assert replace(settings).operator_token == TOKEN


def test_a_sign_in_link_spent_on_one_replica_is_refused_by_another(world: World) -> None:
    settings = with_operator(world.settings)
    first_store = SQLiteStore.from_url(settings.database_url)
    fill(first_store)
    second_store = SQLiteStore.from_url(settings.database_url)  # one database, two processes
    with (
        RunningApp(settings, start_workers=False, store=first_store) as one,
        RunningApp(settings, start_workers=False, store=second_store) as two,
    ):
        path = login_link(TOKEN, one.url).removeprefix(one.url)
        assert _get(one, path).status_code == 303
        refused = _get(two, path)
        assert refused.status_code == 401 and "set-cookie" not in refused.headers
        fresh = login_link(TOKEN, two.url).removeprefix(two.url)
        assert _get(two, fresh).status_code == 303
