"""The backtest job: how the rules a pull request proposes would have judged the pull requests
already merged into its base branch, shown in that pull request's comment.

An evaluation that judges a pull request changing prgate's config or packs shows a pending
section in its comment and queues this job for the head (a job of its own, so the check run is
never delayed by it; jobs are coalesced per pull request and head, and one whose pull request
has moved on does nothing). The job:

1. reads the pull request (one call) and its base's config (as the evaluation does), then the
   proposed config at its head (``proposed``: untrusted, it judges nothing that counts);
2. lists the last merged pull requests of the base branch (one call per 100 closed ones, at
   most :data:`LIST_PAGES`);
3. replays each, newest first, with the same source and ``evaluate()`` as the App's own judging
   (three to five calls each: its files, then the batched queries of their contents and of
   what the rules read), by the base's rules of today and by the proposed ones, keeping only
   their verdicts; every :data:`RECHECK_EVERY` of them it looks whether the pull request moved
   on (one call), and stops if so;
4. writes the section into the comment (two calls: read it, edit it).

It stops starting another pull request when the next one could take it past its budget of
calls (``PRGATE_BACKTEST_MAX_CALLS``), and then says so and shows what it replayed.
"""

from __future__ import annotations

import logging

from prgate.app.jobrun import JobContext, fence
from prgate.app.judging import other_repo, repo_http
from prgate.app.proposed import load_proposed, proposes_rules
from prgate.app.store import Job, JobKind, JobSpec
from prgate.backtest import prcomment
from prgate.backtest.compare import Comparison
from prgate.backtest.history import PastChange
from prgate.backtest.prcomment import Outcome
from prgate.backtest.replay import Replayed, Verdict, verdict_of
from prgate.checks import declared_reads
from prgate.config import Config
from prgate.config.loader import resolve_config
from prgate.engine import evaluate
from prgate.errors import ConfigError, PrgateError
from prgate.github import comments
from prgate.github.errors import GitHubError, NotFound, RateLimited, Unprocessable
from prgate.github.http import Http
from prgate.github.merged import MergedPull, merged_pulls
from prgate.github.pulls import PullRequest, get_pull
from prgate.model import ChangeSet, Conclusion
from prgate.render.markdown import OVERLAP_RESERVE, CommentParts, assemble
from prgate.sources.github import GitHubConfigFetcher, PullSource, load_pull

log = logging.getLogger("prgate.app")

#: Pages of closed pull requests read at most to find the merged ones (100 each).
LIST_PAGES = 2
#: Calls one past pull request is expected to take: its files, the sizes and the texts of its
#: contents, what its rules read besides (tools' settings, the head's tree); measured with
#: the default packs (``bench/bench_backtest_app.py``).
PER_PULL = 5
#: Calls kept for writing the section (read the comment, edit it).
RESERVE = 2
#: Past pull requests replayed between two looks at whether the pull request moved on (one
#: call): while this job runs, the pull request's other jobs wait.
RECHECK_EVERY = 10


class MovedOn(Exception):
    """The pull request has a new head (or was closed): its backtest is no longer wanted."""


def _moved_on(http: Http, job: Job, pull: PullRequest) -> bool:
    now = get_pull(http, job.repo, job.pr)
    return now.state != "open" or now.head_sha != pull.head_sha


def backtest_job(ctx: JobContext, job: Job) -> str:
    """Work out the backtest of the job's head and put it in the pull request's comment."""
    with repo_http(ctx, job) as http:
        pull = get_pull(http, job.repo, job.pr)
        if pull.state != "open" or (job.sha and pull.head_sha != job.sha):
            return "superseded"
        try:
            outcome = _outcome(ctx, job, http, pull)
        except MovedOn:
            return "superseded"
        return _write(ctx, job, http, pull, prcomment.section(pull.head_sha, outcome))


