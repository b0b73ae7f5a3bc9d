"""Build a ChangeSet from a local git repository: from merge-base(BASE, HEAD) to HEAD.

HEAD is a commit, or the working tree (committed, staged and unstaged changes, and untracked files
that git does not ignore). Git runs without a shell, with ``--`` before paths, with NUL-separated
output, and with an environment that carries nothing of the caller's secrets
(:mod:`~prgate.sources.gitrun`); the files of the change come from
:mod:`~prgate.sources.gitdiff`, their contents from :mod:`~prgate.sources.gitobjects`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prgate.errors import SourceError
from prgate.model import ChangeSet
from prgate.sources.gitdiff import diff_files, untracked_files
from prgate.sources.gitobjects import (
    READS_BEFORE_LISTING,
    BlobReader,
    head_reader,
    ref_reader,
    tree_lister,
)
from prgate.sources.gitrun import run_git

#: git's well-known empty tree: the base of a repository that has no commits.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True)
class LocalChange:
    """A change in a local repository, with what is needed to read its base config."""

    changeset: ChangeSet
    root: Path
    #: The BASE commit the config is read from (``None`` when the repository has no commits).
    base_commit: str | None
    #: The commit the diff starts from (merge-base of BASE and HEAD), or the empty tree.
    diff_base: str
    #: The head commit, or ``None`` for the working tree.
    head_commit: str | None


def repo_root(path: Path) -> Path:
    if not path.exists():
        raise SourceError(f"{path} does not exist.")
    if not path.is_dir():
        raise SourceError(f"{path} is not a folder.")
    try:
        out = run_git(path, ["rev-parse", "--show-toplevel"])
    except SourceError as exc:
        raise SourceError(
            f"{path} is not inside a git repository, so prgate cannot tell what changed. "
            "Run it inside a repository (or pass its path)."
        ) from exc
    return Path(out.decode("utf-8", errors="surrogateescape").strip())


def resolve_commit(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or ``None`` when it names nothing."""
    if ref.startswith("-"):
        return None
    out = run_git(
        root,
        ["rev-parse", "--verify", "--quiet", "--end-of-options", ref + "^{commit}"],
        check=False,
    )
    text = out.decode().strip()
    return text or None


def default_base(root: Path) -> tuple[str, str] | None:
    """The repository's default branch: ``origin/HEAD``, else ``main``, else ``master``."""
    for ref in ("origin/HEAD", "main", "master"):
        sha = resolve_commit(root, ref)
        if sha:
            return ref, sha
    return None


def has_commits(root: Path) -> bool:
    return resolve_commit(root, "HEAD") is not None


def open_change(
    path: Path,
    *,
    base: str | None = None,
    head: str | None = None,
    labels: Iterable[str] = (),
    author: str | None = None,
) -> LocalChange:
    """Read the change from merge-base(BASE, HEAD) to HEAD (the working tree when ``head`` is None)."""
    root = repo_root(path)
    head_commit: str | None = None
    if head is not None:
        head_commit = resolve_commit(root, head)
        if head_commit is None:
            raise SourceError(
                f"The head '{head}' is not a branch, tag or commit in this repository."
            )

    base_name: str
    base_commit: str | None
    if base is not None:
        base_commit = resolve_commit(root, base)
        if base_commit is None:
            raise SourceError(
                f"The base '{base}' is not a branch, tag or commit in this repository. "
                "Check the name with `git branch -a`."
            )
        base_name = base
    else:
        found = default_base(root)
        if found is not None:
            base_name, base_commit = found
        elif not has_commits(root):
            base_name, base_commit = "an empty repository", None
        else:
            raise SourceError(
                "prgate could not find the branch to compare with: there is no origin/HEAD, "
                "main or master. Name it with --base (for example --base develop)."
            )

    diff_base = EMPTY_TREE
    if base_commit is not None:
        tip = head_commit or resolve_commit(root, "HEAD")
        if tip is None:
            diff_base = base_commit
        else:
            mb = run_git(root, ["merge-base", base_commit, tip], check=False).decode().strip()
            if not mb:
                shallow = run_git(root, ["rev-parse", "--is-shallow-repository"], check=False)
                raise SourceError(
                    f"The base '{base_name}' and the head share no history, so there is no "
                    "change to compare. "
                    + (
                        "This clone is shallow (it holds only the latest commits): fetch more "
                        "history, for example `git fetch --unshallow`, or with actions/checkout "
                        "set fetch-depth: 0."
                        if shallow.strip() == b"true"
                        else "Pick a base branch this work started from."
                    )
                )
            diff_base = mb

    reader = BlobReader(root)
    files = list(diff_files(root, reader, diff_base=diff_base, head_commit=head_commit))
    if head_commit is None:
        files.extend(untracked_files(root))
    files.sort(key=lambda f: f.path)
    for f in files:
        _require_utf8_name(f.path)
    head_name = head if head is not None else "the working tree"
    # A large change looks for settings in many folders and its tools want the head's tree:
    # both trees are listed in the background while the config is read.
    large = len(files) > READS_BEFORE_LISTING
    changeset = ChangeSet(
        files=tuple(files),
        labels=frozenset(labels),
        author=author,
        base_name=base_name,
        head_name=head_name,
        read_head=head_reader(root, reader, head_commit),
        read_base=ref_reader(reader, None if diff_base == EMPTY_TREE else diff_base, eager=large),
        head_tree=tree_lister(root, head_commit, eager=large),
    )
    return LocalChange(
        changeset=changeset,
        root=root,
        base_commit=base_commit,
        diff_base=diff_base,
        head_commit=head_commit,
    )


def _require_utf8_name(path: str) -> None:
    """Refuse (fail closed) a change with a file name that is not UTF-8: it cannot be shown,
    matched against the rules' patterns, or checked as the same file on GitHub."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise SourceError(
            f"The file name {shown!r} is not UTF-8 text, so prgate cannot judge this change. "
            "Rename the file using plain letters, digits, '-', '_' and '.'."
        ) from None
