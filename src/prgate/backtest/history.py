"""The merged changes of a branch, read from its first-parent history, newest first.

A first-parent merge commit stands for a pull request merged with a merge commit: it is judged
as that PR was, from its first parent (the branch before) to its second parent (the PR's tip).
Any other first-parent commit (a squash or rebase merge, or a direct push) is judged as one
commit, from its parent to itself. Root commits have nothing to compare with and are left out.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prgate.errors import SourceError
from prgate.sources.gitrun import git_env, run_git

#: The subject GitHub writes when it merges a pull request with a merge commit.
_PR_MERGE = re.compile(r"^Merge pull request #\d+ from \S+$")


@dataclass(frozen=True)
class PastChange:
    """One merged change: the commits it is judged between, and its title."""

    base: str
    head: str
    title: str
    #: The pull request's number, when the change is known as one (the App's backtest).
    number: int | None = None


def title_of(message: str) -> str:
    """A change's title: the PR's title line for GitHub's merge commits, else the subject."""
    lines = message.strip("\n").splitlines()
    subject = lines[0].strip() if lines else ""
    if _PR_MERGE.match(subject):
        rest = [line.strip() for line in lines[1:] if line.strip()]
        if rest:
            return rest[0]
    return subject


def parse_since(text: str) -> int:
    """``--since``'s DATE (``2024-05-01``, or a full ISO 8601 time; UTC unless it says) as a
    Unix time. Parsed here rather than by git, which quietly ignores a date it cannot read."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SourceError(
            f"--since takes a date such as 2024-05-01 (or 2024-05-01T09:30), not {text!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def past_changes(
    root: Path, tip: str, *, last: int | None, since: int | None
) -> Iterator[PastChange]:
    """The changes merged into ``tip``'s first-parent history, newest first, read as a stream.

    ``last`` bounds how many are read; ``since`` keeps the commits made from that moment on (a
    Unix time, see :func:`parse_since`). The structure comes from ``git rev-list --parents`` (only hex
    ids); each title is read on its own, so no commit message can pose as another commit.
    """
    args = ["git", "rev-list", "--first-parent", "--parents"]
    if since is not None:
        args.append(f"--max-age={since}")
    args += ["--end-of-options", tip, "--"]
    proc = subprocess.Popen(
        args,
        cwd=root,
        env=git_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    found = 0
    try:
        for line in proc.stdout:
            sha, *parents = line.decode("ascii", errors="replace").split()
            if not parents:
                continue  # the first commit: nothing it changed from
            head = parents[1] if len(parents) > 1 else sha
            yield PastChange(base=parents[0], head=head, title=title_of(_message(root, sha)))
            found += 1
            if last is not None and found >= last:
                return
        if proc.wait() != 0:
            raise SourceError("git could not read the branch's history.")
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _message(root: Path, sha: str) -> str:
    out = run_git(root, ["show", "-s", "--no-color", "--format=%B", sha, "--"])
    return out.decode("utf-8", errors="replace")
