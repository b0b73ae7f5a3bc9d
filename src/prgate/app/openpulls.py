"""What the App keeps of each pull request it judged, to tell the open ones that change the same
files about each other: the role its users see, and the statements both backends share.

Two tables (migration "pull requests' changed files"): ``pulls``, one row per pull request (its
head, title, whether it is open, and the parts of its last comment, so that the comment can be
shown again with a new list of overlaps without judging anything), and ``pull_paths``, the files
it changes (at most :data:`~prgate.coordination.MAX_RECORDED_PATHS`). A closed pull request
keeps its row but loses its files. Each backend runs these functions in one of its
transactions, through an :data:`Execute` of its own connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from prgate.app.spending import Execute
from prgate.coordination import MAX_RECORDED_PATHS, TITLE_LIMIT, group
from prgate.model import OpenPull

#: Rows read at most for one pull request's overlaps (its files times the others sharing each).
MAX_OVERLAP_ROWS = 20_000


@dataclass(frozen=True)
class PullRecord:
    """What the store knows of one pull request."""

    pr: int
    sha: str
    title: str
    open: bool
    #: Whether its last verdict depended on the overlaps (a rule of check kind ``overlap``):
    #: a change of them calls for judging it again, not only for a new comment.
    judged_overlaps: bool = False
    #: Its last comment without the overlaps (``comment_body`` and the agent prompt), and the
    #: digest of the overlaps it showed; empty when not known.
    comment_body: str = ""
    comment_prompt: str = ""
    comment_overlaps: str = ""


class OpenPulls(Protocol):
    """The pull requests the App judged, for the overlap lists (owned by ``coordinate``)."""

    def record_pull(
        self,
        repo: str,
        pr: int,
        *,
        sha: str,
        title: str,
        paths: Sequence[str],
        judged_overlaps: bool,
    ) -> None:
        """Keep ``pr`` as open at ``sha`` with ``title``, changing ``paths`` (replacing the
        files kept before; at most :data:`MAX_RECORDED_PATHS`)."""

    def close_pull(self, repo: str, pr: int) -> None:
        """Mark ``pr`` closed (merged or not) and forget its files and comment."""

    def pull_record(self, repo: str, pr: int) -> PullRecord | None: ...

    def pull_overlaps(self, repo: str, pr: int) -> tuple[OpenPull, ...]:
        """The other open pull requests of ``repo`` that change files ``pr`` changes (as
        kept), ranked: the most shared files first. Those with the same head commit are left
        out (one branch proposed to several bases: the same change)."""

    def save_pull_comment(
        self, repo: str, pr: int, *, body: str, prompt: str, overlaps: str
    ) -> None:
        """Keep the parts of ``pr``'s comment as last posted (see :class:`PullRecord`)."""


PULL_COLUMNS = (
    "pr, sha, title, is_open, judged_overlaps, comment_body, comment_prompt, comment_overlaps"
)


def pull_from_row(row: Sequence[Any]) -> PullRecord:
    return PullRecord(
        pr=int(row[0]),
        sha=str(row[1]),
        title=str(row[2]),
        open=bool(row[3]),
        judged_overlaps=bool(row[4]),
        comment_body=str(row[5] or ""),
        comment_prompt=str(row[6] or ""),
        comment_overlaps=str(row[7] or ""),
    )


def record_pull(
    execute: Execute,
    mark: str,
    *,
    repo: str,
    pr: int,
    sha: str,
    title: str,
    paths: Sequence[str],
    judged_overlaps: bool,
    now: float,
) -> None:
    """:meth:`OpenPulls.record_pull` inside the caller's transaction."""
    execute(
        "INSERT INTO pulls (repo, pr, sha, title, is_open, judged_overlaps, updated_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, 1, {mark}, {mark}) "
        "ON CONFLICT (repo, pr) DO UPDATE SET sha=excluded.sha, title=excluded.title, "
        "is_open=1, judged_overlaps=excluded.judged_overlaps, updated_at=excluded.updated_at",
        (repo, pr, sha, title[:TITLE_LIMIT], 1 if judged_overlaps else 0, now),
    )
    execute(f"DELETE FROM pull_paths WHERE repo={mark} AND pr={mark}", (repo, pr))
    kept = sorted(set(paths))[:MAX_RECORDED_PATHS]
    for start in range(0, len(kept), 500):
        chunk = kept[start : start + 500]
        values = ", ".join(f"({mark}, {mark}, {mark})" for _ in chunk)
        args: list[Any] = []
        for path in chunk:
            args += [repo, pr, path]
        execute(
            f"INSERT INTO pull_paths (repo, pr, path) VALUES {values} ON CONFLICT DO NOTHING",
            args,
        )


def close_pull(execute: Execute, mark: str, *, repo: str, pr: int, now: float) -> None:
    """:meth:`OpenPulls.close_pull` inside the caller's transaction."""
    execute(
        "UPDATE pulls SET is_open=0, comment_body='', comment_prompt='', comment_overlaps='', "
        f"updated_at={mark} WHERE repo={mark} AND pr={mark}",
        (now, repo, pr),
    )
    execute(f"DELETE FROM pull_paths WHERE repo={mark} AND pr={mark}", (repo, pr))


def pull_record(execute: Execute, mark: str, *, repo: str, pr: int) -> PullRecord | None:
    rows = execute(f"SELECT {PULL_COLUMNS} FROM pulls WHERE repo={mark} AND pr={mark}", (repo, pr))
    return pull_from_row(rows[0]) if rows else None


def pull_overlaps(execute: Execute, mark: str, *, repo: str, pr: int) -> tuple[OpenPull, ...]:
    """:meth:`OpenPulls.pull_overlaps`: one join over the files kept (indexed by path)."""
    rows = execute(
        "SELECT o.pr, p.title, o.path FROM pull_paths m "
        "JOIN pulls q ON q.repo=m.repo AND q.pr=m.pr "
        "JOIN pull_paths o ON o.repo=m.repo AND o.path=m.path AND o.pr<>m.pr "
        "JOIN pulls p ON p.repo=o.repo AND p.pr=o.pr AND p.is_open=1 AND p.sha<>q.sha "
        f"WHERE m.repo={mark} AND m.pr={mark} ORDER BY o.pr, o.path LIMIT {MAX_OVERLAP_ROWS}",
        (repo, pr),
    )
    return group((int(r[0]), str(r[1]), str(r[2])) for r in rows)


def save_pull_comment(
    execute: Execute,
    mark: str,
    *,
    repo: str,
    pr: int,
    body: str,
    prompt: str,
    overlaps: str,
    now: float,
) -> None:
    execute(
        f"UPDATE pulls SET comment_body={mark}, comment_prompt={mark}, comment_overlaps={mark}, "
        f"updated_at={mark} WHERE repo={mark} AND pr={mark}",
        (body, prompt, overlaps, now, repo, pr),
    )


def prune_statements(mark: str) -> tuple[str, ...]:
    """Deletes of pull requests not judged since the run records' cut-off (their files first);
    each takes (cut-off, limit)."""
    old = f"SELECT repo, pr FROM pulls WHERE updated_at < {mark}"
    return (
        f"DELETE FROM pull_paths WHERE (repo, pr) IN ({old} LIMIT {mark})",
        f"DELETE FROM pulls WHERE (repo, pr) IN ({old} AND NOT EXISTS (SELECT 1 FROM pull_paths "
        f"x WHERE x.repo=pulls.repo AND x.pr=pulls.pr) LIMIT {mark})",
    )