def _outcome(ctx: JobContext, job: Job, http: Http, pull: PullRequest) -> Outcome:
    limits = ctx.backtest
    org = job.repo.split("/", 1)[0]
    base = Outcome(base_ref=pull.base_ref, asked=limits.prs, max_calls=limits.max_calls)
    fetcher = GitHubConfigFetcher(
        http=http, repo=job.repo, base_sha=pull.base_sha, other_repo=other_repo(ctx, job)
    )
    try:
        current = resolve_config(fetcher, org=org)
    except GitHubError:
        raise  # tried again, as the evaluation would be
    except PrgateError as exc:
        return _with(base, ctx, "the rules on the base branch", exc)
    try:
        proposed = load_proposed(http, job.repo, pull.head_sha, fetcher, org=org)
    except GitHubError:
        raise
    except PrgateError as exc:
        return _with(base, ctx, "the rules this pull request proposes", exc)
    listed = merged_pulls(http, job.repo, pull.base_ref, last=limits.prs, max_pages=LIST_PAGES)
    comparison = Comparison(tip=pull.base_sha)
    comparison.mention([r.id for r in proposed.rules if r.enabled])
    stopped: str | None = None
    for i, past in enumerate(listed):
        if i and i % RECHECK_EVERY == 0 and _moved_on(http, job, pull):
            raise MovedOn  # a newer head's evaluation waits for this pull request's turn
        if ctx.counter.value + PER_PULL + RESERVE > limits.max_calls:
            stopped = _over_budget(i, len(listed), limits.max_calls)
            break
        try:
            comparison.add(replay_pull(ctx, job, http, past, current, proposed))
        except RateLimited:
            stopped = (
                f"GitHub's rate limit stopped the backtest after {i} of the {len(listed)} "
                "merged pull requests; the figures are for those."
            )
            break
    return Outcome(
        base_ref=pull.base_ref,
        asked=limits.prs,
        comparison=comparison,
        listed=len(listed),
        stopped=stopped,
        calls=ctx.counter.value + RESERVE,
        max_calls=limits.max_calls,
    )


def replay_pull(
    ctx: JobContext, job: Job, http: Http, past: MergedPull, current: Config, proposed: Config
) -> Replayed:
    """One merged pull request read as the App reads a pull request, judged by both configs
    with the same ``evaluate()`` (without the AI reviewer, which never runs here)."""
    change = PastChange(
        base=past.pull.base_sha, head=past.pull.head_sha, title=past.title, number=past.pull.number
    )
    try:
        source = load_pull(http, job.repo, past.pull, max_fetch_bytes=ctx.max_fetch_bytes)
        changeset = source.ready(declared_reads((*current.rules, *proposed.rules)))
    except (NotFound, Unprocessable) as exc:  # its commits are gone: it cannot be judged
        failed = _not_judged(f"GitHub could not show it ({exc})")
        return Replayed(change=change, current=failed, proposed=failed)
    except GitHubError:
        raise
    except PrgateError as exc:  # as the App's own judging: not judged, so it does not pass
        failed = _not_judged(str(exc))
        return Replayed(change=change, current=failed, proposed=failed)
    return Replayed(
        change=change,
        current=_judge(changeset, current),
        proposed=_judge(changeset, proposed),
    )


def _judge(changeset: ChangeSet, config: Config) -> Verdict:
    try:
        return verdict_of(evaluate(changeset, config))
    except GitHubError:
        raise
    except PrgateError as exc:
        return _not_judged(str(exc))


def _not_judged(reason: str) -> Verdict:
    return Verdict(Conclusion.FAILURE, (), (), problem=reason)


def _with(outcome: Outcome, ctx: JobContext, what: str, exc: PrgateError) -> Outcome:
    """No figures: ``what`` could not be loaded, for the reason ``exc`` gives."""
    return Outcome(
        base_ref=outcome.base_ref,
        asked=outcome.asked,
        problem=f"There is no backtest: {what} could not be loaded.",
        detail=exc.describe() if isinstance(exc, ConfigError) else str(exc),
        calls=ctx.counter.value + RESERVE,
        max_calls=outcome.max_calls,
    )


def _over_budget(done: int, listed: int, max_calls: int) -> str:
    return (
        f"prgate replayed {done} of the {listed} merged pull requests it found, then stopped: a "
        f"backtest makes at most {max_calls} calls to GitHub (`PRGATE_BACKTEST_MAX_CALLS`), and "
        f"the next pull request could have gone past that. The figures are for those {done}."
    )


