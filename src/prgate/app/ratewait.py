"""Jobs wait for GitHub's rate limit in the queue, and a head's check run says so.

Before a job spends calls, the installation's budget (``github.budget``, fed by the figures
GitHub sends on every answer) is asked whether it is above the low-water mark
(``PRGATE_RATE_LIMIT_LOW_WATER``). Below it, the job is put back in the queue until the reset
(the store's ``run_at``: nothing is lost, and it is not given up for waiting), and the head it
would judge gets, once, a check run in progress that says in plain words that prgate waits for
GitHub's rate limit and when it expects to continue. That note costs one call per head, from the
upper half of the reserve the low-water mark keeps (below it, heads wait without a note: the
rest is for the jobs already running); the judgement later concludes that same run.
"""

from __future__ import annotations

import logging
import time

from prgate.app.jobrun import JobContext, fence
from prgate.app.judging import repo_http
from prgate.app.publisher import CREATING
from prgate.app.store import Job, JobKind
from prgate.github import checks
from prgate.github.errors import GitHubError, RateLimited

log = logging.getLogger("prgate.app")

WAITING_TITLE = "Waiting for GitHub's rate limit"
#: The error a job waiting for the budget is put back with (its last error in the store).
WAIT_ERROR = "GitHub's rate limit for this installation is nearly spent; waiting for its reset"
#: Seconds after the reset before waiting jobs run again (GitHub's clock and ours differ).
AFTER_RESET = 1.0


class BudgetWait(RateLimited):
    """The installation's budget is below the low-water mark: the job waits for the reset
    (never given up for it)."""

    waits = True


def waiting_summary(until: float, *, now: float) -> str:
    """The note on a head's run while its job waits."""
    at = time.strftime("%H:%M UTC", time.gmtime(until))
    minutes = max(1, round((until - now) / 60))
    return (
        "prgate has used nearly all of the calls GitHub allows it per hour for this "
        f"installation, so it is waiting before it judges this commit. It expects to continue "
        f"at {at} (in about {minutes} minute{'s' if minutes != 1 else ''}), when GitHub's "
        "limit resets. Nothing needs doing: this check updates itself with the verdict. "
        "Until then it does not pass."
    )


def wait_for_budget(ctx: JobContext, job: Job) -> None:
    """Raise :class:`BudgetWait` when the job's installation is below the low-water mark,
    after noting it (once) on the check run of the head an evaluation would judge."""
    now = ctx.clock()
    until = ctx.auth.budget.waits_until(job.installation_id, low_water=ctx.rate_low_water, now=now)
    if until is None:
        return
    if job.kind is JobKind.EVALUATE and job.sha:
        _note_waiting(ctx, job, until, now=now)
    raise BudgetWait(WAIT_ERROR, retry_at=until + AFTER_RESET)


def waited_for_budget(job: Job) -> bool:
    """Whether the job's last turn ended waiting for the budget, before it spent anything."""
    return job.last_error == WAIT_ERROR


def _note_waiting(ctx: JobContext, job: Job, until: float, *, now: float) -> None:
    if ctx.store.check_run(job.repo, job.sha) is not None:
        return  # the head shows a run already (this note, or an earlier verdict)
    left = ctx.auth.budget.left(job.installation_id, now=now)
    if left is not None and left <= ctx.rate_low_water // 2:
        # The lower half of the reserve is for the jobs already running: under a stream of
        # pushes the notes would spend it all (and each noted head that is superseded before
        # its turn costs one more call to conclude its note).
        return
    try:
        with repo_http(ctx, job) as http:
            fence(ctx, job)
            ctx.store.save_check_run(
                job.repo, job.sha, CREATING, pr=job.pr, in_progress=True, inputs=""
            )
            started = checks.start(
                http,
                job.repo,
                head_sha=job.sha,
                title=WAITING_TITLE,
                summary=waiting_summary(until, now=now),
            )
            ctx.store.save_check_run(job.repo, job.sha, started.id)
    except GitHubError as exc:  # the wait happens all the same; the note is a courtesy
        log.info("could not note the wait on %s@%s: %s", job.repo, job.sha[:12], exc)
