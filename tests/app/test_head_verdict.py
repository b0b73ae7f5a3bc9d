"""One verdict per commit: a commit's ``prgate`` run is the worst over every open pull request
whose head it is, each judged by its own base's rules, so a pull request into a branch with
weaker rules cannot lend its pass to a pull request into ``main``.

Through the real webhook route, against the fake GitHub: two pull requests with the same head,
one into ``main`` (its rules block the change) and one into ``weak`` (``packs: []``), opened in
both orders; the weak one closed afterwards; ``/prgate recheck`` on either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appharness import RunningApp, World, comment_delivery, make_world
from fakegithub.fake import FakeGitHub
from fakegithub.state import CheckRun, PullRequest

MARKER = "<!-- prgate:report -->"
STRICT = (
    "packs: [hygiene]\n"
    "rules:\n"
    "  content/debug: {level: error}\n"
    "  size/limit: {level: 'off'}\n"
    "  tests/required: {level: 'off'}\n"
)
CHANGE = {"app/core.py": "def add(a, b):\n    breakpoint()\n    return a + b\n"}


@pytest.fixture
def two_bases(fake_github: FakeGitHub, tmp_path: Path) -> Iterator[tuple[World, RunningApp]]:
    world = make_world(
        fake_github,
        tmp_path,
        files={
            ".github/prgate.yml": STRICT,
            "app/__init__.py": "",
            "app/core.py": "def add(a, b):\n    return a + b\n",
        },
    )
    fake_github.push(world.repo, "weak", {".github/prgate.yml": "packs: []\n"})
    with RunningApp(world.settings) as running:
        yield world, running


def _open(world: World, running: RunningApp, *, head: str, base: str) -> PullRequest:
    gh = world.gh
    if gh.branch_head(world.repo, head) is None:
        pr = gh.open_pull_request(world.repo, head=head, base=base, files=CHANGE)
    else:
        pr = gh.open_pull_request(world.repo, head=head, base=base)
    _event(world, running, pr, "opened")
    return pr


def _same_commit_branch(world: World, source: str, branch: str) -> None:
    """A second branch at the same commit (what anyone with push access can make)."""
    gh = world.gh
    sha = gh.branch_head(world.repo, source)
    assert sha is not None
    with gh.lock:
        world.repo.git.update_ref(f"refs/heads/{branch}", sha)


def _event(world: World, running: RunningApp, pr: PullRequest, action: str) -> None:
    d = world.gh.webhook("pull_request", action, repo=world.repo, pr=pr, installation=world.inst)
    assert running.deliver(d).status_code == 202
    running.wait_idle()


def _recheck(world: World, running: RunningApp, pr: PullRequest) -> None:
    assert running.deliver(comment_delivery(world, pr, "/prgate recheck")).status_code == 202
    running.wait_idle()


def _head_run(world: World, pr: PullRequest) -> CheckRun:
    """The run GitHub shows on the PR's head: the newest ``prgate`` run of the commit."""
    runs = [r for r in world.gh.check_runs(world.repo, head_sha=world.gh.head_sha(pr))]
    runs = [r for r in runs if r.name == "prgate"]
    assert runs, "no prgate run on the head"
    run = max(runs, key=lambda r: r.id)
    assert run.status == "completed", (run.status, run.summary)
    return run


def _report(world: World, pr: PullRequest) -> str:
    (comment,) = [c for c in world.gh.comments(world.repo, pr.number) if c.body.startswith(MARKER)]
    return comment.body


def _verdict_writes(world: World, since: int) -> list[str]:
    """The conclusions the App gave prgate runs from request ``since`` on (in order)."""
    out: list[str] = []
    for r in world.gh.requests[since:]:
        body: Any = r.body
        if r.status < 300 and "/check-runs" in r.path and isinstance(body, dict):
            out.extend([str(body["conclusion"])] if body.get("conclusion") else [])
    return out


def _is_blocked(world: World, pr: PullRequest) -> None:
    run = _head_run(world, pr)
    assert run.conclusion == "failure", run.summary
    assert "Debugging code was left in" in {a["title"] for a in run.annotations}