def _write(ctx: JobContext, job: Job, http: Http, pull: PullRequest, part: str) -> str:
    """Put ``part`` in place of the comment's section for the head; ``"superseded"`` when the
    comment shows another commit by now (a newer evaluation rewrote it)."""
    comment_id = ctx.store.comment_id(job.repo, pull.number)
    if comment_id is None:
        return "no_comment"
    body = comments.body_of(http, job.repo, pull.number, comment_id)
    if body is None:
        return "no_comment"
    new = prcomment.replace_section(body, pull.head_sha, part)
    if new is None:
        return "superseded"
    if len(new) >= comments.COMMENT_LIMIT:
        short = prcomment.section(
            pull.head_sha,
            Outcome(
                base_ref=pull.base_ref,
                asked=ctx.backtest.prs,
                problem="The backtest's report does not fit in this comment.",
            ),
        )
        new = prcomment.replace_section(body, pull.head_sha, short) or body
    fence(ctx, job)
    comments.edit(http, job.repo, comment_id, new)
    _keep(ctx, job, pull, new)
    return "backtested"


def _keep(ctx: JobContext, job: Job, pull: PullRequest, shown: str) -> None:
    """The comment's kept parts take the section as now shown, so that a new list of
    overlapping pull requests (``coordinate``) shows the comment again with it."""
    kept = ctx.store.pull_record(job.repo, pull.number)
    start = shown.find(prcomment.begin(pull.head_sha))
    end = shown.find(prcomment.END, start) if start >= 0 else -1
    if kept is None or not kept.comment_body or end < 0:
        return
    body = prcomment.replace_section(
        kept.comment_body, pull.head_sha, shown[start : end + len(prcomment.END)]
    )
    if body is not None:
        ctx.store.save_pull_comment(
            job.repo,
            pull.number,
            body=body,
            prompt=kept.comment_prompt,
            overlaps=kept.comment_overlaps,
        )


# --- what an evaluation does about it ---------------------------------------------------------


def with_pending(
    ctx: JobContext, pull: PullRequest, source: PullSource | None, parts: CommentParts
) -> CommentParts:
    """The comment ``parts`` of ``pull``'s evaluation, with the pending backtest section under
    the report when the pull request changes prgate's rules (and the backtest is on); else
    ``parts`` as they are. The room the list of overlapping pull requests may take is kept."""
    if ctx.backtest.prs <= 0 or source is None or not proposes_rules(source.files):
        return parts
    size = len(assemble(parts)) + OVERLAP_RESERVE
    if size + prcomment.SECTION_LIMIT + 2 >= comments.COMMENT_LIMIT:
        section = prcomment.no_room(pull.head_sha)
    else:
        section = prcomment.pending(pull.head_sha)
    return CommentParts(prcomment.attach(parts.body, section), parts.prompt)


def queue_backtest(ctx: JobContext, job: Job, pull: PullRequest, body: str) -> None:
    """Queue the backtest of ``pull``'s head when its comment ``body`` waits for one."""
    if prcomment.pending(pull.head_sha) in body:
        ctx.enqueue(
            JobSpec(JobKind.BACKTEST, job.repo, job.installation_id, pull.number, pull.head_sha)
        )


def gave_up(ctx: JobContext, job: Job, reason: str) -> None:
    """After the last retry: the section says the backtest could not be worked out (the pull
    request's own verdict does not depend on it). Nothing more when GitHub cannot be reached."""
    try:
        with repo_http(ctx, job) as http:
            pull = get_pull(http, job.repo, job.pr)
            if pull.state != "open" or pull.head_sha != job.sha:
                return
            outcome = Outcome(
                base_ref=pull.base_ref,
                asked=ctx.backtest.prs,
                problem="The backtest could not be worked out. Comment `/prgate recheck` to "
                "try again.",
                detail=reason,
            )
            _write(ctx, job, http, pull, prcomment.section(pull.head_sha, outcome))
    except Exception as exc:  # the pending section stays; the verdict is unaffected
        log.warning(
            "could not report the failed backtest of %s#%s: %s",
            job.repo,
            job.pr,
            type(exc).__name__,
        )
