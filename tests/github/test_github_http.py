"""The githubkit client as prgate configures it: retries, rate limits, timeouts, tokens."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from fakegithub.fake import FakeGitHub
from ratelimits import spend_rate_limit

from prgate.github import checks
from prgate.github.auth import AppAuth, AppCredentials
from prgate.github.errors import GitHubError, NotFound, RateLimited
from prgate.github.http import ApiSettings, Http
from prgate.github.pulls import TooManyFiles, get_pull, list_files


def _setup(gh: FakeGitHub) -> tuple[AppAuth, str, int, list[tuple[str, int]]]:
    app = gh.add_app()
    inst = gh.add_installation(app)
    repo = gh.create_repo("octo-org/widgets", files={"a.py": "a = 1\n"}, installation=inst)
    seen: list[tuple[str, int]] = []
    api = ApiSettings(
        base_url=gh.base_url,
        timeout=5,
        retry_pause=0.01,
        observer=lambda m, s: seen.append((m, s)),
    )
    auth = AppAuth(AppCredentials(str(app.id), app.private_key_pem), api)
    return auth, repo.full_name, inst.id, seen


def test_a_get_is_retried_after_a_5xx_but_a_post_is_not(fake_github: FakeGitHub) -> None:
    auth, repo, inst, seen = _setup(fake_github)
    pr = fake_github.open_pull_request(fake_github.repo(repo), files={"a.py": "a = 2\n"})
    fake_github.fail_next("GET", r"/pulls/\d+$", status=502)
    with auth.repo_http(inst, repo) as http:
        assert get_pull(http, repo, pr.number).head_sha == fake_github.head_sha(pr)
        fake_github.fail_next("POST", r"/check-runs$", status=502)
        with pytest.raises(GitHubError) as err:
            checks.start(http, repo, head_sha=fake_github.head_sha(pr))
    assert err.value.status == 502
    assert fake_github.count("GET", r"/pulls/\d+$") == 2
    assert fake_github.count("POST", r"/check-runs$") == 1
    assert fake_github.check_runs(fake_github.repo(repo)) == []
    assert ("GET", 502) in seen and ("POST", 502) in seen


def test_rate_limits_raise_at_once_with_when_to_retry(fake_github: FakeGitHub) -> None:
    auth, repo, inst, _seen = _setup(fake_github)
    pr = fake_github.open_pull_request(fake_github.repo(repo), files={"a.py": "a = 2\n"})
    reset = int(time.time()) + 3600
    spend_rate_limit(fake_github, "GET", r"/pulls/\d+$", reset=reset)
    fake_github.fail_next("POST", r"/graphql$", status=429, headers={"retry-after": "7"})
    started = time.monotonic()
    with auth.repo_http(inst, repo) as http:
        with pytest.raises(RateLimited) as primary:
            get_pull(http, repo, pr.number)
        with pytest.raises(RateLimited) as secondary:
            http.graphql("query { viewer { login } }")
    assert time.monotonic() - started < 5  # nobody slept until the reset
    assert abs(primary.value.retry_at - reset) < 5
    assert 5 < secondary.value.retry_after() <= 7.5


def test_every_call_has_a_timeout(fake_github: FakeGitHub) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = silent.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        api = ApiSettings(
            base_url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5, read_retries=0
        )
        started = time.monotonic()
        with Http(api, authorization="token x") as http, pytest.raises(GitHubError) as err:
            http.json("POST", "/repos/o/r/check-runs", json={})
        assert time.monotonic() - started < 5
        assert "in time" in str(err.value)
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        silent.close()


def test_installation_tokens_are_cached_scoped_and_renewed(fake_github: FakeGitHub) -> None:
    auth, repo, inst, _seen = _setup(fake_github)
    first = auth.installation_token(inst, repo)
    assert auth.installation_token(inst, repo) == first
    assert fake_github.count("POST", r"/access_tokens$") == 1
    issued = fake_github.tokens[first]
    assert issued.repository_ids == frozenset({fake_github.repo(repo).id})
    assert first not in repr(auth) and "PRIVATE" not in repr(auth)
    with pytest.raises(NotFound):
        auth.installation_token(inst, "octo-org/elsewhere")
    with pytest.raises(NotFound):  # remembered: not asked again at once
        auth.installation_token(inst, "octo-org/elsewhere")
    assert fake_github.count("POST", r"/access_tokens$") == 2


def test_tokens_close_to_expiry_are_renewed(fake_github: FakeGitHub) -> None:
    app = fake_github.add_app()
    inst = fake_github.add_installation(app)
    repo = fake_github.create_repo("octo-org/w", files={"a": "a"}, installation=inst)
    now = [time.time()]
    auth = AppAuth(
        AppCredentials(str(app.id), app.private_key_pem),
        ApiSettings(base_url=fake_github.base_url),
        clock=lambda: now[0],
    )
    first = auth.installation_token(inst.id, repo.full_name)
    now[0] += 3600 - 200  # inside the renewal margin of a one-hour token
    assert auth.installation_token(inst.id, repo.full_name) != first


def test_a_pr_beyond_3000_files_fails_closed(fake_github: FakeGitHub) -> None:
    auth, repo, inst, _seen = _setup(fake_github)
    with auth.repo_http(inst, repo) as http, pytest.raises(TooManyFiles) as err:
        list_files(http, repo, 1, expected=3001)
    assert "3001 files" in str(err.value) and "3000" in str(err.value)
