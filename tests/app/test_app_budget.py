"""API budget, annotation batches, same verdict as evaluate(), re-runs, rule explanations."""

from __future__ import annotations

from pathlib import Path

from appharness import RunningApp, World, comment_delivery, make_world
from fakegithub.fake import FakeGitHub

from prgate.config.fetchers import DirectoryFetcher
from prgate.config.loader import resolve_config
from prgate.engine import evaluate
from prgate.sources.memory import FileSides, changeset_from_files

CONFIG = 'packs: [python-style, hygiene]\nrules:\n  size/limit:\n    level: "off"\n'


def _world_with_config(gh: FakeGitHub, tmp: Path) -> World:
    return make_world(
        gh,
        tmp,
        files={".github/prgate.yml": CONFIG, "app/__init__.py": "", "tests/test_x.py": "x = 1\n"},
    )


def test_a_100_file_pr_is_judged_within_9_api_calls(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = _world_with_config(fake_github, tmp_path)
    gh = world.gh
    files: dict[str, str | None] = {f"app/m{i:03}.py": f"VALUE_{i} = {i}\n" for i in range(99)}
    files["tests/test_x.py"] = "x = 2\n"
    pr = gh.open_pull_request(world.repo, files=files)
    with RunningApp(world.settings) as running:
        gh.clear_requests()
        running.deliver(
            gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
        )
        running.wait_idle()
        (rec,) = running.store.runs()
    calls = [(r.method, r.path) for r in gh.requests]
    # The token, the files, three GraphQL queries (the sizes with the base's config, which
    # also confirm the event's copy of the PR and list the open PRs whose head is the commit:
    # no read of the PR; then the contents; then the ruff settings above the changed files),
    # the head's tree (ruff's view of the project's own modules), the run created completed
    # with its verdict, the comment looked for and posted.
    assert len(calls) <= 9, "\n".join(map(str, calls))
    assert not [c for c in calls if c[1].endswith(f"/pulls/{pr.number}") or "/commits/" in c[1]]
    assert rec.api_calls == len(calls)
    # 100 files and the config files at once (sizes, then contents), and the ruff settings
    assert calls.count(("POST", "/graphql")) == 3
    tree_calls = [r for r in gh.requests if "/git/trees/" in r.path]
    assert len(tree_calls) == 1 and "recursive=1" in tree_calls[0].query
    (run,) = gh.check_runs(world.repo)
    assert run.conclusion == "success", run.summary
    assert len(gh.comments(world.repo, pr.number)) == 1


def test_annotations_go_50_per_request_and_all_arrive(world: World, running: RunningApp) -> None:
    gh = world.gh
    body = "".join(f"print({i})\n" for i in range(120))
    pr = gh.open_pull_request(
        world.repo, files={"app/noisy.py": body, "tests/test_noisy.py": "x = 1\n"}
    )
    running.deliver(
        gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    running.wait_idle()
    (run,) = gh.check_runs(world.repo)
    # Created completed with the first 50, the rest in updates of 50 at most.
    writes = [r for r in gh.requests if r.method in ("POST", "PATCH") and "/check-runs" in r.path]
    sizes = [len(r.body.get("output", {}).get("annotations", [])) for r in writes]
    assert max(sizes) <= 50 and len(writes) == 3
    assert len(run.annotations) == sum(sizes) >= 120
    assert run.status == "completed"


def test_the_app_reaches_the_verdict_evaluate_reaches(world: World, running: RunningApp) -> None:
    gh = world.gh
    base = {"app/core.py": "def add(a, b):\n    return a + b\n"}
    head = {
        "app/core.py": "import sys\n\ndef add(a, b):\n    print(a)\n    return a + b\n",
        "app/keys.py": "TOKEN = 'ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + "'\n",
    }
    pr = gh.open_pull_request(world.repo, files=dict(head))
    running.deliver(
        gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    running.wait_idle()
    (rec,) = running.store.runs()
    local_files = {p: FileSides(base=base.get(p), head=h) for p, h in head.items()}
    changeset = changeset_from_files(local_files, author="builder")
    root = world.tmp / "empty"
    root.mkdir()
    report = evaluate(changeset, resolve_config(DirectoryFetcher(root)))
    assert rec.conclusion == report.conclusion.value
    assert dict(rec.counts) == report.counts_by_rule()
    (run,) = gh.check_runs(world.repo)
    on_lines = sorted((a["path"], a["start_line"]) for a in run.annotations)
    expected = sorted((f.path, f.line or 1) for f in report.findings if f.path is not None)
    assert on_lines == expected


def test_rerun_on_the_same_sha_updates_the_same_check_run(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "import os\n"})
    running.deliver(
        gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    running.wait_idle()
    (run,) = gh.check_runs(world.repo)
    rerun = gh.webhook(
        "check_run", "rerequested", repo=world.repo, pr=pr, check_run=run, installation=world.inst
    )
    assert running.deliver(rerun).status_code == 202
    running.wait_idle()
    recheck = comment_delivery(world, pr, "/prgate recheck")
    running.deliver(recheck)
    running.wait_idle()
    (again,) = gh.check_runs(world.repo)
    assert again.id == run.id
    assert len(running.store.runs()) == 3
    assert gh.count("POST", r"/check-runs$") == 1
    assert len(gh.comments(world.repo, pr.number)) == 1
    # GitHub appends annotations on every update: the same verdict adds none the second time.
    assert run.annotations and again.annotations == run.annotations
    assert gh.count("GET", r"/check-runs/\d+/annotations$") == 2


def test_a_rerun_with_a_new_verdict_moves_to_a_new_check_run(
    world: World, running: RunningApp
) -> None:
    gh, repo = world.gh, world.repo
    pr = gh.open_pull_request(repo, files={"app/core.py": "import os\nprint(1)\n"})
    running.deliver(gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst))
    running.wait_idle()
    (first,) = gh.check_runs(repo)
    assert {a["title"] for a in first.annotations} >= {"Debugging code was left in"}
    # The team turns the debug rule off on the base branch, then asks for a re-run.
    gh.push(repo, "main", {".github/prgate.yml": "rules:\n  content/debug:\n    level: 'off'\n"})
    rerun = gh.webhook(
        "check_run", "rerequested", repo=repo, pr=pr, check_run=first, installation=world.inst
    )
    running.deliver(rerun)
    running.wait_idle()
    old, new = sorted(gh.check_runs(repo), key=lambda r: r.id)
    assert old.id == first.id and old.head_sha == new.head_sha
    # The old run keeps annotations that no longer hold, so it is closed as replaced, never
    # as a pass, and the new run has exactly the new verdict's annotations.
    assert old.conclusion == "cancelled" and "Replaced" in (old.title or "")
    assert len(old.annotations) == len(first.annotations)
    assert new.status == "completed" and new.annotations
    assert "Debugging code was left in" not in {a["title"] for a in new.annotations}
    assert len(new.annotations) < len(first.annotations)
    assert running.store.check_run_id(repo.full_name, new.head_sha) == new.id
    assert len(gh.comments(repo, pr.number)) == 1


def test_explain_replies_with_the_rule_in_plain_words(world: World, running: RunningApp) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "x = 1\n"})
    cmd = comment_delivery(world, pr, "/prgate explain content/secrets")
    running.deliver(cmd)
    running.wait_idle()
    (reply,) = gh.comments(world.repo, pr.number)
    assert "Why it matters" in reply.body and "secrets" in reply.body
    cmd = comment_delivery(world, pr, "/prgate explain @everyone")
    running.deliver(cmd)
    running.wait_idle()
    (again,) = gh.comments(world.repo, pr.number)  # the one reply, edited
    assert again.id == reply.id
    assert "@everyone" not in again.body and "no rule called" in again.body


