"""What the operator running the App sees: a start with half the credentials stops with a plain
message; refused deliveries are logged (rate-limited, no secrets); the status page says whether
GitHub accepts the App's credentials, as checked, not assumed."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
from appharness import RunningApp, World
from serving import Replica, passed_through, world_env

SERVE = [sys.executable, "-m", "prgate", "serve", "--host", "127.0.0.1", "--port", "0"]


def test_a_start_without_the_webhook_secret_stops_and_says_what_is_missing(
    world: World, tmp_path: Path
) -> None:
    env = world_env(world)
    del env["PRGATE_WEBHOOK_SECRET"]
    done = subprocess.run(
        SERVE,
        env={**passed_through(), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "PRGATE_WEBHOOK_SECRET" in done.stderr and "verify GitHub's deliveries" in done.stderr
    assert "Traceback" not in done.stderr
    assert world.app.private_key_pem.splitlines()[1] not in done.stderr


def test_refused_deliveries_are_logged_once_a_minute_without_secrets(world: World) -> None:
    pr = world.gh.open_pull_request(world.repo, files={"app/core.py": "x = 1\n"})
    d = world.gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    forged = "sha256=" + hmac.new(b"a guessed secret", d.body, hashlib.sha256).hexdigest()
    with Replica(world_env(world), cwd=world.tmp, name="operator") as app:
        for _ in range(3):
            resp = httpx.post(
                f"{app.url}/api/github/webhooks",
                content=d.body,
                headers=dict(d.headers, **{"X-Hub-Signature-256": forged}),
                timeout=10,
            )
            assert resp.status_code == 401
        log = app.log()
    lines = [line for line in log.splitlines() if "refused" in line]
    assert len(lines) == 1, log  # the first at once; the next two wait for the next minute
    assert "a signature that does not match" in lines[0]
    assert d.headers["X-GitHub-Delivery"] in lines[0] and "pull_request" in lines[0]
    assert "PRGATE_WEBHOOK_SECRET" in lines[0]
    assert forged[7:] not in log and world.app.webhook_secret not in log


def test_the_status_page_says_whether_github_accepts_the_key(world: World) -> None:
    with RunningApp(world.settings, start_workers=False) as app:
        page = app.get("/").text
    assert "Connected to GitHub as" in page and "GitHub accepted its key" in page
    assert world.app.slug in page
    stranger = world.gh.add_app(slug="someone-else", fresh_key=True)
    wrong_key = replace(world.settings, private_key=stranger.private_key_pem)
    with RunningApp(wrong_key, start_workers=False) as app:
        page = app.get("/").text
        calls = world.gh.count("GET", r"/app$")
        app.get("/")  # asked again within the minute: GitHub is not
        assert world.gh.count("GET", r"/app$") == calls
    assert "Not connected to GitHub" in page and "Connected to GitHub as" not in page
    assert "PRGATE_APP_ID" in page
