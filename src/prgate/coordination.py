"""Open pull requests that change the same files: what is kept of each, and how they rank. Pure.

The App keeps, for each pull request it judged, the files it changes (at most
:data:`MAX_RECORDED_PATHS`); the comment of a pull request lists the other open ones of the same
repository that change some of the same files, the most shared files first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from prgate.model import ChangeSet, OpenPull

#: Paths kept per pull request (GitHub lists at most 3,000 files of a pull request). A change
#: with more keeps the first ones in sorted order: overlaps in the others go unseen.
MAX_RECORDED_PATHS = 3000
#: Longest title kept of another pull request (GitHub's own limit).
TITLE_LIMIT = 256
#: Pull requests listed in a comment, and shared files listed for each.
SHOWN_PULLS = 5
SHOWN_PATHS = 3


@dataclass(frozen=True)
class RecordedPaths:
    """The paths kept of one change: sorted, each once, at most :data:`MAX_RECORDED_PATHS`."""

    paths: tuple[str, ...]
    #: Whether every changed path is kept.
    complete: bool = True


def recorded_paths(changeset: ChangeSet, *, limit: int = MAX_RECORDED_PATHS) -> RecordedPaths:
    """The paths ``changeset`` changes (a renamed file counts under both names), capped."""
    paths: set[str] = set()
    for f in changeset.files:
        paths.add(f.path)
        if f.old_path:
            paths.add(f.old_path)
    ordered = sorted(paths)
    return RecordedPaths(tuple(ordered[:limit]), complete=len(ordered) <= limit)


def rank(others: Iterable[OpenPull]) -> tuple[OpenPull, ...]:
    """Most shared files first; among equals, the older pull request (lower number) first."""
    return tuple(sorted(others, key=lambda o: (-len(o.paths), o.number)))


@dataclass(frozen=True)
class OverlapView:
    """What a comment shows: the first pull requests by rank, each with its first shared files."""

    shown: tuple[OpenPull, ...]
    #: Pull requests left out of ``shown``.
    more: int
    #: Shared files listed per pull request.
    per_pull: int = SHOWN_PATHS

    def paths_of(self, pull: OpenPull) -> tuple[tuple[str, ...], int]:
        """The shared files shown for ``pull``, and how many are left out."""
        return pull.paths[: self.per_pull], max(0, len(pull.paths) - self.per_pull)


def view(
    others: Iterable[OpenPull], *, pulls: int = SHOWN_PULLS, paths: int = SHOWN_PATHS
) -> OverlapView:
    """The ranked overlaps, capped at ``pulls`` pull requests of ``paths`` files each."""
    ranked = rank(others)
    shown = tuple(
        OpenPull(o.number, o.title[:TITLE_LIMIT], tuple(sorted(o.paths))) for o in ranked[:pulls]
    )
    return OverlapView(shown, max(0, len(ranked) - pulls), max(paths, 1))


def group(rows: Iterable[tuple[int, str, str]]) -> tuple[OpenPull, ...]:
    """``(number, title, shared path)`` rows as one :class:`OpenPull` each, ranked."""
    titles: dict[int, str] = {}
    paths: dict[int, set[str]] = {}
    for number, title, path in rows:
        titles[number] = title
        paths.setdefault(number, set()).add(path)
    return rank(OpenPull(n, titles[n], tuple(sorted(paths[n]))) for n in titles)


def changed(before: Sequence[OpenPull], after: Sequence[OpenPull]) -> tuple[int, ...]:
    """The pull requests whose files shared with this one changed between ``before`` and
    ``after`` (joined, left or changed): those whose own comments list this one anew."""
    old: Mapping[int, tuple[str, ...]] = {o.number: o.paths for o in before}
    new: Mapping[int, tuple[str, ...]] = {o.number: o.paths for o in after}
    return tuple(sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n)))


def digest(overlaps: Sequence[OpenPull]) -> str:
    """A digest of what a comment shows of ``overlaps`` (:func:`view`): equal digests, equal
    lists on the page. Kept with a comment, so that a refresh that would show the same list
    edits nothing (for one, another file shared past the ones listed, in place of one that is
    no longer shared, shows the same count). How many pull requests are left out of the list
    counts only as none or some: a hot file that many open pull requests change would otherwise
    have each newcomer edit every other one's comment for a count (the comment says its count
    is as of its last update)."""
    shown = view(overlaps)
    rows = [[o.number, o.title, list(shown.paths_of(o)[0]), len(o.paths)] for o in shown.shown]
    text = json.dumps([rows, min(shown.more, 1)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]