def test_installation_token_is_scoped_to_the_repository_and_reused(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    for n in range(2):
        pr = gh.open_pull_request(world.repo, head=f"topic-{n}", files={f"app/f{n}.py": "x = 1\n"})
        running.deliver(
            gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
        )
        running.wait_idle()
    token_calls = [
        r
        for r in gh.requests
        if r.method == "POST" and r.path.endswith("/access_tokens") and r.status == 201
    ]
    assert len(token_calls) == 1
    assert token_calls[0].body == {"repositories": ["widgets"]}


TEAM_PACK = """pack: team
description: The team's own rules.
rules:
  team/no-todo:
    check: pattern
    level: warning
    pattern: 'TODO(?:[^(]|$)'
    paths: ["**/*.py"]
    title: "TODO without a ticket"
    why: "A TODO without a ticket is forgotten."
    fix: "Add the ticket's number in brackets."
"""


def test_a_push_to_a_20_file_pr_costs_5_calls_once_its_base_was_read(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    config = CONFIG.replace("hygiene]", "hygiene, team]")
    world = make_world(
        fake_github,
        tmp_path,
        files={
            ".github/prgate.yml": config,
            ".github/prgate/team.yml": TEAM_PACK,
            "app/__init__.py": "",
            "tests/test_x.py": "x = 1\n",
        },
    )
    gh, repo = world.gh, world.repo
    files: dict[str, str | None] = {f"app/m{i:03}.py": f"VALUE_{i} = {i}\n" for i in range(19)}
    files["tests/test_x.py"] = "x = 2\n"
    pr = gh.open_pull_request(repo, files=files)
    with RunningApp(world.settings) as running:
        running.deliver(
            gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        )
        running.wait_idle()
        for n in range(2):
            gh.clear_requests()
            before = gh.head_sha(pr)
            gh.push(repo, "feature", {f"app/m00{n}.py": f"VALUE = {n + 100}  # TODO\n"})
            running.deliver(
                gh.webhook(
                    "pull_request",
                    "synchronize",
                    repo=repo,
                    pr=pr,
                    before=before,
                    installation=world.inst,
                )
            )
            running.wait_idle()
            calls = [(r.method, r.path) for r in gh.requests]
            # The head's tree (ruff's view of the project's own modules; it gives the files'
            # sizes too), the files, one GraphQL query for their contents (which also confirms
            # the event's copy of the PR and lists the open PRs whose head is the commit; the
            # base's config, pack and ruff settings come from memory: the base did not change),
            # the run created completed with its verdict, the comment edited (id remembered).
            assert len(calls) <= 5, "\n".join(map(str, calls))
            assert calls.count(("POST", "/graphql")) == 1
            assert not [c for c in calls if c[1].endswith(f"/pulls/{pr.number}")]
            assert not [c for c in calls if "/commits/" in c[1]]
            assert calls.count(("POST", f"/repos/{repo.full_name}/check-runs")) == 1
            assert not [c for c in calls if c[0] == "PATCH" and "/check-runs/" in c[1]]
            (rec,) = [r for r in running.store.runs() if r.sha == gh.head_sha(pr)]
            assert rec.api_calls == len(calls)
    runs = gh.check_runs(repo)
    assert len(runs) == 3 and all(r.status == "completed" for r in runs)
    # The team's own pack was read (from memory) and applied: its rule found the TODO.
    assert any(a["title"] == "TODO without a ticket" for a in runs[-1].annotations)
    assert len(gh.comments(repo, pr.number)) == 1
