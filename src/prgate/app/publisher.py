"""The ``prgate`` check run of each commit, and its ledger in the store.

Every run prgate starts ends completed:

- a commit without a run gets one in progress while it is judged; a commit whose run is already
  completed keeps showing that verdict until the new one is ready, and the run is then updated in
  place, or, when it holds annotations the new verdict no longer makes (GitHub never takes one
  back), replaced by a new run created completed, the old one concluded ``cancelled``;
- a run left in progress on a head that a pull request has since moved on from is concluded
  ``cancelled`` with the newer commit named (never ``success``: it was not judged), or judged
  again when that commit is still the head of another open pull request;
- a run in progress on the head of a pull request closed before its verdict is concluded
  ``cancelled`` when no open pull request has that head any more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prgate.app.jobrun import JobRun
from prgate.app.store import JobKind, JobSpec
from prgate.github import checks
from prgate.github.pulls import open_pulls_at

#: Kept as a check run's id while it is being created: a create whose answer is lost leaves it,
#: and whoever reads it next asks GitHub whether the run exists (GitHub's ids start at 1).
CREATING = 0

SUPERSEDED_TITLE = "Not judged: the pull request moved on to a newer commit"
CLOSED_TITLE = "Not judged: the pull request was closed"
REPLACED_TITLE = "Replaced by a newer prgate check"


@dataclass(frozen=True)
class Publisher:
    """Owns the check-run ledger of one job's repository."""

    run: JobRun

    def locate(self, sha: str, *, known: int | None = None) -> int | None:
        """The run already made for ``sha``: the ledger's id; GitHub's list when a create's
        answer may have been lost (this job's earlier attempt, or another job's); else
        ``known`` (the run a person asked to re-run)."""
        run = self.run
        entry = run.store.check_run(run.repo, sha)
        run_id = entry.run_id if entry is not None else None
        if run_id == CREATING or (run_id is None and run.retried):
            run_id = checks.find(run.http, run.repo, head_sha=sha, app_id=run.ctx.app_id)
            if run_id is not None:
                run.store.save_check_run(run.repo, sha, run_id)
        if run_id is None and known:
            run_id = known
        return run_id

    def begin(self, sha: str, *, pr: int | None, known: int | None = None) -> checks.Started | None:
        """Make sure ``sha`` has a run: create one in progress when it has none (marked as
        being created first, so that a create whose answer is lost is found, not repeated).
        The run created, or ``None`` when one existed (it is left as it is)."""
        if self.locate(sha, known=known) is not None:
            return None
        run = self.run
        run.fence()
        run.store.save_check_run(run.repo, sha, CREATING, pr=pr, in_progress=True, inputs="")
        started = checks.start(run.http, run.repo, head_sha=sha)
        run.store.save_check_run(run.repo, sha, started.id)
        return started

    def conclude(
        self,
        sha: str,
        *,
        pr: int | None,
        conclusion: str,
        title: str,
        summary: str,
        annotations: Sequence[Mapping[str, Any]],
        actions: Sequence[checks.Action] = (),
        created: checks.Started | None = None,
    ) -> checks.Started:
        """Give ``sha``'s run this verdict, never passing through ``in_progress``. ``created``:
        the run :meth:`begin` just made (nothing to read back)."""
        run = self.run
        current: checks.RunState | None
        if created is not None:
            current = checks.RunState(created.id, created.url, "in_progress", None, 0)
        else:
            run_id = self.locate(sha)
            current = checks.state(run.http, run.repo, run_id) if run_id is not None else None
        if current is None:  # none yet, or deleted by someone: one created completed
            return self._create_completed(sha, pr, conclusion, title, summary, annotations, actions)
        todo: Sequence[Mapping[str, Any]] | None = annotations
        if current.annotations:
            posted = checks.posted_annotations(run.http, run.repo, current.id, current.annotations)
            todo = checks.still_to_post(posted, annotations)
        if todo is None:  # holds an annotation that no longer holds: a new run takes over
            fresh = self._create_completed(
                sha, pr, conclusion, title, summary, annotations, actions
            )
            checks.complete(
                run.http,
                run.repo,
                current.id,
                conclusion="cancelled",
                title=REPLACED_TITLE,
                summary="prgate judged this commit again; the newer check run has the verdict.",
            )
            return fresh
        run.fence()
        checks.complete(
            run.http,
            run.repo,
            current.id,
            conclusion=conclusion,
            title=title,
            summary=summary,
            annotations=todo,
            actions=actions,
        )
        run.store.save_check_run(run.repo, sha, current.id, in_progress=False)
        return current.started

    def _create_completed(
        self,
        sha: str,
        pr: int | None,
        conclusion: str,
        title: str,
        summary: str,
        annotations: Sequence[Mapping[str, Any]],
        actions: Sequence[checks.Action],
    ) -> checks.Started:
        run = self.run
        run.fence()
        # Not in progress even while it is created: a lost answer is found by ``locate``.
        run.store.save_check_run(run.repo, sha, CREATING, pr=pr, in_progress=False)
        fresh = checks.create_completed(
            run.http,
            run.repo,
            head_sha=sha,
            conclusion=conclusion,
            title=title,
            summary=summary,
            annotations=annotations,
            actions=actions,
        )
        run.store.save_check_run(run.repo, sha, fresh.id)
        return fresh

    def settle_left_behind(self, pr: int, *, head: str | None) -> int:
        """Conclude the runs that jobs of ``pr`` started on commits other than ``head`` (every
        one when ``head`` is ``None``: the PR is closed) and never concluded. A commit that is
        still the head of an open pull request is judged again instead. How many were
        concluded."""
        run = self.run
        settled = 0
        for entry in run.store.check_runs_in_progress(run.repo, pr):
            if entry.sha == head:
                continue
            still = open_pulls_at(run.http, run.repo, entry.sha)
            if still:  # another open PR has that head: its verdict is still wanted
                run.ctx.enqueue(
                    JobSpec(
                        JobKind.EVALUATE, run.repo, run.job.installation_id, still[0], entry.sha
                    )
                )
                run.store.save_check_run(run.repo, entry.sha, entry.run_id, pr=still[0])
                continue
            run_id = self.locate(entry.sha)
            if run_id is None or run_id == CREATING:  # the create never happened
                run.store.save_check_run(run.repo, entry.sha, CREATING, in_progress=False)
                continue
            if head is None:
                title, summary = CLOSED_TITLE, _closed_summary(pr)
            else:
                title, summary = SUPERSEDED_TITLE, _superseded_summary(pr, head)
            run.fence()
            checks.complete(
                run.http, run.repo, run_id, conclusion="cancelled", title=title, summary=summary
            )
            run.store.save_check_run(run.repo, entry.sha, run_id, in_progress=False, inputs="")
            settled += 1
        return settled


def _superseded_summary(pr: int, head: str) -> str:
    return (
        f"prgate did not finish judging this commit: pull request #{pr} moved on to commit "
        f"`{head}` before the verdict was ready. The newer commit's prgate check has the "
        "verdict. This commit was not judged, so this check does not pass."
    )


def _closed_summary(pr: int) -> str:
    return (
        f"Pull request #{pr} was closed before prgate finished judging this commit, and no "
        "open pull request has it as its head. It was not judged, so this check does not pass. "
        "Reopen the pull request (or comment `/prgate recheck` on it) to have it judged."
    )
