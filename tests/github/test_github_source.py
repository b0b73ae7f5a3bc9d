"""Building the ChangeSet from the fake GitHub's API (real git diffs behind it)."""

from __future__ import annotations

import pytest
from fakegithub.fake import FakeGitHub

from prgate.checks import Reads
from prgate.github.auth import AppAuth, AppCredentials
from prgate.github.errors import GitHubError
from prgate.github.http import ApiSettings
from prgate.github.pulls import get_pull
from prgate.model import FileStatus, LineRange, UndeclaredRead
from prgate.sources.github import load_pull, patch_ranges, reverse_patch
from prgate.sources.headtree import read_head_tree

BASE = {
    "app/core.py": "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n",
    "app/gone.py": "bye\nnow\n",
    "docs/old name.md": "# Title\n\nText.\n",
    "app/tail.py": "a\nb",
    "-dash ü.py": "x = 1\n",
}
HEAD = {
    "app/core.py": "one\nTWO\nthree\nfour\nfive\nsix\nseven\nextra\neight\nnine\nten\nend\n",
    "app/gone.py": None,
    "app/new.py": "print('hi')\n",
    "app/tail.py": "a\nc",
    "-dash ü.py": "x = 2\n",
}


@pytest.fixture
def source(fake_github: FakeGitHub):  # type: ignore[no-untyped-def]
    app = fake_github.add_app()
    inst = fake_github.add_installation(app)
    repo = fake_github.create_repo("octo-org/widgets", files=BASE, installation=inst)
    pr = fake_github.open_pull_request(repo, files=HEAD, labels=["safe"], author="builder")
    auth = AppAuth(
        AppCredentials(str(app.id), app.private_key_pem), ApiSettings(base_url=fake_github.base_url)
    )
    with auth.repo_http(inst.id, repo.full_name) as http:
        pull = get_pull(http, repo.full_name, pr.number)
        yield load_pull(http, repo.full_name, pull)


def test_changeset_matches_the_change(source) -> None:  # type: ignore[no-untyped-def]
    cs = source.changeset
    assert cs.labels == frozenset({"safe"}) and cs.author == "builder"
    by_path = {f.path: f for f in cs.files}
    assert set(by_path) == {"app/core.py", "app/gone.py", "app/new.py", "app/tail.py", "-dash ü.py"}
    core = by_path["app/core.py"]
    assert core.status is FileStatus.MODIFIED
    assert core.added == (LineRange(2, 2), LineRange(8, 8), LineRange(12, 12))
    assert core.head_text() == HEAD["app/core.py"]
    assert core.base_text() == BASE["app/core.py"]
    assert by_path["app/gone.py"].status is FileStatus.DELETED
    assert by_path["app/gone.py"].base_text() == BASE["app/gone.py"]
    new = by_path["app/new.py"]
    assert new.status is FileStatus.ADDED and new.added == (LineRange(1, 1),)
    tail = by_path["app/tail.py"]
    assert tail.base_text() == "a\nb" and tail.head_text() == "a\nc"
    assert by_path["-dash ü.py"].head_text() == "x = 2\n"
    assert cs.read_head("app/new.py") == b"print('hi')\n"
    with pytest.raises(UndeclaredRead):  # nothing is read while judging: declared reads only
        cs.read_base("app/gone.py")
    ready = source.ready(Reads(base=frozenset({"app/gone.py"})))
    assert ready.read_base("app/gone.py") == b"bye\nnow\n"


def test_config_files_come_with_the_first_query(source) -> None:  # type: ignore[no-untyped-def]
    fetcher = source.fetcher
    assert fetcher.read(None, ".github/prgate.yml") is None
    assert fetcher.read(None, "pyproject.toml") is None
    assert fetcher.calls == 0


def test_patch_helpers_round_trip() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10,2 +11,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n\\ No newline at end of file"
    ranges, removed = patch_ranges(patch)
    assert ranges == (LineRange(2, 3), LineRange(12, 12)) and removed == 2
    head = b"a\nB\nC\nc\n5\n6\n7\n8\n9\n10\nx\nz"
    assert reverse_patch(head, patch) == b"a\nb\nc\n5\n6\n7\n8\n9\n10\nx\ny"


