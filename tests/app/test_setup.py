"""The setup page through its HTTP routes, against the fake GitHub on loopback: only the operator
(who can read the server's log) can finish it, only from the browser that started it, once, soon,
and never again once the App is configured."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import replace
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from appharness import RunningApp, World
from serving import Replica, free_port
from waiting import wait_until

from prgate.app import setup
from prgate.app.settings import Settings, SettingsError, from_env
from prgate.app.setup import COOKIE
from prgate.app.setupguard import MAX_CODE_ATTEMPTS, MAX_PENDING, STATE_TTL

PUBLIC = "https://gate.example.com"
_CODE_LINE = re.compile(r"setup code(?: is)?: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})")


class Browser:
    """One browser: keeps the setup cookie as a browser reached over https would (httpx does not
    send a Secure cookie back over plain http), and reads the setup form."""

    def __init__(self, app: RunningApp) -> None:
        self.app = app
        # A new connection per request: on loopback, a kept-alive one waits ~40 ms per answer.
        self.http = httpx.Client(base_url=app.url, timeout=10, headers={"connection": "close"})
        self.cookie = ""
        self.csrf = ""
        self.attributes = ""

    def close(self) -> None:
        self.http.close()

    def _headers(self) -> dict[str, str]:
        return {"cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}

    def _keep(self, resp: httpx.Response) -> None:
        for header in resp.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie(header)
            if COOKIE in jar:
                self.cookie = jar[COOKIE].value
                self.attributes = header

    def open(self, **headers: str) -> httpx.Response:
        resp = self.http.get("/", headers=self._headers() | headers)
        self._keep(resp)
        found = re.search(r'name="csrf" value="([^"]+)"', resp.text)
        self.csrf = found.group(1) if found else ""
        return resp

    def start(self, code: str, *, csrf: str | None = None, **fields: str) -> httpx.Response:
        form = {"code": code, "csrf": self.csrf if csrf is None else csrf} | fields
        headers = self._headers()
        return self.http.post("/setup/start", data=form, headers=headers)

    def callback(self, state: str, code: str) -> httpx.Response:
        resp = self.http.get(
            "/setup/callback", params={"code": code, "state": state}, headers=self._headers()
        )
        self._keep(resp)
        return resp


def state_of(resp: httpx.Response) -> str:
    """The ``state`` token in the start page's form (the address the browser posts to GitHub)."""
    assert resp.status_code == 200, resp.text
    found = re.search(r"settings/apps/new\?state=([A-Za-z0-9_-]+)", resp.text)
    assert found, resp.text
    return found.group(1)


def manifest_of(resp: httpx.Response) -> dict[str, Any]:
    found = re.search(r'name="manifest" value="([^"]+)"', resp.text)
    assert found, resp.text
    import html

    return dict(json.loads(html.unescape(found.group(1))))


def setup_code(caplog: pytest.LogCaptureFixture) -> str:
    """The newest setup code printed in the log, as the operator reads it."""
    text = "\n".join(r.getMessage() for w in ("setup", "call") for r in caplog.get_records(w))
    codes = _CODE_LINE.findall(text)
    assert codes, text
    return str(codes[-1])


def unconfigured(world: World, **over: Any) -> Settings:
    fields: dict[str, Any] = {"public_url": PUBLIC} | over
    return replace(world.settings, app_id=None, private_key=None, webhook_secret=None, **fields)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="prgate.app")
    return caplog


@pytest.fixture
def bare(world: World, logs: pytest.LogCaptureFixture) -> Iterator[RunningApp]:
    with RunningApp(unconfigured(world)) as app:
        yield app


@pytest.fixture
def browser(bare: RunningApp) -> Iterator[Browser]:
    b = Browser(bare)
    b.open()
    yield b
    b.close()


