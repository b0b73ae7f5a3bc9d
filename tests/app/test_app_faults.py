"""GitHub faults (5xx, timeouts, rate limits, lost answers), backpressure and the new settings.

Faults come from the fake GitHub's fault injection (``inject_faults``, ``fail_next``); the App
runs on loopback with short client timeouts so that a hanging GitHub costs little time.
"""

from __future__ import annotations

import time
from dataclasses import replace

import httpx
import pytest
from appharness import RunningApp, World, comment_delivery
from fakegithub.fake import FakeGitHub
from ratelimits import spend_rate_limit
from waiting import wait_until

from prgate.app.settings import SettingsError, from_env
from prgate.app.store import JobState
from prgate.github.auth import AppAuth, AppCredentials
from prgate.github.errors import GitHubError, RateLimited
from prgate.github.http import ApiSettings, Http

BAD = "import os\n\n\ndef add(a, b):\n    return a + b\n"
FAST = {"api_timeout": 0.5, "api_retry_pause": 0.02}


def _http(world: World, **kw: float) -> Http:
    auth = AppAuth(
        AppCredentials(app_id=str(world.app.id), private_key=world.app.private_key_pem),
        ApiSettings(base_url=world.gh.base_url, timeout=0.5, retry_pause=0.02, **kw),
    )
    return auth.repo_http(world.inst.id, world.repo.full_name)


def _statuses(gh: FakeGitHub, method: str, path_regex: str) -> list[int]:
    import re

    pattern = re.compile(path_regex)
    return [r.status for r in gh.requests if r.method == method and pattern.search(r.path)]


# --- settings ---------------------------------------------------------------------------------


def test_new_settings_have_defaults_and_read_the_environment() -> None:
    s = from_env({})
    assert (s.queue_limit, s.shutdown_grace, s.job_lease, s.reconcile_interval) == (
        1000,
        20.0,
        60.0,
        600.0,
    )
    s = from_env(
        {
            "PRGATE_QUEUE_LIMIT": "5",
            "PRGATE_SHUTDOWN_GRACE": "2.5",
            "PRGATE_JOB_LEASE": "30",
            "PRGATE_RECONCILE_INTERVAL": "0",
        }
    )
    assert (s.queue_limit, s.shutdown_grace, s.job_lease, s.reconcile_interval) == (5, 2.5, 30, 0)
    assert from_env({}).max_fetch_bytes == 200 * 1024 * 1024
    assert from_env({"PRGATE_MAX_FETCH_BYTES": "52428800"}).max_fetch_bytes == 50 * 1024 * 1024
    assert from_env({}).rate_low_water == 100
    assert from_env({"PRGATE_RATE_LIMIT_LOW_WATER": "250"}).rate_low_water == 250


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("PRGATE_QUEUE_LIMIT", "lots", "PRGATE_QUEUE_LIMIT must be a whole number, not 'lots'"),
        ("PRGATE_QUEUE_LIMIT", "0", "PRGATE_QUEUE_LIMIT must be at least 1"),
        ("PRGATE_SHUTDOWN_GRACE", "-1", "PRGATE_SHUTDOWN_GRACE must be at least 0 seconds"),
        ("PRGATE_SHUTDOWN_GRACE", "20s", "PRGATE_SHUTDOWN_GRACE must be a number of seconds"),
        ("PRGATE_JOB_LEASE", "1", "PRGATE_JOB_LEASE must be at least 5 seconds"),
        ("PRGATE_JOB_LEASE", "nan", "PRGATE_JOB_LEASE must be a number of seconds"),
        ("PRGATE_RECONCILE_INTERVAL", "0.2", "PRGATE_RECONCILE_INTERVAL must be 0 (off)"),
        ("PRGATE_MAX_FETCH_BYTES", "200MB", "PRGATE_MAX_FETCH_BYTES must be a whole number"),
        ("PRGATE_MAX_FETCH_BYTES", "1000", "PRGATE_MAX_FETCH_BYTES must be at least 1048576"),
        ("PRGATE_RATE_LIMIT_LOW_WATER", "-1", "PRGATE_RATE_LIMIT_LOW_WATER must be at least 0"),
        ("PRGATE_RATE_LIMIT_LOW_WATER", "many", "PRGATE_RATE_LIMIT_LOW_WATER must be a whole"),
    ],
)
def test_bad_setting_values_are_refused_in_plain_words(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as err:
        from_env({name: value})
    assert says in str(err.value)


# --- the client: what is retried and what is not ---------------------------------------------


def test_reads_are_retried_on_502_hangs_and_lost_connections(world: World) -> None:
    gh = world.gh
    pull = f"/repos/{world.repo.full_name}/pulls"
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "x = 1\n"})
    with _http(world) as http:
        gh.fail_next("GET", r"/pulls/\d+$", status=502, times=2)
        assert http.json("GET", f"{pull}/{pr.number}")["number"] == pr.number
        assert _statuses(gh, "GET", r"/pulls/\d+$") == [502, 502, 200]

        gh.inject_faults(1.0, kinds=("hang",), method="GET", path_regex=r"/pulls/\d+$")
        started = time.monotonic()
        with pytest.raises(GitHubError, match="did not answer in time"):
            http.json("GET", f"{pull}/{pr.number}")
        assert time.monotonic() - started < 3.0  # three tries of 0.5 s, not the 2 s hang
        assert gh.faults_injected() == {"hang": 3}
        gh.clear_faults()

    calls: list[int] = []
    dead = Http(
        ApiSettings(
            base_url="http://127.0.0.1:9",
            timeout=0.5,
            retry_pause=0.01,
            observer=lambda _m, status: calls.append(status),
        ),
        authorization=None,
    )
    started = time.monotonic()
    with pytest.raises(GitHubError, match="could not be reached"):
        dead.json("GET", "/app")
    assert time.monotonic() - started >= 0.03  # two pauses: it was tried three times
    assert calls == []  # no answer ever came


