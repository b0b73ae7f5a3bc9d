"""The local git source, on real repositories in temporary folders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from prgate.errors import SourceError
from prgate.model import FileStatus, LineRange
from prgate.sources.git import open_change


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    out = subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("a = 1\nb = 2\nc = 3\n")
    (root / "old name.py").write_text("x = 1\ny = 2\n")
    (root / "gone.txt").write_text("bye\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def files_by_path(root: Path, **kwargs: str | None) -> dict[str, object]:
    change = open_change(root, **kwargs)  # type: ignore[arg-type]
    return {f.path: f for f in change.changeset.files}


def test_committed_change_has_statuses_ranges_and_contents(repo: Path) -> None:
    (repo / "app.py").write_text("a = 1\nB = 2\nc = 3\nd = 4\n")
    git(repo, "mv", "--", "old name.py", "-ünï côde.py")
    (repo / "-ünï côde.py").write_text("x = 1\ny = 2\nz = 3\n")
    git(repo, "rm", "-q", "--", "gone.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")

    change = open_change(repo, head="feature")
    files = {f.path: f for f in change.changeset.files}
    assert set(files) == {"app.py", "-ünï côde.py", "gone.txt"}
    app = files["app.py"]
    assert app.status is FileStatus.MODIFIED
    assert app.added == (LineRange(2, 2), LineRange(4, 4))
    assert app.removed_lines == 1
    assert app.head_bytes() == b"a = 1\nB = 2\nc = 3\nd = 4\n"
    assert app.base_bytes() == b"a = 1\nb = 2\nc = 3\n"
    renamed = files["-ünï côde.py"]
    assert renamed.status is FileStatus.RENAMED
    assert renamed.old_path == "old name.py"
    assert renamed.added == (LineRange(3, 3),)
    gone = files["gone.txt"]
    assert gone.status is FileStatus.DELETED
    assert gone.head_bytes() is None
    assert gone.removed_lines == 1
    assert change.changeset.read_base("app.py") == b"a = 1\nb = 2\nc = 3\n"


def test_working_tree_includes_staged_unstaged_and_untracked(repo: Path) -> None:
    (repo / "app.py").write_text("a = 1\nb = 2\nc = 3\nstaged = 1\n")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text("a = 1\nb = 2\nc = 3\nstaged = 1\nunstaged = 2\n")
    (repo / "new file.py").write_text("print('hi')\n")
    (repo / ".gitignore").write_text("ignored.py\n")
    (repo / "ignored.py").write_text("secret = 1\n")

    change = open_change(repo)
    files = {f.path: f for f in change.changeset.files}
    assert set(files) == {"app.py", "new file.py", ".gitignore"}
    assert files["app.py"].added == (LineRange(4, 5),)
    assert files["app.py"].head_bytes() == b"a = 1\nb = 2\nc = 3\nstaged = 1\nunstaged = 2\n"
    assert files["new file.py"].status is FileStatus.ADDED
    assert files["new file.py"].added == (LineRange(1, 1),)
    assert change.changeset.head_name == "the working tree"
    assert change.changeset.base_name == "main"


def test_binary_symlink_and_submodule_are_flagged_not_read(repo: Path, tmp_path: Path) -> None:
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    os.symlink("/etc/passwd", repo / "link.py")
    inner = tmp_path / "inner"
    inner.mkdir()
    git(inner, "init", "-q", "-b", "main")
    (inner / "f").write_text("f\n")
    git(inner, "add", "-A")
    git(inner, "commit", "-qm", "inner")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "odd files")

    files = {f.path: f for f in open_change(repo, head="feature").changeset.files}
    assert files["logo.png"].is_binary
    assert files["logo.png"].added == ()
    assert files["link.py"].is_symlink
    assert files["link.py"].head_bytes() is None  # never followed
    assert files["sub"].is_submodule
    assert files["sub"].head_bytes() is None


def test_untracked_symlink_is_not_followed(repo: Path) -> None:
    os.symlink("/etc/hostname", repo / "outside.txt")
    files = {f.path: f for f in open_change(repo).changeset.files}
    assert files["outside.txt"].is_symlink
    assert files["outside.txt"].head_bytes() is None
    assert open_change(repo).changeset.read_head("outside.txt") is None


def test_empty_change(repo: Path) -> None:
    assert open_change(repo).changeset.files == ()
    assert open_change(repo, head="feature").changeset.files == ()


def test_repository_without_commits_judges_everything_as_added(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.py").write_text("x = 1\n")
    change = open_change(tmp_path)
    assert change.base_commit is None
    [f] = change.changeset.files
    assert (f.path, f.status, f.added) == ("a.py", FileStatus.ADDED, (LineRange(1, 1),))


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not inside a git repository"):
        open_change(tmp_path)


def test_unknown_refs_are_explained(repo: Path) -> None:
    with pytest.raises(SourceError, match="base 'nope'"):
        open_change(repo, base="nope")
    with pytest.raises(SourceError, match="head 'nope'"):
        open_change(repo, head="nope")
    with pytest.raises(SourceError):
        open_change(repo, base="--output=/tmp/x")


def test_no_default_branch_asks_for_base(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    (tmp_path / "a.py").write_text("x = 1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    with pytest.raises(SourceError, match="--base"):
        open_change(tmp_path)
    assert open_change(tmp_path, base="trunk").changeset.files == ()


def test_change_is_measured_from_the_merge_base(repo: Path) -> None:
    (repo / "feature.py").write_text("f = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "feature work")
    git(repo, "checkout", "-q", "main")
    (repo / "main_only.py").write_text("m = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main moved on")
    files = {f.path for f in open_change(repo, base="main", head="feature").changeset.files}
    assert files == {"feature.py"}


def test_non_utf8_content_is_read_as_bytes(repo: Path) -> None:
    (repo / "latin.py").write_bytes("name = 'café'\n".encode("latin-1"))
    [f] = open_change(repo).changeset.files
    assert not f.is_binary
    assert not f.is_utf8()
    assert f.head_text() == "name = 'caf\ufffd'\n"


def test_git_runs_without_the_callers_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from prgate.sources.gitrun import git_env

    monkeypatch.setenv("PRGATE_PRIVATE_KEY", "-----BEGIN KEY-----")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    env = git_env()
    assert "PATH" in env
    assert not {"PRGATE_PRIVATE_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN"} & set(env)
    assert env["GIT_TERMINAL_PROMPT"] == "0"


def test_gitattributes_in_the_change_cannot_mark_code_as_binary(repo: Path) -> None:
    (repo / ".gitattributes").write_text("*.py binary\n* -diff\n")
    (repo / "app.py").write_text("a = 1\nb = 2\nc = 3\nbreakpoint()\n")
    (repo / "real.bin").write_bytes(b"\x00\x01\x02 not text")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "hide code")
    for change in (open_change(repo), open_change(repo, head="feature")):
        files = {f.path: f for f in change.changeset.files}
        assert not files["app.py"].is_binary
        assert files["app.py"].added == (LineRange(4, 4),)
        assert files["real.bin"].is_binary
        assert files["real.bin"].added == ()


def test_a_file_name_that_is_not_utf8_is_refused_not_skipped(repo: Path) -> None:
    (repo / os.fsdecode(b"m\xe9.py")).write_text("import os\nbreakpoint()\n")
    with pytest.raises(SourceError, match="not UTF-8"):
        open_change(repo)


def _many_files_change(repo: Path, count: int) -> None:
    """``count`` changed files, half of them with the same contents (the same blob)."""
    (repo / "pkg").mkdir()
    (repo / "pkg" / "ruff.toml").write_text("line-length = 90\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "settings at base")
    for i in range(count):
        body = "same = 1\n" if i % 2 else f"value = {i}\n"
        (repo / "pkg" / f"m{i}.py").write_text(body)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "many")


def test_a_large_change_reads_every_file_and_its_base_settings(repo: Path) -> None:
    count = 70  # past the reads answered one by one, so both trees are listed at once
    _many_files_change(repo, count)
    change = open_change(repo, base="main", head="feature").changeset
    heads = {f.path: f.head_bytes() for f in change.files}
    assert len(heads) == count + 1
    assert heads["pkg/m1.py"] == heads["pkg/m3.py"] == b"same = 1\n"
    assert heads["pkg/m2.py"] == b"value = 2\n"
    assert all(f.added for f in change.files if f.path.endswith(".py"))
    # Settings are read at base: an absent one is None, a present one its contents
    # (this base is the merge-base, before the settings commit of the branch).
    assert change.read_base("pkg/ruff.toml") is None
    assert change.read_base("app.py") == b"a = 1\nb = 2\nc = 3\n"
    assert change.read_base("pkg/pyproject.toml") is None
    tree = change.head_tree()
    assert tree is not None and "pkg/m69.py" in tree.paths and "gone.txt" in tree.paths


def test_head_files_past_the_read_ahead_budget_are_read_one_by_one(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prgate.sources import gitobjects

    _many_files_change(repo, 8)
    monkeypatch.setattr(gitobjects, "PRELOAD_BYTES", 12)  # room for one file only
    change = open_change(repo, base="main", head="feature").changeset
    heads = {f.path: f.head_bytes() for f in change.files}
    assert heads["pkg/m0.py"] == b"value = 0\n"
    assert heads["pkg/m6.py"] == b"value = 6\n"
    assert heads["pkg/m7.py"] == b"same = 1\n"
    assert heads["pkg/ruff.toml"] == b"line-length = 90\n"


def test_head_files_are_read_in_one_batch(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every changed file starts no process per file: the batch read them all."""
    _many_files_change(repo, 20)
    started: list[list[str]] = []
    real = subprocess.Popen

    def counting(args: list[str], *a: object, **k: object) -> object:
        started.append(list(args))
        return real(args, *a, **k)  # type: ignore[call-overload]

    from prgate.sources.gitobjects import BlobReader

    one_by_one: list[str] = []
    real_read = BlobReader.read

    def read(self: BlobReader, name: str) -> bytes | None:
        if name not in self._blobs:
            one_by_one.append(name)
        return real_read(self, name)

    monkeypatch.setattr(subprocess, "Popen", counting)
    monkeypatch.setattr(BlobReader, "read", read)
    change = open_change(repo, base="main", head="feature").changeset
    assert all(f.head_bytes() is not None for f in change.files)
    batch_reads = [a for a in started if a[:2] == ["git", "cat-file"]]
    assert batch_reads == [["git", "cat-file", "--batch-check"], ["git", "cat-file", "--batch"]]
    assert one_by_one == []  # every file came from the one batch


def test_a_tree_that_cannot_be_listed_is_an_error_not_an_empty_tree(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a failed listing read as an empty tree, every settings file at base would look
    absent and the change would be judged with defaults: it must stop the check instead."""
    from prgate.sources import gitobjects

    _many_files_change(repo, 70)
    real = gitobjects.run_git

    def failing(root: Path, args: list[str], **kw: bool) -> bytes:
        # git itself fails: the listing names an object the repository does not have.
        if args[0] == "ls-tree":
            args = [*args[:-1], "0" * 40]
        return real(root, args, **kw)

    monkeypatch.setattr(gitobjects, "run_git", failing)
    change = open_change(repo, base="main", head="feature").changeset
    with pytest.raises(SourceError):
        change.read_base("pkg/ruff.toml")
    with pytest.raises(SourceError):
        change.head_tree()
