"""A merge queue's group: its head commit judged by its target branch's rules, in its check run.

GitHub's merge queue asks (``merge_group.checks_requested``) for the required checks of a
group's head commit: the target branch with the pull requests queued ahead and the group's own
merged onto it. prgate judges the change from the group's base commit to its head with the pull
request pipeline (``judging``): the rules are read at the base commit, never from the head, and
the ``prgate`` check run on the head commit gets the verdict (``publisher``). There is no
conversation to comment on: the check run's summary carries the report (``render.queue``).

Which pull requests a group holds: its branch names the one it was made for
(``gh-readonly-queue/<base>/pr-<N>-<sha>``), and the commits the queue made name the others
(``Merge pull request #N from ...``, ``title (#N)``). Each number is checked with GitHub (an
open pull request into the group's target branch), at most :data:`MAX_MEMBERS` of them. A finding
about a file is attributed to the group's pull requests whose own files include it (one listing
of each one's files). Pull requests merged by rebasing keep their own commit messages, so a
group may hold some that none of its commits name: their findings are then shown unattributed.

``merge_group.destroyed`` (merged, or removed from the queue): a judging still queued is not
started (the store folds the request into the queued job); a check run still in progress is
concluded ``cancelled``, saying that the queue dropped the group.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from prgate.app.jobrun import JobContext, JobRun
from prgate.app.judging import Verdict, decide, not_judged, prepare, repo_http
from prgate.app.publisher import CREATING, Publisher
from prgate.app.store import Job
from prgate.errors import PrgateError
from prgate.github import checks
from prgate.github.compare import Comparison, compare, pull_numbers
from prgate.github.errors import GitHubError, NotFound
from prgate.github.pulls import PullFile, PullRequest, get_pull, list_files
from prgate.render import markdown
from prgate.render.queue import attribute, queue_summary

log = logging.getLogger("prgate.app")

#: Pull requests of one group checked with GitHub and named in its findings, at most.
MAX_MEMBERS = 10

DROPPED_TITLE = "Not judged: the merge queue dropped this group"


def merge_group_job(ctx: JobContext, job: Job) -> str:
    """Judge the group's head commit and publish the verdict in its check run; or, when the
    queue dropped the group, conclude what prgate left in progress."""
    dropped = job.payload.get("destroyed")
    if isinstance(dropped, str):
        return _dropped(ctx, job, dropped)
    base_sha = job.payload.get("base_sha")
    target = str(job.payload.get("base_ref") or "")
    if not isinstance(base_sha, str) or not base_sha:
        return "ignored"
    started = ctx.clock()
    with repo_http(ctx, job) as http:
        run = JobRun(ctx, job, http)
        publisher = Publisher(run)
        created = publisher.begin(job.sha, pr=None)
        comparison: Comparison | None = None
        try:
            comparison = compare(http, job.repo, base_sha, job.sha)
        except GitHubError:
            raise
        except PrgateError as exc:  # more files than GitHub lists: it cannot pass
            verdict = Verdict(not_judged(exc), None, "", None, str(exc))
        members = _members(run, target, comparison)
        if comparison is not None:
            group = _as_pull(job, base_sha, target, comparison.files, members)
            verdict = decide(ctx, job, prepare(ctx, job, http, group, changed=comparison.files))
        report = attribute(verdict.report, _owners(run, members, comparison))
        title, summary = queue_summary(
            report,
            target=target,
            base_sha=base_sha,
            prs=[p.number for p in members],
            sha=job.sha,
        )
        done = publisher.conclude(
            job.sha,
            pr=None,
            conclusion=report.conclusion.value,
            title=title,
            summary=summary,
            annotations=markdown.check_annotations(report),
            created=created,
        )
        ctx.store.save_check_run(job.repo, job.sha, done.id, in_progress=False, inputs="")
    ctx.observe_conclusion(report.conclusion.value)
    ctx.observe_seconds(ctx.clock() - started)
    return report.conclusion.value


def _as_pull(
    job: Job,
    base_sha: str,
    target: str,
    files: Sequence[PullFile],
    members: Sequence[PullRequest],
) -> PullRequest:
    """The group as the pipeline reads a pull request: the change from its base commit to its
    head, by its target's rules. Its number is the pull request it was made for (its reviews
    are the approvals that count); its author and labels are that pull request's when it is the
    group's only one."""
    own = members[0] if len(members) == 1 and members[0].number == job.pr else None
    return PullRequest(
        number=job.pr,
        state="open",
        head_sha=job.sha,
        head_ref=str(job.payload.get("head_ref") or "merge-queue"),
        head_repo=job.repo,
        base_ref=target,
        base_sha=base_sha,
        base_repo=job.repo,
        author=own.author if own else None,
        labels=own.labels if own else (),
        changed_files=len(files),
    )