def _open(fake_github: FakeGitHub, files: dict[str, str | None]):  # type: ignore[no-untyped-def]
    app = fake_github.add_app()
    inst = fake_github.add_installation(app)
    repo = fake_github.create_repo(
        "octo-org/partial", files={".github/prgate.yml": "packs: [safe-zones]\n"}, installation=inst
    )
    pr = fake_github.open_pull_request(repo, files=files)
    auth = AppAuth(
        AppCredentials(str(app.id), app.private_key_pem), ApiSettings(base_url=fake_github.base_url)
    )
    return auth, inst, repo, pr


def test_a_graphql_answer_with_errors_is_never_read_as_missing_files(
    fake_github: FakeGitHub,
) -> None:
    # A field that failed reads as null next to the error; taking that null for "no config"
    # would judge the PR by looser default rules.
    auth, inst, repo, pr = _open(fake_github, {"infra/main.tf": "x\n"})
    fake_github.fail_next(
        "POST",
        r"/graphql$",
        status=200,
        body={
            "data": {"repository": {"f0": None, "f1": None}},
            "errors": [{"message": "Something went wrong while executing your query."}],
        },
    )
    with auth.repo_http(inst.id, repo.full_name) as http:
        pull = get_pull(http, repo.full_name, pr.number)
        with pytest.raises(GitHubError, match="reported an error"):
            load_pull(http, repo.full_name, pull)


def test_another_bot_quoting_the_marker_is_not_taken_for_prgates_comment(
    fake_github: FakeGitHub,
) -> None:
    from prgate.github.comments import find_marked, upsert

    auth, inst, repo, pr = _open(fake_github, {"a.py": "x = 1\n"})
    other = fake_github.add_comment(
        repo, pr.number, "Summary of checks:\n> <!-- prgate:report --> quoted", user="other[bot]"
    )
    other.user_type = "Bot"
    marker = "<!-- prgate:report -->"
    with auth.repo_http(inst.id, repo.full_name) as http:
        bot = auth.bot_login()
        assert find_marked(http, repo.full_name, pr.number, marker, author=bot) is None
        mine = upsert(
            http,
            repo.full_name,
            pr.number,
            f"{marker}\nfirst",
            marker=marker,
            known_id=None,
            author=bot,
        )
        assert find_marked(http, repo.full_name, pr.number, marker, author=bot) == mine
        again = upsert(
            http,
            repo.full_name,
            pr.number,
            f"{marker}\nsecond",
            marker=marker,
            known_id=None,
            author=bot,
        )
    assert again == mine
    bodies = {c.body for c in fake_github.comments(repo, pr.number)}
    assert bodies == {"Summary of checks:\n> <!-- prgate:report --> quoted", f"{marker}\nsecond"}


def test_a_fix_commit_keeps_an_executable_file_executable(fake_github: FakeGitHub) -> None:
    import base64

    from prgate.github.commits import head_of, push_files, tree_of

    auth, inst, repo, pr = _open(fake_github, {"run.py": "print( 1 )\n"})
    branch = pr.head_ref
    with auth.repo_http(inst.id, repo.full_name) as http:
        base = f"/repos/{repo.full_name}"
        parent = head_of(http, repo.full_name, branch)
        blob = http.json(
            "POST",
            f"{base}/git/blobs",
            json={"content": base64.b64encode(b"print( 1 )\n").decode(), "encoding": "base64"},
        )
        tree = http.json(
            "POST",
            f"{base}/git/trees",
            json={
                "base_tree": tree_of(http, repo.full_name, parent)[0],
                "tree": [{"path": "run.py", "mode": "100755", "type": "blob", "sha": blob["sha"]}],
            },
        )
        commit = http.json(
            "POST",
            f"{base}/git/commits",
            json={"message": "make it executable", "tree": tree["sha"], "parents": [parent]},
        )
        http.json("PATCH", f"{base}/git/refs/heads/{branch}", json={"sha": commit["sha"]})
        assert tree_of(http, repo.full_name, commit["sha"])[1]["run.py"] == "100755"

        fixed = push_files(
            http,
            repo.full_name,
            branch=branch,
            parent=commit["sha"],
            files={"run.py": b"print(1)\n"},
            message="prgate: apply automatic fixes",
        )
        assert tree_of(http, repo.full_name, fixed)[1]["run.py"] == "100755"


