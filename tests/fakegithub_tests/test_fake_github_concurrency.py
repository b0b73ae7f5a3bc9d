"""The fake GitHub serves many clients at once: its state lock, its git readers, its caches."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fakegithub import FakeGitHub
from fakegithub.gitrepo import GitRepo
from fakegithub.locks import StateLock
from fakegithub.state import Installation, PullRequest, Repo

WAIT = 5.0  # the longest any step here waits for another thread (it never takes that long)


# ---------------------------------------------------------------------------- the state lock
def test_readers_hold_the_lock_together() -> None:
    lock = StateLock()
    inside = threading.Barrier(3, timeout=WAIT)

    def read() -> None:
        with lock.shared():
            inside.wait()  # all three readers are inside at the same time, or this times out

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    read()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads)


def test_a_writer_waits_for_readers_and_readers_for_a_writer() -> None:
    lock = StateLock()
    events: list[str] = []
    wrote = threading.Event()
    lock.acquire_shared()

    def write() -> None:
        with lock:
            events.append("write")
        wrote.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not wrote.wait(0.2)  # held shared: the writer waits
    events.append("read done")
    lock.release()
    assert wrote.wait(WAIT)
    writer.join(WAIT)
    assert events == ["read done", "write"]

    with lock:
        got_shared = threading.Event()

        def read() -> None:
            with lock.shared():
                got_shared.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert not got_shared.wait(0.2)  # held alone: the reader waits
    assert got_shared.wait(WAIT)
    reader.join(WAIT)


def test_the_lock_is_reentrant_either_way() -> None:
    lock = StateLock()
    with lock, lock.shared(), lock:
        pass
    with lock.shared(), lock, lock.shared():
        pass
    # released completely: another thread takes it alone at once
    taken = threading.Event()

    def write() -> None:
        with lock:
            taken.set()

    t = threading.Thread(target=write)
    t.start()
    assert taken.wait(WAIT)
    t.join(WAIT)
    with pytest.raises(RuntimeError):
        lock.release()


# ---------------------------------------------------------------------------- requests
@dataclass
class World:
    gh: FakeGitHub
    inst: Installation
    repo: Repo
    pr: PullRequest
    headers: dict[str, str]


@pytest.fixture
def world() -> Iterator[World]:
    with FakeGitHub() as gh:
        app = gh.add_app(slug="prgate")
        inst = gh.add_installation(app, account="octo-org")
        repo = gh.create_repo("octo-org/widgets", files={"a.py": "a = 1\n"}, installation=inst)
        pr = gh.open_pull_request(repo, head="feature", files={"a.py": "a = 2\n"})
        headers = {"Authorization": f"token {gh.issue_token(inst).token}"}
        yield World(gh, inst, repo, pr, headers)
        assert gh.schema_errors == []


def test_reads_are_answered_while_another_reader_holds_the_state(world: World) -> None:
    w = world
    url = f"{w.gh.base_url}/repos/octo-org/widgets/pulls/{w.pr.number}"
    with w.gh.lock.shared():  # a reader in the middle of its work
        response = httpx.get(url, headers=w.headers, timeout=WAIT)
    assert response.status_code == 200
    assert response.json()["head"]["sha"] == w.gh.head_sha(w.pr)


def test_a_write_waits_until_no_one_reads(world: World) -> None:
    w = world
    url = f"{w.gh.base_url}/repos/octo-org/widgets/check-runs"
    body = {"name": "prgate", "head_sha": w.gh.head_sha(w.pr), "status": "in_progress"}
    with ThreadPoolExecutor(1) as pool:
        with w.gh.lock.shared():
            pending = pool.submit(httpx.post, url, json=body, headers=w.headers, timeout=WAIT)
            with pytest.raises(TimeoutError):
                pending.result(timeout=0.3)
            assert w.gh.check_runs(w.repo) == []  # nothing written while the reader reads
        response = pending.result(timeout=WAIT)
    assert response.status_code == 201
    assert [r.name for r in w.gh.check_runs(w.repo)] == ["prgate"]


def test_many_clients_at_once_get_their_own_answers(world: World) -> None:
    w = world
    w.gh.latency = 0.02
    files = {f"m{i}.py": f"m = {i}\n" for i in range(30)}
    head = w.gh.push(w.repo, "feature", files)

    def read(i: int) -> str | None:
        query = (
            'query { repository(owner: "octo-org", name: "widgets") { '
            f"f: object(expression: {json.dumps(f'{head}:m{i}.py')}) {{ ... on Blob {{ text }} }}"
            " } }"
        )
        resp = httpx.post(w.gh.graphql_url, json={"query": query}, headers=w.headers, timeout=WAIT)
        text = resp.json()["data"]["repository"]["f"]["text"]
        return text if isinstance(text, str) else None

    def create(i: int) -> int:
        resp = httpx.post(
            f"{w.gh.base_url}/repos/octo-org/widgets/check-runs",
            json={"name": f"check-{i}", "head_sha": head},
            headers=w.headers,
            timeout=WAIT,
        )
        return resp.status_code

    with ThreadPoolExecutor(12) as pool:
        texts = list(pool.map(read, range(30)))
        statuses = list(pool.map(create, range(12)))
    assert texts == [f"m = {i}\n" for i in range(30)]
    assert statuses == [201] * 12
    assert sorted(r.name for r in w.gh.check_runs(w.repo)) == sorted(
        f"check-{i}" for i in range(12)
    )
    ids = [r.id for r in w.gh.check_runs(w.repo)]
    assert len(set(ids)) == 12
    assert w.gh.count("POST", r"^/graphql$") == 30


def test_random_faults_still_apply_to_concurrent_requests(world: World) -> None:
    w = world
    w.gh.inject_faults(0.5, kinds=("502",), seed=3)
    url = f"{w.gh.base_url}/repos/octo-org/widgets/pulls/{w.pr.number}"
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(
                lambda _: httpx.get(url, headers=w.headers, timeout=WAIT).status_code, range(40)
            )
        )
    injected = w.gh.faults_injected()
    assert statuses.count(502) == injected["502"] > 0
    assert statuses.count(200) == 40 - injected["502"]
    assert w.gh.count("GET", r"/pulls/\d+$") == 40


# ---------------------------------------------------------------------------- git reads
def test_reads_follow_refs_moved_by_any_means(tmp_path: Path) -> None:
    git = GitRepo.init(tmp_path / "r.git")
    first = git.commit_files("refs/heads/main", {"a.txt": "1\n"}, "one")
    assert git.ref_sha("refs/heads/main") == first
    assert git.read_file("main", "a.txt") == b"1\n"
    assert git.ref_sha("refs/heads/other") is None
    # moved by plain git, outside the reader, then by the repository's own commands
    second = git.commit_files("refs/heads/main", {"a.txt": "2\n"}, "two")
    subprocess.run(
        ["git", f"--git-dir={git.path}", "update-ref", "refs/heads/other", first], check=True
    )
    git.git("pack-refs", "--all")
    assert git.ref_sha("refs/heads/main") == second
    assert git.ref_sha("refs/heads/other") == first
    assert git.resolve("main") == second
    assert git.read_file("main", "a.txt") == b"2\n"
    assert git.read_file(first, "a.txt") == b"1\n"
    git.close()


def test_objects_named_by_sha_are_read_once(tmp_path: Path) -> None:
    git = GitRepo.init(tmp_path / "r.git")
    head = git.commit_files("refs/heads/main", {f"m{i}.py": f"{i}\n" for i in range(5)}, "x")
    specs = [f"{head}:m{i}.py" for i in range(5)] + [f"{head}:nope.py"]
    git.prefetch(specs)
    # the objects are gone from disk: only what was read before can still be answered
    for obj in (git.path / "objects").glob("??/*"):
        obj.unlink()
    found = git.read_objects(specs)
    assert [f[2] if f else None for f in found] == [f"{i}\n".encode() for i in range(5)] + [None]
    assert git.read_objects(["main:m1.py"]) == [None]  # a ref's answer is never remembered
    git.close()


def test_the_reader_starts_again_when_git_went_away(tmp_path: Path) -> None:
    git = GitRepo.init(tmp_path / "r.git")
    head = git.commit_files("refs/heads/main", {"a.txt": "a\n"}, "one")
    assert git.ref_sha("refs/heads/main") == head
    proc = git._cat._proc
    assert proc is not None
    proc.kill()
    proc.wait(WAIT)
    assert git.ref_sha("refs/heads/missing") is None
    assert git.object_type(git.tree_of(head)) == "tree"
    assert git._cat._proc is not proc
    git.close()


def test_odd_specs_are_not_found(tmp_path: Path) -> None:
    git = GitRepo.init(tmp_path / "r.git")
    head = git.commit_files("refs/heads/main", {"a b.txt": "x\n"}, "one")
    assert git.read_file(head, "a b.txt") == b"x\n"
    for spec in ("", " main", "main\nmain", f"{head}:nope blob 3", "-x"):
        assert git.read_objects([spec]) == [None]
    assert git.ref_sha("refs/heads/a\nb") is None
    assert git.resolve("main:a b.txt") is None
    git.close()