def test_writes_are_retried_only_when_marked_safe_to_repeat(world: World) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "x = 1\n"})
    path = f"/repos/{world.repo.full_name}/issues/{pr.number}/comments"
    with _http(world) as http:
        gh.fail_next("POST", r"/comments$", status=502)
        with pytest.raises(GitHubError) as err:
            http.json("POST", path, json={"body": "one"})
        assert err.value.status == 502
        assert _statuses(gh, "POST", r"/comments$") == [502]
        made = http.json("POST", path, json={"body": "one"})
        gh.fail_next("PATCH", r"/issues/comments/\d+$", status=503)
        http.json(
            "PATCH",
            f"/repos/{world.repo.full_name}/issues/comments/{made['id']}",
            json={"body": "two"},
            retry=True,
        )
        assert _statuses(gh, "PATCH", r"/issues/comments/\d+$") == [503, 200]
    assert [c.body for c in gh.comments(world.repo, pr.number)] == ["two"]


def test_rate_limit_answers_raise_rate_limited_with_the_time_to_wait(world: World) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "x = 1\n"})
    with _http(world) as http:
        gh.inject_faults(1.0, kinds=("429",), method="GET", path_regex=r"/pulls/\d+$")
        before = time.time()
        with pytest.raises(RateLimited) as err:
            http.json("GET", f"/repos/{world.repo.full_name}/pulls/{pr.number}")
        assert before + 0.5 <= err.value.retry_at <= time.time() + 2  # retry-after: 1
        assert gh.faults_injected() == {"429": 1}  # not retried on the spot
        gh.clear_faults()
        reset = int(time.time()) + 30
        spend_rate_limit(gh, "POST", r"/graphql$", reset=reset)
        with pytest.raises(RateLimited) as err:
            http.graphql("query { viewer { login } }")
        assert abs(err.value.retry_at - reset) <= 2
        gh.fail_next(
            "GET",
            r"/pulls/\d+$",
            status=403,
            body={"message": "You have exceeded a secondary rate limit."},
        )
        with pytest.raises(RateLimited) as err:  # no retry-after: wait a minute
            http.json("GET", f"/repos/{world.repo.full_name}/pulls/{pr.number}")
        assert 55 <= err.value.retry_after() <= 61
        http.json("GET", f"/repos/{world.repo.full_name}/pulls/{pr.number}")
        assert http.rate_remaining is not None and 0 < http.rate_remaining < 5000


def test_the_fakes_random_faults_repeat_with_the_same_seed(fake_github: FakeGitHub) -> None:
    def run(seed: int) -> list[int]:
        fake_github.inject_faults(0.5, kinds=("502", "429"), seed=seed, path_regex=r"^/app$")
        out = [httpx.get(f"{fake_github.base_url}/app", timeout=5).status_code for _ in range(30)]
        fake_github.clear_faults()
        return out

    first, again, other = run(7), run(7), run(8)
    assert first == again and first != other
    assert {502, 429, 401} <= set(first)  # 401: answered for real (no credentials)
    fake_github.latency = 0.2
    started = time.monotonic()
    httpx.get(f"{fake_github.base_url}/app", timeout=5)
    assert time.monotonic() - started >= 0.2


