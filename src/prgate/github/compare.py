"""Comparing two commits: what a merge queue's group changes, and which pull requests it holds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from prgate.github.http import Http
from prgate.github.pulls import PullFile, TooManyFiles, parse_file, repo_path

#: GitHub lists at most this many files of a comparison (and no more on later pages).
MAX_COMPARE_FILES = 300
#: The commit GitHub makes for a pull request merged with a merge commit, and for one squashed.
_MERGED = re.compile(r"^Merge pull request #([0-9]{1,10}) from \S")
_SQUASHED = re.compile(r"\(#([0-9]{1,10})\)\s*$")


@dataclass(frozen=True)
class Comparison:
    """The change from one commit to another, as GitHub compares them."""

    files: tuple[PullFile, ...]
    #: The first line of each commit's message, oldest first (GitHub lists at most 250).
    subjects: tuple[str, ...]


def compare(http: Http, repo: str, base: str, head: str) -> Comparison:
    """The files changed from ``base`` to ``head`` (one call). A change of more files than
    GitHub lists raises :class:`~prgate.github.pulls.TooManyFiles`: prgate cannot see all of
    it, so it cannot pass."""
    data = http.json("GET", f"{repo_path(repo)}/compare/{base}...{head}")
    listed = data.get("files") if isinstance(data, dict) else None
    files = tuple(parse_file(item) for item in listed or () if isinstance(item, dict))
    if len(files) >= MAX_COMPARE_FILES:
        raise TooManyFiles(
            f"This merge queue group changes {len(files)} files or more; GitHub shows prgate at "
            f"most {MAX_COMPARE_FILES} files of a group, so it cannot see the whole change"
        )
    commits = data.get("commits") if isinstance(data, dict) else None
    subjects: list[str] = []
    for c in commits or ():
        message = (c.get("commit") or {}).get("message") if isinstance(c, dict) else None
        if isinstance(message, str):
            subjects.append(message.split("\n", 1)[0][:500])
    return Comparison(files=files, subjects=tuple(subjects))


def pull_numbers(subjects: Iterable[str]) -> list[int]:
    """The pull requests that commits made by a merge queue name, in order, once each: a merge
    commit's ``Merge pull request #N from ...``, a squashed commit's ``title (#N)``. Commits
    rebased from a pull request carry its own messages, which may name anything: callers check
    each number against GitHub before they rely on it."""
    out: dict[int, None] = {}
    for subject in subjects:
        found = _MERGED.match(subject) or _SQUASHED.search(subject)
        if found:
            number = int(found.group(1))
            if 0 < number < 2**31:
                out[number] = None
    return list(out)
