"""End to end: signed deliveries to the App, the real githubkit client, the fake GitHub."""

from __future__ import annotations

from appharness import RunningApp, World, fix_click

from prgate.app.jobs import MARKER

BAD = "import os\n\n\ndef add(a, b):\n    print(a)\n    return a + b\n"


def test_opened_pr_gets_failed_check_with_annotations_and_one_comment(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": BAD})
    resp = running.deliver(
        gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    assert resp.status_code == 202
    running.wait_idle()
    runs = gh.check_runs(world.repo)
    assert len(runs) == 1
    run = runs[0]
    assert run.name == "prgate"
    assert run.head_sha == gh.head_sha(pr)
    assert run.status == "completed"
    assert run.conclusion == "failure", (run.title, run.summary)
    assert run.annotations
    comments = gh.comments(world.repo, pr.number)
    assert len(comments) == 1
    assert comments[0].body.startswith(MARKER)
    assert gh.schema_errors == []


def _opened(world: World, files: dict[str, str | None], **kw: object) -> tuple[object, object]:
    pr = world.gh.open_pull_request(world.repo, files=files, **kw)  # type: ignore[arg-type]
    d = world.gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    return pr, d


def test_done_when_fail_fix_pass_each_exactly_once_under_redelivery(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    pr = gh.open_pull_request(repo, files={"app/core.py": BAD})
    evaluated = gh.head_sha(pr)
    opened = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
    assert running.deliver(opened).status_code == 202
    running.wait_idle()
    (run,) = gh.check_runs(repo)
    assert run.conclusion == "failure"
    assert [a["identifier"] for a in run.actions] == ["apply-fixes"]
    (comment,) = gh.comments(repo, pr.number)

    click = fix_click(world, pr, run)
    assert running.deliver(click).status_code == 202
    running.wait_idle()
    fixed = gh.branch_head(repo, "feature")
    assert fixed != evaluated
    assert gh.commit_parents(repo, fixed) == [evaluated]
    assert gh.commit_message(repo, fixed).startswith("prgate: apply automatic fixes")
    assert gh.files_at(repo, fixed)["app/core.py"] == BAD.replace("import os\n\n\n", "").encode()
    fixed_run = [r for r in gh.check_runs(repo) if r.head_sha == fixed]
    assert [r.conclusion for r in fixed_run] == ["success"]
    (again,) = gh.comments(repo, pr.number)
    assert again.id == comment.id
    fixed_body = again.body
    assert fixed[:7] in fixed_body and "Pull it" in fixed_body

    clean = gh.push(repo, "feature", {"app/core.py": "def add(a, b):\n    return a + b\n"})
    sync = gh.webhook("pull_request", "synchronize", repo=repo, pr=pr, installation=world.inst)
    assert running.deliver(sync).status_code == 202
    running.wait_idle()
    clean_runs = [r for r in gh.check_runs(repo) if r.head_sha == clean]
    assert [r.conclusion for r in clean_runs] == ["success"]
    (last,) = gh.comments(repo, pr.number)
    assert last.id == comment.id and last.body != fixed_body

    before = (
        len(gh.check_runs(repo)),
        gh.count("POST", r"/comments$"),
        gh.count("POST", r"/git/commits$"),
    )
    for d in (opened, click, sync):
        resp = running.deliver(d)
        assert resp.status_code == 200 and resp.json()["status"] == "duplicate"
    running.wait_idle()
    after = (
        len(gh.check_runs(repo)),
        gh.count("POST", r"/comments$"),
        gh.count("POST", r"/git/commits$"),
    )
    assert after == before == (3, 1, 1)
    assert gh.branch_head(repo, "feature") == clean
    assert gh.schema_errors == []