def _load(  # type: ignore[no-untyped-def]
    fake_github: FakeGitHub,
    base: dict,  # type: ignore[type-arg]
    head: dict,  # type: ignore[type-arg]
    tree_first: bool = False,
    name: str = "octo-org/modes",
    **kw,
):
    app = fake_github.add_app()
    inst = fake_github.add_installation(app)
    repo = fake_github.create_repo(name, files=base, installation=inst)
    pr = fake_github.open_pull_request(repo, files=head)
    auth = AppAuth(
        AppCredentials(str(app.id), app.private_key_pem), ApiSettings(base_url=fake_github.base_url)
    )
    with auth.repo_http(inst.id, repo.full_name) as http:
        pull = get_pull(http, repo.full_name, pr.number)
        fake_github.clear_requests()
        if tree_first:
            kw["head_tree"] = read_head_tree(http, repo.full_name, pull.head_sha)
        source = load_pull(http, repo.full_name, pull, **kw)
        return source, {f.path: f for f in source.changeset.files}


def test_the_head_tree_read_first_gives_the_sizes_and_the_same_change(
    fake_github: FakeGitHub,
) -> None:
    from fakegithub import Gitlink, Symlink

    from prgate.app.heads import changeset_inputs

    base = {"a.py": "x = 1\n", "lib/util.py": "y = 1\n", "old.py": "z = 1\n"}
    head = {
        "app/plugins": Symlink("../lib"),
        "vendor/dep": Gitlink("7" * 40),
        "a.py": "x = 2\n",
        "old.py": None,
        "data.json": b'{"k": 1}\n\0\n',
        "big.bin": b"\0" * 5000,
        "big.txt": "t" * 5000,
    }
    usual, by_path = _load(fake_github, base, head, max_file_bytes=4096)
    first, by_path_first = _load(
        fake_github, base, head, tree_first=True, name="octo-org/first", max_file_bytes=4096
    )
    # The tree, the files, one query of contents (and one for what is too large to read).
    calls = [(r.method, r.path) for r in fake_github.requests]
    assert calls.count(("POST", "/graphql")) == 2, calls
    assert changeset_inputs(first.changeset) == changeset_inputs(usual.changeset)
    for path, f in by_path_first.items():
        other = by_path[path]
        assert (f.is_binary, f.is_symlink, f.is_submodule, f.size, f.link_target) == (
            other.is_binary,
            other.is_symlink,
            other.is_submodule,
            other.size,
            other.link_target,
        ), path
        if path not in ("big.bin", "big.txt"):
            assert f.head_bytes() == other.head_bytes() and f.base_bytes() == other.base_bytes()
    assert first.ready(Reads(tree=True)).head_tree is not None
    tree = first.ready(Reads(tree=True)).head_tree()
    assert tree is not None and "lib/util.py" in tree.paths and "vendor/dep" not in tree.paths


def test_a_head_tree_cut_short_leaves_the_sizes_to_graphql(fake_github: FakeGitHub) -> None:
    from dataclasses import replace

    from prgate.sources.headtree import HeadTree, fetch_with_tree

    tree = HeadTree(sha="h" * 40, entries={"a.py": (0o100644, "1" * 40, 6)}, complete=False)
    assert fetch_with_tree(None, "o/r", tree, [], [], max_file_bytes=1, max_fetch_bytes=1) is None  # type: ignore[arg-type]
    whole = replace(tree, complete=True)
    at_base = [("b" * 40, ".github/prgate.yml")]
    assert (
        fetch_with_tree(None, "o/r", whole, at_base, [], max_file_bytes=1, max_fetch_bytes=1)
        is None
    )  # type: ignore[arg-type]