@pytest.mark.parametrize("weak_head", ["topic", "topic-copy"], ids=["same-branch", "other-branch"])
def test_strict_first_then_weak_keeps_the_strict_verdict(
    two_bases: tuple[World, RunningApp], weak_head: str
) -> None:
    world, running = two_bases
    strict = _open(world, running, head="topic", base="main")
    _is_blocked(world, strict)
    mark = len(world.gh.requests)
    if weak_head != "topic":
        _same_commit_branch(world, "topic", weak_head)
    weak = _open(world, running, head=weak_head, base="weak")
    assert world.gh.head_sha(weak) == world.gh.head_sha(strict)
    _is_blocked(world, strict)
    run = _head_run(world, strict)
    # The summary names the verdict of each base; each PR's comment has its own report.
    assert "| #1 | main | 1 problem blocks this change" in (run.summary or "")
    assert "| #2 | weak | nothing blocks this change" in (run.summary or "")
    assert run.title == "Blocked by the rules of main (#1)"
    assert "1 problem blocks this change" in _report(world, strict)
    assert "nothing blocks this change" in _report(world, weak)
    _recheck(world, running, weak)
    _is_blocked(world, strict)
    world.gh.close_pull_request(weak)
    _event(world, running, weak, "closed")
    _is_blocked(world, strict)
    world.gh.reopen_pull_request(weak)
    _event(world, running, weak, "reopened")
    _recheck(world, running, weak)
    _recheck(world, running, strict)
    _is_blocked(world, strict)
    assert "success" not in _verdict_writes(world, mark)  # never green while main blocks it
    runs = [r for r in world.gh.check_runs(world.repo) if r.name == "prgate"]
    assert all(r.status == "completed" for r in runs)


def test_weak_first_then_strict_takes_the_strict_verdict_and_closing_recomputes(
    two_bases: tuple[World, RunningApp],
) -> None:
    world, running = two_bases
    weak = _open(world, running, head="topic", base="weak")
    assert _head_run(world, weak).conclusion == "success"
    strict = _open(world, running, head="topic", base="main")
    _is_blocked(world, strict)
    mark = len(world.gh.requests)
    _recheck(world, running, weak)  # the weak PR's recheck cannot lend it its pass
    _is_blocked(world, strict)
    world.gh.close_pull_request(weak)
    _event(world, running, weak, "closed")
    _is_blocked(world, strict)
    _recheck(world, running, strict)
    _is_blocked(world, strict)
    assert "success" not in _verdict_writes(world, mark)
    # Once the PR into main is closed, the verdict is recomputed over what is still open:
    # the weak PR, reopened, passes by its own base's rules.
    world.gh.reopen_pull_request(weak)
    _event(world, running, weak, "reopened")
    world.gh.close_pull_request(strict)
    _event(world, running, strict, "closed")
    assert _head_run(world, weak).conclusion == "success"
    # A PR whose base changes to main is judged by main's rules at once.
    world.gh.change_base(weak, "main")
    _event(world, running, weak, "edited")
    _is_blocked(world, weak)


def test_the_prs_of_a_commit_come_with_its_first_query_and_a_second_pr_is_read_in_full(
    two_bases: tuple[World, RunningApp],
) -> None:
    world, running = two_bases
    gh = world.gh
    strict = _open(world, running, head="topic", base="main")
    head = gh.head_sha(strict)
    # The open PRs whose head is the commit are asked with the first GraphQL query.
    assert gh.count("GET", rf"/commits/{head}/pulls$") == 0
    assert any("associatedPullRequests" in str(r.body) for r in gh.requests)
    gh.clear_requests()
    weak = _open(world, running, head="topic", base="weak")
    # The weak PR's job reads both PRs (each with its own files against its own base): the
    # strict one, found by that query, in full.
    assert gh.count("GET", r"/pulls/\d+/files$") == 2
    assert gh.count("GET", rf"/pulls/{strict.number}$") == 1
    assert gh.count("GET", rf"/pulls/{weak.number}$") == 0
    newest = running.store.runs(limit=2)  # one record per PR judged, the calls on the first
    assert sorted(r.pr for r in newest) == [1, 2]
    assert sum(r.api_calls for r in newest) == len(gh.requests)


@pytest.mark.parametrize("strict_first", [True, False], ids=["strict-first", "weak-first"])
def test_pull_requests_from_a_fork_cannot_lend_each_other_a_pass(
    two_bases: tuple[World, RunningApp], strict_first: bool
) -> None:
    # GitHub lists no pull request of a fork's commit, so the verdict of a commit also covers
    # the pull requests prgate has seen with that head.
    world, running = two_bases
    gh = world.gh

    def open_from_fork(base: str) -> PullRequest:
        known = gh.repos.get("someone/widgets") is not None
        pr = gh.open_pull_request(
            world.repo,
            head="topic",
            base=base,
            files=None if known else CHANGE,
            fork_owner="someone",
        )
        _event(world, running, pr, "opened")
        return pr

    first = open_from_fork("main" if strict_first else "weak")
    second = open_from_fork("weak" if strict_first else "main")
    strict, weak = (first, second) if strict_first else (second, first)
    assert gh.head_sha(strict) == gh.head_sha(weak)
    # The open PRs of the commit were asked (GitHub lists none from forks: prgate counts those
    # it has seen with that head).
    assert any("associatedPullRequests" in str(r.body) for r in gh.requests)
    mark = len(gh.requests)
    _is_blocked(world, strict)
    _recheck(world, running, weak)
    _is_blocked(world, strict)
    assert "success" not in _verdict_writes(world, mark)
    run = _head_run(world, strict)
    assert f"| #{weak.number} | weak | nothing blocks this change" in (run.summary or "")