def _members(run: JobRun, target: str, comparison: Comparison | None) -> list[PullRequest]:
    """The group's pull requests, in queue order, as GitHub confirms them: open, into
    ``target``. The one the group was made for comes last."""
    own = run.job.pr
    named = pull_numbers(comparison.subjects) if comparison is not None else []
    numbers = [n for n in named if n != own][: MAX_MEMBERS - 1] + ([own] if own > 0 else [])
    out: list[PullRequest] = []
    for number in numbers:
        try:
            pull = get_pull(run.http, run.repo, number)
        except NotFound:
            continue
        if number == own or (pull.state == "open" and pull.base_ref == target):
            out.append(pull)
    return out


def _owners(
    run: JobRun, members: Sequence[PullRequest], comparison: Comparison | None
) -> dict[str, list[int]]:
    """Which of the group's pull requests change each path of the group's change: each one's
    own files (one listing each; a group may hold pull requests its commits do not name, so a
    file is never given to one without that pull request changing it)."""
    if comparison is None:
        return {}
    changed = {f.path for f in comparison.files}
    owners: dict[str, list[int]] = {}
    for pull in members:
        try:
            files = list_files(run.http, run.repo, pull.number, expected=pull.changed_files)
        except GitHubError:
            raise
        except PrgateError:  # more files than GitHub lists: not named in findings
            continue
        for path in sorted({p for f in files for p in (f.path, f.previous_path) if p} & changed):
            owners.setdefault(path, []).append(pull.number)
    return owners


def _dropped(ctx: JobContext, job: Job, why: str) -> str:
    """The queue dropped the group: nothing to do unless its check run is still in progress."""
    entry = ctx.store.check_run(job.repo, job.sha)
    if entry is None or not entry.in_progress:
        return "dropped"  # never started, or concluded with its verdict
    with repo_http(ctx, job) as http:
        run = JobRun(ctx, job, http)
        run_id = Publisher(run).locate(job.sha)
        if run_id is None or run_id == CREATING:  # the create never happened
            ctx.store.save_check_run(job.repo, job.sha, CREATING, in_progress=False)
            return "dropped"
        run.fence()
        checks.complete(
            http,
            job.repo,
            run_id,
            conclusion="cancelled",
            title=DROPPED_TITLE,
            summary=_dropped_summary(why),
        )
        ctx.store.save_check_run(job.repo, job.sha, run_id, in_progress=False, inputs="")
    return "cancelled"


def _dropped_summary(why: str) -> str:
    happened = {
        "merged": "merged this group",
        "dequeued": "removed this group (a pull request left the queue)",
        "invalidated": "removed this group (a group ahead of it failed or left the queue)",
    }.get(why, "removed this group")
    return (
        f"The merge queue {happened} before prgate finished judging it, so this commit was not "
        "judged and this check does not pass. Nothing needs doing here: a new group gets its "
        "own prgate check."
    )


def give_up_group(ctx: JobContext, job: Job, reason: str) -> None:
    """After the last retry: conclude the group's run ``failure`` with ``reason`` (fail
    closed). GitHub unreachable: the run stays in progress, never green."""
    if isinstance(job.payload.get("destroyed"), str):
        return
    try:
        with repo_http(ctx, job) as http:
            run = JobRun(ctx, job, http)
            publisher = Publisher(run)
            report = not_judged(reason)
            title, summary = queue_summary(
                report,
                target=str(job.payload.get("base_ref") or ""),
                base_sha=str(job.payload.get("base_sha") or ""),
                prs=[job.pr] if job.pr > 0 else [],
                sha=job.sha,
            )
            done = publisher.conclude(
                job.sha,
                pr=None,
                conclusion=report.conclusion.value,
                title=title,
                summary=summary,
                annotations=[],
            )
            ctx.store.save_check_run(job.repo, job.sha, done.id, in_progress=False, inputs="")
    except Exception as exc:
        log.warning("could not report the failure of job %s on GitHub: %s", job.id, type(exc))