def test_links_and_submodules_are_known_by_their_git_mode(fake_github: FakeGitHub) -> None:
    from fakegithub import Gitlink, Symlink

    _, files = _load(
        fake_github,
        {"a.py": "x = 1\n", "lib/util.py": "y = 1\n"},
        {
            "app/plugins": Symlink("../lib"),
            "vendor/dep": Gitlink("7" * 40),
            "a.py": Symlink("lib/util.py"),  # a file that became a link
        },
    )
    assert files["app/plugins"].is_symlink and files["app/plugins"].link_target == "../lib"
    assert files["app/plugins"].head_bytes() is None
    assert files["a.py"].is_symlink and files["a.py"].link_target == "lib/util.py"
    assert files["vendor/dep"].is_submodule and not files["vendor/dep"].is_symlink
    # the folders' listings came with the first query (the sizes), the contents with one more
    assert fake_github.count("POST", r"^/graphql$") == 2


def test_files_github_marks_binary_are_read_whole_and_judged_as_git_does(
    fake_github: FakeGitHub,
) -> None:
    latin = "# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n".encode("latin-1")
    _, files = _load(
        fake_github,
        {"a.py": "x = 1\n"},
        {"legacy.py": latin, "data.json": b'{"k": 1}\n\0\n', "big.bin": b"\0" * 5000},
        max_file_bytes=4096,
    )
    assert files["legacy.py"].head_bytes() == latin
    assert not files["legacy.py"].is_binary  # no NUL byte: text, as git judges it
    assert files["legacy.py"].added  # its lines are new lines
    assert files["data.json"].head_bytes() == b'{"k": 1}\n\0\n'
    assert files["data.json"].is_binary
    big = files["big.bin"]
    assert big.size == 5000 and big.is_binary
    with pytest.raises(UndeclaredRead):  # over the limit: never read, never taken for empty
        big.head_bytes()
    assert fake_github.count("GET", r"/git/blobs/") == 2


def test_declared_reads_come_in_one_more_query_and_a_fault_there_is_a_github_error(
    fake_github: FakeGitHub,
) -> None:
    source, _ = _load(
        fake_github, {"conf/flags.yml": "- a\n", "a.py": "x = 1\n"}, {"a.py": "x = 2\n"}
    )
    assert source.changeset.read_head("a.py") == b"x = 2\n"
    before = fake_github.count("POST", r"^/graphql$")
    same = source.ready(Reads(head=frozenset({"a.py", "feature-flags.yml"})))
    assert same.read_head("feature-flags.yml") is None  # brought by the first query
    assert fake_github.count("POST", r"^/graphql$") == before
    fake_github.fail_next("POST", r"/graphql$", status=502, times=3)
    with pytest.raises(GitHubError):
        source.ready(Reads(head=frozenset({"conf/flags.yml"})))
    ready = source.ready(Reads(head=frozenset({"conf/flags.yml"})))
    assert ready.read_head("conf/flags.yml") == b"- a\n"
    with pytest.raises(UndeclaredRead):
        ready.read_head("a.py")  # only what was asked for


def test_file_text_comes_in_queries_of_bounded_size(fake_github: FakeGitHub) -> None:
    from prgate.github.pulls import fetch_objects, fetch_texts

    app = fake_github.add_app()
    inst = fake_github.add_installation(app)
    files = {f"f{i}.txt": f"{i}" * 400 for i in range(5)}
    repo = fake_github.create_repo("octo-org/widgets", files=files, installation=inst)
    auth = AppAuth(
        AppCredentials(str(app.id), app.private_key_pem), ApiSettings(base_url=fake_github.base_url)
    )
    with auth.repo_http(inst.id, repo.full_name) as http:
        keys = [("main", p) for p in files]
        sizes, _ = fetch_objects(http, repo.full_name, keys, (), text=False)
        assert {b.byte_size for b in sizes.values() if b} == {400}
        assert all(b is not None and b.text is None for b in sizes.values())
        fake_github.clear_requests()
        got = fetch_texts(
            http, repo.full_name, {k: b for k, b in sizes.items() if b}, bytes_per_query=1000
        )
    assert {k[1]: b.data for k, b in got.items()} == {p: t.encode() for p, t in files.items()}
    per_query = [str(r.body).count(":f") for r in fake_github.requests if r.path == "/graphql"]
    assert per_query == [2, 2, 1]  # 800, 800 and 400 bytes of text: never past 1,000
