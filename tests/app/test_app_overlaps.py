"""Open pull requests that change the same files are told about each other in their comments,
kept up to date as the others change, close or merge, at one comment edit per refresh."""

from __future__ import annotations

import re
from pathlib import Path

from appharness import RunningApp, World, make_world
from fakegithub.fake import FakeGitHub
from fakegithub.state import PullRequest

from prgate.app.jobs import MARKER
from prgate.app.store import JobKind

SECTION = "#### Other open pull requests change the same files"
CORE = "def add(a, b):\n    return a + b\n"


def _deliver(world: World, running: RunningApp, pr: PullRequest, action: str) -> None:
    hook = world.gh.webhook("pull_request", action, repo=world.repo, pr=pr, installation=world.inst)
    assert running.deliver(hook).status_code == 202
    running.wait_idle()


def _open(
    world: World, running: RunningApp, branch: str, files: dict[str, str], title: str = "A change"
) -> PullRequest:
    pr = world.gh.open_pull_request(world.repo, head=branch, files=files, title=title)
    _deliver(world, running, pr, "opened")
    return pr


def _push(world: World, running: RunningApp, pr: PullRequest, files: dict[str, str]) -> None:
    world.gh.push(world.repo, pr.head_ref, files)
    _deliver(world, running, pr, "synchronize")


def _comment(world: World, pr: PullRequest) -> str:
    ours = [
        c
        for c in world.gh.comments(world.repo, pr.number)
        if c.app_id == world.app.id and c.body.startswith(MARKER)
    ]
    assert len(ours) == 1
    return ours[0].body


def _listed(world: World, pr: PullRequest) -> list[int]:
    """The pull requests ``pr``'s comment lists as changing the same files, in order."""
    body = _comment(world, pr)
    if SECTION not in body:
        return []
    section = body.split(SECTION, 1)[1].split("<details>", 1)[0]
    return [int(n) for n in re.findall(r"^- #(\d+) ", section, flags=re.M)]