def test_the_operator_sets_up_the_app_end_to_end(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    page = browser.http.get("/")
    assert page.status_code == 200 and 'action="/setup/start"' in page.text
    assert 'method="post"' in page.text and 'name="url"' not in page.text  # set by config
    world.gh.add_manifest_code("code-123")
    started = browser.start(setup_code(logs), org="octo-org")
    assert "/organizations/octo-org/settings/apps/new?state=" in started.text
    made = manifest_of(started)
    assert made["hook_attributes"]["url"] == f"{PUBLIC}/api/github/webhooks"
    assert made["redirect_url"] == f"{PUBLIC}/setup/callback"
    assert world.gh.base_url in started.headers["content-security-policy"]  # may post there
    done = browser.callback(state_of(started), "code-123")
    assert done.status_code == 200, done.text
    assert "installations/new" in done.text
    assert f"{COOKIE}=" in done.headers["set-cookie"]  # the browser's setup cookie is dropped
    creds = bare.settings.credentials_file
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600
    saved = json.loads(creds.read_text())
    assert saved["pem"].startswith("-----BEGIN") and saved["webhook_secret"]
    for secret in (saved["pem"], saved["webhook_secret"], saved["client_secret"]):
        assert secret not in done.text
        assert all(secret not in r.getMessage() for r in logs.get_records("call"))
    assert bare.get("/readyz").status_code == 200
    assert "Connected to GitHub" in bare.get("/").text
    loaded = from_env({}, cwd=creds.parent)
    assert loaded.app_id == saved["id"] and loaded.configured


def test_a_token_kept_from_before_setup_is_refused_after_it_and_the_app_stays(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    code = setup_code(logs)
    kept = state_of(browser.start(code))
    used = state_of(browser.start(code))
    world.gh.add_manifest_code("code-1")
    assert browser.callback(used, "code-1").status_code == 200
    creds = bare.settings.credentials_file
    before = creds.read_bytes()
    app_id = bare.asgi.state.prgate.settings.app_id
    world.gh.add_manifest_code("code-2")
    replay = browser.callback(kept, "code-2")
    assert replay.status_code == 409 and "already set up" in replay.text
    assert "code-2" in world.gh.manifest_codes  # GitHub was not even asked
    assert creds.read_bytes() == before
    assert bare.asgi.state.prgate.settings.app_id == app_id
    assert browser.start(code).status_code == 409
    browser.open()
    assert browser.start(code).status_code == 409


def test_a_token_from_another_browser_is_refused(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    code = setup_code(logs)
    first, second = state_of(browser.start(code)), state_of(browser.start(code))
    world.gh.add_manifest_code("code-1")
    other = Browser(bare)
    try:
        # No cookie at all, then the cookie of a browser that opened the page too.
        assert other.callback(first, "code-1").status_code == 403
        other.open()
        refused = other.callback(second, "code-1")
        assert refused.status_code == 403 and "another browser" in refused.text
    finally:
        other.close()
    assert "code-1" in world.gh.manifest_codes
    assert not bare.settings.credentials_file.exists()
    # The starting browser cannot use them either now: each was spent when presented.
    assert browser.callback(first, "code-1").status_code == 400


def test_an_expired_token_is_refused(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    bare.asgi.state.prgate.setup.clock = lambda: now[0]
    code = setup_code(logs)
    old = state_of(browser.start(code))
    now[0] += STATE_TTL - 10
    fresh = state_of(browser.start(code))
    now[0] += 11  # the first is 1 s past its time, the second has minutes left
    world.gh.add_manifest_code("code-1")
    expired = browser.callback(old, "code-1")
    assert expired.status_code == 400 and "expired" in expired.text
    assert "code-1" in world.gh.manifest_codes
    assert browser.callback(fresh, "code-1").status_code == 200


def test_a_token_works_once(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    token = state_of(browser.start(setup_code(logs)))
    failed = browser.callback(token, "no-such-code")  # GitHub does not know this code
    assert failed.status_code == 502 and "did not create the App" in failed.text
    assert "no-such-code" not in failed.text
    world.gh.add_manifest_code("code-1")
    again = browser.callback(token, "code-1")
    assert again.status_code == 400 and "was used" in again.text
    assert "code-1" in world.gh.manifest_codes and not bare.settings.credentials_file.exists()


def test_many_starts_keep_a_bounded_number_of_tokens(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    code = setup_code(logs)
    tokens = [state_of(browser.start(code)) for _ in range(2000)]
    assert len(set(tokens)) == 2000
    assert bare.asgi.state.prgate.setup.pending() <= MAX_PENDING
    world.gh.add_manifest_code("code-1")
    assert browser.callback(tokens[0], "code-1").status_code == 400  # pushed out long ago
    assert browser.callback(tokens[-1], "code-1").status_code == 200


def test_a_get_request_cannot_start_setup_nor_choose_the_address(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    evil = "https://evil.example.net"
    got = browser.http.get("/setup/start", params={"url": evil, "org": "octo-org"})
    assert got.status_code == 405 and "evil" not in got.text
    assert bare.asgi.state.prgate.setup.pending() == 0
    # Neither the Host header nor a posted address moves the configured one.
    page = browser.open(host="evil.example.net")
    assert "evil" not in page.text
    made = manifest_of(browser.start(setup_code(logs), url=evil))
    assert evil not in json.dumps(made)
    assert made["hook_attributes"]["url"] == f"{PUBLIC}/api/github/webhooks"


def test_a_post_without_the_csrf_token_of_this_browser_is_refused(
    bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    code = setup_code(logs)
    assert browser.start(code, csrf="").status_code == 403
    other = Browser(bare)
    try:
        other.open()
        # Another browser's token with this browser's cookie, and no cookie at all.
        assert browser.start(code, csrf=other.csrf).status_code == 403
        cookieless = browser.http.post("/setup/start", data={"code": code, "csrf": browser.csrf})
        assert cookieless.status_code == 403
    finally:
        other.close()
    foreign = browser.http.post(
        "/setup/start",
        data={"code": code, "csrf": browser.csrf},
        headers={"cookie": f"{COOKIE}={browser.cookie}", "origin": "https://evil.example.net"},
    )
    assert foreign.status_code == 403
    assert bare.asgi.state.prgate.setup.pending() == 0
    assert browser.start(code).status_code == 200  # the code still works: nothing was counted


def test_a_plain_http_address_needs_the_local_development_switch(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    with RunningApp(unconfigured(world, public_url=None)) as app:
        b = Browser(app)
        page = b.open()
        assert 'name="url"' in page.text and "Secure" in b.attributes
        plain = b.start(setup_code(logs), url="http://gate.example.com")
        assert plain.status_code == 400 and "https://" in plain.text
        assert app.asgi.state.prgate.setup.pending() == 0
        made = manifest_of(b.start(setup_code(logs), url="https://gate.example.com/prgate/"))
        assert made["redirect_url"] == "https://gate.example.com/prgate/setup/callback"
        b.close()
    logs.clear()
    with RunningApp(unconfigured(world, public_url=None, allow_http=True)) as app:
        b = Browser(app)
        b.open()
        assert "Secure" not in b.attributes  # served over http, for local development only
        made = manifest_of(b.start(setup_code(logs), url="http://localhost:3000"))
        assert made["redirect_url"] == "http://localhost:3000/setup/callback"
        b.close()
    with pytest.raises(SettingsError, match="https://"):
        from_env({"PRGATE_PUBLIC_URL": "http://gate.example.com"}, cwd=world.tmp)
    allowed = {"PRGATE_PUBLIC_URL": "http://localhost:3000/", "PRGATE_ALLOW_INSECURE_HTTP": "1"}
    assert from_env(allowed, cwd=world.tmp).public_url == "http://localhost:3000"
    for bad in ("https://user:pw@gate.example.com", "https://gate.example.com/?x=1", "ftp://x"):
        with pytest.raises(SettingsError, match="PRGATE_PUBLIC_URL"):
            from_env({"PRGATE_PUBLIC_URL": bad}, cwd=world.tmp)


def test_only_the_setup_code_from_the_log_starts_setup(
    bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    code = setup_code(logs)
    wrong = browser.start("AAAA-AAAA-AAAA" if code != "AAAA-AAAA-AAAA" else "BBBB-BBBB-BBBB")
    assert wrong.status_code == 403 and "not right" in wrong.text
    assert bare.asgi.state.prgate.setup.pending() == 0
    assert browser.start(code.lower().replace("-", " ")).status_code == 200  # as typed
    for _ in range(MAX_CODE_ATTEMPTS - 2):  # the first wrong one counts too
        assert browser.start("WRONG").status_code == 403
    locked = browser.start("WRONG")
    assert locked.status_code == 403 and "new one" in locked.text
    assert browser.start(code).status_code == 403  # the old code no longer works
    assert browser.start(setup_code(logs)).status_code == 200


def test_pages_are_neither_cached_nor_framed(
    world: World, bare: RunningApp, browser: Browser
) -> None:
    for resp in (browser.http.get("/"), browser.start("WRONG")):
        assert resp.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert resp.headers["x-frame-options"] == "DENY"
    attributes = browser.attributes.lower()
    assert "httponly" in attributes and "samesite=lax" in attributes and "secure" in attributes
    with RunningApp(world.settings) as app:
        status = app.get("/")
        assert "Connected to GitHub" in status.text
        assert status.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in status.headers["content-security-policy"]


def test_saved_credentials_are_never_overwritten(
    world: World, bare: RunningApp, browser: Browser, logs: pytest.LogCaptureFixture
) -> None:
    creds: Path = bare.settings.credentials_file
    creds.write_text('{"id": "1"}')
    world.gh.add_manifest_code("code-1")
    refused = browser.callback(state_of(browser.start(setup_code(logs))), "code-1")
    assert refused.status_code == 409 and "already exists" in refused.text
    assert creds.read_text() == '{"id": "1"}' and "code-1" in world.gh.manifest_codes


def test_prgate_serve_prints_the_setup_code_in_its_log(world: World) -> None:
    env = {
        "PRGATE_GITHUB_API_URL": world.gh.base_url,
        "PRGATE_DATABASE_URL": f"sqlite:///{world.tmp / 'serve.db'}",
        "PRGATE_PUBLIC_URL": PUBLIC,
        "PRGATE_RECONCILE_INTERVAL": "0",
    }
    with Replica(env, cwd=world.tmp, name="setup", port=free_port(), wait=False) as server:
        wait_until(lambda: _CODE_LINE.search(server.log()) is not None, "the setup code is logged")
        found = _CODE_LINE.search(server.log())
        assert found is not None
        # The code is logged while the server starts, before it listens: wait until it answers
        # (``/readyz`` says 503 while the App is not set up).
        wait_until(lambda: server.readiness() != 0, "the server answers")
        page = httpx.get(f"{server.url}/", timeout=10)
        assert page.status_code == 200 and found.group(1) not in page.text
        jar: SimpleCookie = SimpleCookie(page.headers["set-cookie"])
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        started = httpx.post(
            f"{server.url}/setup/start",
            data={"code": found.group(1), "csrf": csrf.group(1)},
            headers={"cookie": f"{COOKIE}={jar[COOKIE].value}"},
            timeout=10,
        )
        assert started.status_code == 200 and "state=" in started.text


def test_app_yml_matches_the_setup_manifest() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    doc = yaml.safe_load((root / "app.yml").read_text(encoding="utf-8"))
    made = setup.manifest("https://prgate.example.com")
    assert doc["default_permissions"] == made["default_permissions"]
    assert sorted(doc["default_events"]) == sorted(made["default_events"])
    assert doc["hook_attributes"] == made["hook_attributes"]
    assert doc["redirect_url"] == made["redirect_url"]