# --- jobs: writes made safe to repeat -----------------------------------------------------------


def test_a_check_run_and_a_comment_whose_answers_were_lost_are_not_made_twice(
    world: World,
) -> None:
    gh, repo = world.gh, world.repo
    settings = replace(world.settings, **FAST)
    pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
    d = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
    with RunningApp(settings) as running:
        # The first create of each takes effect, but its answer comes after the client gave up.
        gh.inject_faults(
            1.0,
            kinds=("lost",),
            method="POST",
            path_regex=r"/check-runs$|/comments$",
            hang_seconds=1.0,
        )
        assert running.deliver(d).status_code == 202
        wait_until(lambda: gh.faults_injected().get("lost", 0) >= 1, "an answer is lost")
        gh.clear_faults()  # later tries answer at once
        running.wait_idle()
        (job,) = running.store.jobs()
        assert job.state is JobState.DONE and job.attempts >= 2
    (run,) = gh.check_runs(repo)
    assert run.status == "completed" and run.conclusion == "failure"
    assert len(gh.comments(repo, pr.number)) == 1
    assert gh.count("POST", r"/check-runs$") == 1  # found on the next attempt, then updated


def test_a_fix_push_whose_answer_was_lost_is_recognised_not_pushed_again(world: World) -> None:
    gh, repo = world.gh, world.repo
    settings = replace(world.settings, **FAST)
    pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
    d = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
    with RunningApp(settings) as running:
        running.deliver(d)
        running.wait_idle()
        head = gh.head_sha(pr)
        gh.inject_faults(
            1.0, kinds=("lost",), method="PATCH", path_regex=r"/git/refs/", hang_seconds=1.0
        )
        cmd = comment_delivery(world, pr, "/prgate fix")
        running.deliver(cmd)
        wait_until(lambda: gh.branch_head(repo, "feature") != head, "the fix is pushed")
        running.wait_idle()
        gh.clear_faults()
        new_head = gh.branch_head(repo, "feature")
        assert new_head != head and gh.commit_parents(repo, new_head) == [head]
        assert gh.count("PATCH", r"/git/refs/") == 1
        assert gh.count("POST", r"/git/commits$") == 1
        assert running.store.is_fix_commit(repo.full_name, new_head)
        fix_jobs = [j for j in running.store.jobs() if j.kind.value == "fix"]
        assert [j.state for j in fix_jobs] == [JobState.DONE]
        # The new head is judged, and no fixes are offered again for prgate's own commit.
        (run,) = gh.check_runs(repo, head_sha=new_head)
        assert run.status == "completed" and run.actions == []


# --- backpressure ---------------------------------------------------------------------------------


def test_past_the_queue_limit_deliveries_get_503_and_nothing_is_recorded(world: World) -> None:
    gh, repo = world.gh, world.repo
    settings = replace(world.settings, queue_limit=2)
    prs = [
        gh.open_pull_request(repo, head=f"topic-{i}", files={f"app/m{i}.py": "x = 1\n"})
        for i in range(3)
    ]
    ds = [
        gh.webhook("pull_request", "opened", repo=repo, pr=p, installation=world.inst) for p in prs
    ]
    with RunningApp(settings, start_workers=False) as running:
        assert [running.deliver(d).status_code for d in ds[:2]] == [202, 202]
        refused = running.deliver(ds[2])
        assert refused.status_code == 503 and refused.headers["retry-after"] == "60"
        assert "busy" in refused.text
        assert running.store.delivery_count() == 2 and running.store.queue_depth() == 2
        assert not running.store.has_delivery(ds[2].delivery_id)
        # The signature is still checked first.
        forged = running.deliver(ds[2], **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
        assert forged.status_code == 401
        # A delivery that asks for no work is refused too: the limit protects the store.
        ping = gh.webhook("ping", None, installation=world.inst)
        assert running.deliver(ping).status_code == 503
        metrics = running.get("/metrics").text
        assert (
            'prgate_webhook_deliveries_total{event="pull_request",outcome="overloaded"} 1.0'
            in metrics
        )
        assert "prgate_queue_depth 2.0" in metrics
    # Once the queue drains, the same delivery (GitHub's redelivery) is taken.
    with RunningApp(settings) as running:
        running.wait_idle()
        time.sleep(0.15)  # past the cached depth
        assert running.deliver(ds[2]).status_code == 202
        running.wait_idle()
    assert all(gh.check_runs(repo, head_sha=gh.head_sha(p)) for p in prs)