def test_overlaps_appear_follow_the_other_pull_request_and_drop_out_when_it_closes(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    a = _open(world, running, "feature-a", {"app/core.py": CORE + "\n# a\n", "app/a.py": "A = 1\n"})
    assert _listed(world, a) == []
    assert "Other open pull requests" not in _comment(world, a)

    gh.clear_requests()
    b = _open(world, running, "feature-b", {"app/core.py": CORE + "\n# b\n"}, title="Core, too")
    # B's own comment lists A; A's comment is shown again with B, at one call: its edit.
    assert _listed(world, b) == [a.number]
    assert _listed(world, a) == [b.number]
    a_body = _comment(world, a)
    assert "app/core\\.py" in a_body.split(SECTION, 1)[1]
    assert "app/a\\.py" not in a_body.split(SECTION, 1)[1]  # only the shared files
    assert f"- #{b.number} `Core, too`: `app/core.py`" in a_body  # the agent block too
    a_comment = next(c.id for c in gh.comments(world.repo, a.number) if c.app_id == world.app.id)
    a_calls = [
        (r.method, r.path)
        for r in gh.requests
        if f"/pulls/{a.number}" in r.path
        or f"/issues/{a.number}/" in r.path
        or f"/issues/comments/{a_comment}" in r.path
    ]
    assert a_calls == [("PATCH", f"/repos/{world.repo.full_name}/issues/comments/{a_comment}")]
    refreshes = [j for j in running.store.jobs() if j.kind is JobKind.REFRESH]
    assert [(j.pr, j.state.value) for j in refreshes] == [(a.number, "done")]

    # B moves off the shared file: A's comment no longer lists it.
    _push(world, running, b, {"app/core.py": CORE, "app/b.py": "B = 1\n"})
    assert _listed(world, a) == [] and _listed(world, b) == []
    # ... and back onto it.
    _push(world, running, b, {"app/core.py": CORE + "\n# b again\n"})
    assert _listed(world, a) == [b.number]

    # A push of A that keeps the same shared files refreshes nothing of B's.
    jobs_before = len(running.store.jobs())
    _push(world, running, a, {"app/a.py": "A = 2\n"})
    assert [j.kind for j in running.store.jobs()[jobs_before:]] == [JobKind.EVALUATE]

    # B is closed: it leaves A's list; reopened, it is back; merged, it leaves for good.
    gh.close_pull_request(b)
    _deliver(world, running, b, "closed")
    assert _listed(world, a) == []
    gh.reopen_pull_request(b)
    _deliver(world, running, b, "reopened")
    assert _listed(world, a) == [b.number]
    gh.merge_pull_request(b)
    _deliver(world, running, b, "closed")
    assert _listed(world, a) == []
    assert gh.schema_errors == []


def test_titles_are_escaped_and_the_list_is_capped(world: World, running: RunningApp) -> None:
    hostile = "@octocat closes #1 <img src=x onerror=alert(1)> [win](http://evil.example)"
    first = _open(world, running, "first", {"app/core.py": CORE + "# 0\n"}, title=hostile)
    others = [
        _open(world, running, f"b{i}", {"app/core.py": CORE + f"# {i}\n"}, title=f"Change {i}")
        for i in range(1, 7)
    ]
    last = others[-1]
    body = _comment(world, last)
    section = body.split(SECTION, 1)[1].split("<details>", 1)[0]
    assert _listed(world, last) == [first.number] + [o.number for o in others[:4]]
    assert "- and 1 more pull request (counted when this comment was last updated)." in section
    hostile_line = next(line for line in section.splitlines() if f"#{first.number} " in line)
    title = hostile_line.split("“", 1)[1]
    for raw in ("@octocat", "#1", "<img", "[win](", "http://"):
        assert raw not in title
    # The first pull request's comment was refreshed with each newcomer, and lists five.
    assert _listed(world, first) == [o.number for o in others[:5]]
    counted = "- and 1 more pull request (counted when this comment was last updated)."
    assert counted in _comment(world, first)
    # One more beyond the five listed changes only the count: nobody's comment is edited for it
    # (on a file that many pull requests change, each newcomer would edit every comment).
    first_comment = next(
        c.id for c in world.gh.comments(world.repo, first.number) if c.app_id == world.app.id
    )
    world.gh.clear_requests()
    _open(world, running, "b7", {"app/core.py": CORE + "# 7\n"}, title="Change 7")
    assert world.gh.count("PATCH", rf"/issues/comments/{first_comment}$") == 0
    assert counted in _comment(world, first)


def test_the_rule_raised_to_error_blocks_until_the_other_pull_request_closes(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    config = (
        "packs: [hygiene, coordination]\n"
        "rules:\n"
        "  coord/overlap:\n"
        "    level: error\n"
        '    paths: ["db/**"]\n'
    )
    world = make_world(
        fake_github,
        tmp_path,
        files={
            ".github/prgate.yml": config,
            "app/__init__.py": "",
            "app/core.py": CORE,
            "db/0001.sql": "CREATE TABLE t (a int);\n",
            "tests/test_core.py": "def test_x():\n    assert True\n",
        },
    )
    gh = world.gh
    with RunningApp(world.settings) as running:

        def head_run(pr: PullRequest) -> str | None:
            runs = [r for r in gh.check_runs(world.repo) if r.head_sha == gh.head_sha(pr)]
            return runs[-1].conclusion

        a = _open(world, running, "a", {"db/0002.sql": "ALTER TABLE t ADD b int;\n"})
        assert head_run(a) == "success"
        # Outside the rule's paths, a shared file is listed but does not block.
        c = _open(world, running, "c", {"app/core.py": CORE + "# c\n"})
        assert head_run(c) == "success"
        b = _open(world, running, "b", {"db/0002.sql": "ALTER TABLE t ADD c int;\n"})
        assert head_run(b) == "failure"
        assert "coord/overlap" in _comment(world, b)
        # A is judged again (its verdict reads the overlaps) and blocked too.
        assert head_run(a) == "failure"
        assert _listed(world, a) == [b.number]
        gh.close_pull_request(b)
        _deliver(world, running, b, "closed")
        assert head_run(a) == "success"
        assert _listed(world, a) == []


def test_a_comment_whose_parts_were_not_kept_is_judged_again_to_show_the_list(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    a = _open(world, running, "feature-a", {"app/core.py": CORE + "# a\n"})
    # As if A's comment had been posted by a prgate that kept no parts of it.
    running.store.save_pull_comment(world.repo.full_name, a.number, body="", prompt="", overlaps="")
    gh.clear_requests()
    b = _open(world, running, "feature-b", {"app/core.py": CORE + "# b\n"})
    assert _listed(world, b) == [a.number]
    assert _listed(world, a) == [b.number]  # A was judged again, in full, and shows B
    forced = [
        j
        for j in running.store.jobs()
        if j.kind is JobKind.EVALUATE and j.pr == a.number and j.payload.get("force")
    ]
    assert [j.state.value for j in forced] == ["done"]
    kept = running.store.pull_record(world.repo.full_name, a.number)
    assert kept is not None and kept.comment_body.startswith(MARKER)
