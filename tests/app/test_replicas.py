"""Three `prgate serve` replicas on one PostgreSQL database; one is killed with SIGKILL mid-job.

Every PR must still end with exactly one completed `prgate` check run and one comment, and every
delivery must be recorded once, whichever replica received it. The helpers here (a replica's
variables, PRs that fail, whether each was judged once) also serve ``test_restart.py``.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from fakegithub.fake import FakeGitHub
from fakegithub.state import App, Installation, PullRequest, Repo
from pgdb import fresh_database
from serving import Replica, StallingProxy, serve_env
from waiting import wait_until

MARKER = "<!-- prgate:report -->"
#: Lints as a failure: ``os`` is imported and never used.
BAD = "import os\n\n\ndef add(a, b):\n    return a + b\n"
LEASE = 5  # seconds: the shortest PRGATE_JOB_LEASE prgate accepts


def replica_env(app: App, database_url: str, api_url: str, tmp: Path) -> dict[str, str]:
    """A replica's variables: two workers, the shortest lease, so that takeovers come soon."""
    return serve_env(
        app,
        database_url,
        api_url=api_url,
        tmp=tmp,
        PRGATE_WORKERS="2",
        PRGATE_JOB_LEASE=str(LEASE),
    )


def make_repo(gh: FakeGitHub) -> tuple[App, Installation, Repo]:
    app = gh.add_app(slug="prgate")
    inst = gh.add_installation(app, account="octo-org")
    repo = gh.create_repo(
        "octo-org/widgets",
        files={"app/__init__.py": "", "app/core.py": "def add(a, b):\n    return a + b\n"},
        installation=inst,
    )
    return app, inst, repo


def open_prs(gh: FakeGitHub, repo: Repo, count: int) -> list[PullRequest]:
    # Each changes files of its own: pull requests sharing a file would also get jobs that
    # show their comments again with each other listed (``coordinate``).
    return [
        gh.open_pull_request(repo, head=f"feature-{i}", files={f"app/m{i}.py": BAD})
        for i in range(count)
    ]


def all_judged(gh: FakeGitHub, repo: Repo, prs: list[PullRequest]) -> bool:
    for pr in prs:
        runs = [r for r in gh.check_runs(repo, head_sha=gh.head_sha(pr)) if r.name == "prgate"]
        if not runs or any(r.status != "completed" for r in runs):
            return False
        if not any(MARKER in c.body for c in gh.comments(repo, pr.number)):
            return False
    return True


def assert_judged_once(gh: FakeGitHub, repo: Repo, prs: list[PullRequest]) -> None:
    for pr in prs:
        sha = gh.head_sha(pr)
        runs = [r for r in gh.check_runs(repo, head_sha=sha) if r.name == "prgate"]
        assert len(runs) == 1, f"PR #{pr.number} has {len(runs)} prgate check runs"
        assert runs[0].status == "completed"
        assert runs[0].conclusion == "failure", (pr.number, runs[0].summary)
        comments = gh.comments(repo, pr.number)
        assert len(comments) == 1, f"PR #{pr.number} has {len(comments)} comments"
        assert MARKER in comments[0].body


def db_rows(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return list(conn.execute(sql, args).fetchall())


def job_counts(url: str) -> dict[str, int]:
    """Jobs per state, from the database."""
    rows = db_rows(url, "SELECT state, COUNT(*) FROM jobs GROUP BY state")
    return {str(state): int(str(n)) for state, n in rows}


def explain(url: str, replicas: list[Replica]) -> str:
    """What the jobs and the replicas' logs say, for a failure message."""
    jobs = db_rows(url, "SELECT id, pr, state, attempts, owner, last_error FROM jobs ORDER BY id")
    logs = "\n".join(f"--- {r.log_path.name}\n{r.log()[-2000:]}" for r in replicas)
    return "jobs:\n" + "\n".join(map(str, jobs)) + "\n" + logs


def test_three_replicas_one_killed_mid_job_every_pr_judged_once(tmp_path: Path) -> None:
    with FakeGitHub(latency=0.02) as gh, fresh_database() as url:
        app, inst, repo = make_repo(gh)
        prs = open_prs(gh, repo, 12)
        deliveries = [
            gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=inst) for pr in prs
        ]
        # The victim reaches GitHub through a proxy that holds its PR-files requests, so it is
        # certainly inside a job (check run created, files not yet read) when it is killed.
        proxy = StallingProxy(gh.base_url, r"/pulls/\d+/files$")
        replicas: list[Replica] = []
        try:
            for n, api in enumerate((proxy.url, gh.base_url, gh.base_url)):
                env = replica_env(app, url, api, tmp_path)
                replicas.append(Replica(env, cwd=tmp_path, name=f"replica-{n}", wait=False))
            for r in replicas:
                r.wait_ready()
            victim, survivors = replicas[0], replicas[1:]
            first, second = deliveries[:6], deliveries[6:]
            for i, d in enumerate(first):
                assert replicas[i % 3].deliver(d).status_code == 202
            assert proxy.stalled.wait(20), "the victim never started a job"
            held = sorted({int(p.split("/")[-2]) for p in proxy.stalled_paths})
            victim.kill()
            # The database agrees: those jobs are running under the victim (owner host:pid:id).
            running = db_rows(url, "SELECT pr, owner FROM jobs WHERE state='running'")
            mine = {int(str(pr)) for pr, owner in running if f":{victim.proc.pid}:" in str(owner)}
            assert held and set(held) <= mine, (held, running)
            proxy.close()

            for i, d in enumerate(second):
                assert survivors[i % 2].deliver(d).status_code == 202
            # Redeliveries of what the dead replica acknowledged: recorded once, no new work.
            for d in first[::3]:
                again = survivors[1].deliver(d)
                assert again.status_code == 200 and again.json()["status"] == "duplicate"

            wait_until(
                lambda: all_judged(gh, repo, prs),
                "every PR has a completed check run and a comment",
                timeout=45,
                detail=lambda: explain(url, survivors),
            )
            wait_until(
                lambda: job_counts(url) == {"done": len(prs)},
                "every job is recorded done",
                detail=lambda: explain(url, survivors),
            )
            assert_judged_once(gh, repo, prs)
            # The victim's jobs were taken over by a survivor once its lease ran out.
            for number in sorted(mine):
                rows = db_rows(
                    url,
                    "SELECT state, attempts FROM jobs WHERE pr=%s AND kind='evaluate'",
                    number,
                )
                assert [str(r[0]) for r in rows] == ["done"], rows
                assert int(str(rows[0][1])) >= 2, rows
            recorded = db_rows(url, "SELECT id FROM deliveries")
            assert sorted(str(r[0]) for r in recorded) == sorted(d.delivery_id for d in deliveries)
        finally:
            for r in replicas:
                r.stop()
            proxy.close()
        for r in replicas:
            assert app.webhook_secret not in r.log()
            assert "BEGIN RSA" not in r.log()
