"""What a job does: judge a head and publish the verdict (here), push fixes or run the
``/prgate`` commands of comments (``commands``).

An evaluation re-reads the PR from GitHub (events may be stale) and judges its current head for
every open pull request whose head it is, each by its own base's rules (``judging``), with the
same ``evaluate()`` as ``prgate check``; the head's one check run gets the worst verdict
(``publisher`` owns the run) and each pull request's comment its own report. Anything that stops
the judging concludes the check run ``failure`` with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from prgate import coordination
from prgate.app import coordinate, heads
from prgate.app.backtesting import backtest_job, gave_up, queue_backtest, with_pending
from prgate.app.commands import command_job, fix_job
from prgate.app.insights import awaiting_approval, blocking_by_rule
from prgate.app.jobrun import ApiCounter, JobContext, JobRun, fence
from prgate.app.judging import (
    Prepared,
    Verdict,
    decide,
    judge,
    not_judged,
    prepare,
    repo_http,
    slow,
)
from prgate.app.mergegroup import give_up_group, merge_group_job
from prgate.app.publisher import Publisher
from prgate.app.ratewait import wait_for_budget, waited_for_budget
from prgate.app.store import Job, JobKind, LeaseLost, RunRecord
from prgate.github import checks, comments
from prgate.github.errors import GitHubError, RateLimited
from prgate.github.pulls import PullRequest, get_pull, parse_pull, pulls_at
from prgate.github.pullstate import parse_state, same_judgement, state_fields
from prgate.render import markdown

__all__ = ["ApiCounter", "JobContext", "Verdict", "fence", "give_up", "handle", "judge"]

log = logging.getLogger("prgate.app")
_annotations = markdown.check_annotations

MARKER = "<!-- prgate:report -->"
FIX_ACTION = checks.Action(
    label="Apply fixes", description="Push a commit with the fixes", identifier="apply-fixes"
)


def handle(ctx: JobContext, job: Job) -> str:
    """Run ``job``; a short word for the logs. Transient GitHub errors propagate (retried)."""
    ctx.counter.reset()
    wait_for_budget(ctx, job)
    if job.kind is JobKind.EVALUATE:
        return evaluate_job(ctx, job)
    if job.kind is JobKind.FIX:
        return fix_job(ctx, job)
    if job.kind in (JobKind.COMMAND, JobKind.EXPLAIN):  # EXPLAIN: queued by an older prgate
        return command_job(ctx, job)
    if job.kind is JobKind.MERGE_GROUP:
        return merge_group_job(ctx, job)
    if job.kind is JobKind.BACKTEST:
        return backtest_job(ctx, job)
    if job.kind is JobKind.REFRESH:
        return coordinate.refresh_job(ctx, job)
    return "unknown"


#: Tries, and the longest wait for a rate limit (seconds), to report a job given up.
GIVE_UP_TRIES = 3
GIVE_UP_PATIENCE = 10.0


# --- evaluate --------------------------------------------------------------------------------


def evaluate_job(ctx: JobContext, job: Job) -> str:
    """Judge the head of the job's pull request for every open pull request whose head it is,
    each by its own base's rules, and give the head's one run the worst verdict. A head whose
    inputs did not change since its run was concluded is not judged again unless a person
    asked (``/prgate recheck``, "Re-run", a re-requested check suite)."""
    started = ctx.clock()
    with repo_http(ctx, job) as http:
        run = JobRun(ctx, job, http)
        publisher = Publisher(run)
        # Reading and judging take seconds: a head's run is created once, already completed
        # with the verdict (one call instead of two). A head whose verdict is late (an earlier
        # try failed) or slow (the AI reviewer) shows a run in progress meanwhile.
        # (Waiting for the rate limit's reset is not lateness: the wait may have a note.)
        late = run.retried and not waited_for_budget(job)
        early: checks.Started | None = None
        if late and job.sha and ctx.store.check_run(job.repo, job.sha) is None:
            early = publisher.begin(job.sha, pr=job.pr, known=_known_run(job))
        # The event's copy of the pull request is judged at once, and confirmed by the first
        # query of its change (GitHub's pull request now, and the open pull requests whose
        # head is the commit): no call of its own. When it differs, it is read again.
        first, now = _on_event_copy(run)
        if first is not None and now is not None:
            pull = first.pull
            listed: Mapping[int, PullRequest | None] | None = dict.fromkeys(now)
        else:
            first = None
            # The open pull requests whose head is the commit the event named, as GitHub
            # lists them now: when this one is among them, the event is not stale and the list
            # has all a judgement needs; else (it moved on, it was closed, it comes from a
            # fork, which GitHub does not list) it is read again.
            found = pulls_at(http, job.repo, job.sha) if job.sha else None
            pull = (found or {}).get(job.pr) or get_pull(http, job.repo, job.pr)
            listed = found if pull.head_sha == job.sha else None
        sha = pull.head_sha
        # Runs this PR's jobs left in progress on commits it has moved on from (or on its
        # head, once it is closed): concluded, so that no run stays pending.
        publisher.settle_left_behind(pull.number, head=sha if pull.state == "open" else None)
        if pull.state != "open":  # closed or merged: it leaves the others' lists of overlaps
            coordinate.closed(run, pull.number)
        pulls = head_pulls(run, pull, listed)
        if not pulls:
            return "closed"
        known = job.payload.get("check_run_id") if sha == job.sha else None
        known_id = known if isinstance(known, int) else None
        entry = ctx.store.check_run(job.repo, sha)
        created = early if sha == job.sha else None
        if created is None and entry is None and late:
            created = publisher.begin(sha, pr=pull.number, known=known_id)
            entry = ctx.store.check_run(job.repo, sha)
        # Each pull request's files are kept (and the others' comments refreshed) before the
        # inputs are known: a rule that reads the overlaps makes them part of the inputs.
        prepared = [
            coordinate.record(
                run,
                first
                if first is not None and p.number == first.pull.number
                else prepare(ctx, job, http, p),
            )
            for p in pulls
        ]
        inputs = heads.inputs_digest(sha, (p.inputs for p in prepared))
        if (
            not _asked_by_a_person(job)
            and entry is not None
            and not entry.in_progress
            and entry.inputs == inputs
        ):
            return "unchanged"
        if created is None and entry is None and any(slow(ctx, p) for p in prepared):
            created = publisher.begin(sha, pr=pull.number, known=known_id)
        verdicts = [(p.pull, decide(ctx, job, p)) for p in prepared]
        t = ctx.clock()
        publish(run, publisher, sha, verdicts, inputs=inputs, created=created)
        verdicts[0][1].timings["publish"] = ctx.clock() - t
    finished = ctx.clock()
    for i, (judged, verdict) in enumerate(verdicts):
        ctx.store.record_run(
            RunRecord(
                repo=job.repo,
                pr=judged.number,
                sha=sha,
                config_sha=verdict.config_sha,
                conclusion=verdict.report.conclusion.value,
                counts=verdict.report.counts_by_rule(),
                started_at=started,
                finished_at=finished,
                timings=verdict.timings,
                # The job's calls, on the first record (the others shared them).
                api_calls=ctx.counter.value if i == 0 else 0,
                reason=verdict.reason,
                llm=verdict.llm,
                blocking=blocking_by_rule(verdict.report),
                awaiting_approval=awaiting_approval(verdict.report, verdict.config),
            )
        )
    conclusion = heads.worst(v.report.conclusion for _p, v in verdicts)
    ctx.observe_conclusion(conclusion.value)
    ctx.observe_seconds(finished - started)
    return conclusion.value


def _asked_by_a_person(job: Job) -> bool:
    return bool(job.payload.get("force")) or isinstance(job.payload.get("check_run_id"), int)


def _known_run(job: Job) -> int | None:
    """The run a person asked to re-run (a ``check_run`` event), if any."""
    known = job.payload.get("check_run_id")
    return known if isinstance(known, int) else None


def _on_event_copy(run: JobRun) -> tuple[Prepared | None, tuple[int, ...] | None]:
    """The event's pull request read and prepared, with the open pull requests whose head is
    its commit, when GitHub confirms the copy; ``(None, None)`` otherwise (or without one)."""
    job = run.job
    copy = job.payload.get("pull")
    if not isinstance(copy, dict) or not job.sha:
        return None, None
    try:
        hint = parse_pull(copy, job.repo)
    except (KeyError, TypeError, ValueError):
        return None, None
    if hint.number != job.pr or hint.head_sha != job.sha or hint.state != "open":
        return None, None
    extra = state_fields(hint.number, hint.head_sha)
    first = prepare(run.ctx, job, run.http, hint, extra=extra)
    answers = first.source.answers if first.source is not None else {}
    now = parse_state(answers, job.repo, hint.head_sha)
    if now is None or now.heads is None or not same_judgement(hint, now.pull):
        return None, None
    return first, now.heads


def head_pulls(
    run: JobRun, pull: PullRequest, listed: Mapping[int, PullRequest | None] | None = None
) -> list[PullRequest]:
    """The open pull requests whose head is ``pull``'s head: ``pull`` first when it is open,
    then the others by number (each with its own base and files). ``listed``: GitHub's list of
    them, when it was just read."""
    out = [pull] if pull.state == "open" else []
    if listed is None:
        listed = pulls_at(run.http, run.repo, pull.head_sha)
    # GitHub does not list pull requests from forks for a commit: those prgate has seen count.
    seen = run.store.prs_seen_at(run.repo, pull.head_sha)
    for number in sorted(set(listed) | set(seen)):
        if number == pull.number:
            continue
        other = listed.get(number) or get_pull(run.http, run.repo, number)
        if other.state == "open" and other.head_sha == pull.head_sha:
            out.append(other)
    return out


def publish(
    run: JobRun,
    publisher: Publisher,
    sha: str,
    verdicts: list[tuple[PullRequest, Verdict]],
    *,
    inputs: str,
    created: checks.Started | None = None,
) -> None:
    """The head's run gets the worst verdict (a summary per base) and each pull request's
    comment its own report; the ledger keeps ``inputs`` once everything is published."""
    ctx, job = run.ctx, run.job
    fix_commit = sha if ctx.store.is_fix_commit(job.repo, sha) else None
    shown: list[markdown.BaseVerdict] = []
    for pull, verdict in verdicts:
        autofix = verdict.config.autofix if verdict.config is not None else False
        pushable = not pull.is_fork and autofix
        shown.append(markdown.BaseVerdict(pull.number, pull.base_ref, verdict.report, pushable))
    title, summary = markdown.head_summary(shown, sha=sha)
    conclusion = heads.worst(v.report.conclusion for _p, v in verdicts)
    # The button fixes one pull request's change by its own base's rules: offered when the
    # commit is the head of one pull request only.
    only = shown[0] if len(shown) == 1 else None
    offer_fixes = (
        only is not None and bool(only.report.fixes) and only.fixes_pushable and not fix_commit
    )
    started = publisher.conclude(
        sha,
        pr=job.pr,
        conclusion=conclusion.value,
        title=title,
        summary=summary,
        annotations=heads.merged_annotations([_annotations(v.report) for _p, v in verdicts]),
        actions=[FIX_ACTION] if offer_fixes else [],
        created=created,
    )
    for pull, verdict in verdicts:
        # Room is kept for the list of overlaps, which a ``refresh`` job may show anew later.
        parts = markdown.comment_parts(
            verdict.report,
            marker=MARKER,
            check_run_url=started.url,
            fix_commit=fix_commit,
            fixes_pushable=next(b.fixes_pushable for b in shown if b.pr == pull.number),
            sha=sha,
            ai_note=verdict.ai_note,
            reserve=markdown.OVERLAP_RESERVE,
        )
        parts = with_pending(ctx, pull, verdict.source, parts)
        overlaps = ctx.store.pull_overlaps(job.repo, pull.number)
        body = markdown.assemble(parts, overlaps)
        run.fence()
        comment_id = comments.upsert(
            run.http,
            job.repo,
            pull.number,
            body,
            marker=MARKER,
            known_id=ctx.store.comment_id(job.repo, pull.number),
            author=ctx.auth.bot_login(),
        )
        ctx.store.save_comment(job.repo, pull.number, comment_id)
        ctx.store.save_pull_comment(
            job.repo,
            pull.number,
            body=parts.body,
            prompt=parts.prompt,
            overlaps=coordination.digest(overlaps),
        )
        queue_backtest(ctx, job, pull, body)
    ctx.store.save_check_run(job.repo, sha, started.id, in_progress=False, inputs=inputs)


def give_up(ctx: JobContext, job: Job, reason: str) -> None:
    """After the last retry: conclude the head's run ``failure`` with ``reason`` (fail closed),
    and the runs the PR left behind on older commits ``cancelled``."""
    if job.kind is JobKind.MERGE_GROUP:
        give_up_group(ctx, job, reason)
        return
    if job.kind is JobKind.BACKTEST:
        gave_up(ctx, job, reason)
        return
    if job.kind is not JobKind.EVALUATE:
        return
    for attempt in range(GIVE_UP_TRIES):
        try:
            with repo_http(ctx, job) as http:
                run = JobRun(ctx, job, http)
                publisher = Publisher(run)
                pull = get_pull(http, job.repo, job.pr)
                is_open = pull.state == "open"
                publisher.settle_left_behind(pull.number, head=pull.head_sha if is_open else None)
                if is_open:
                    verdict = Verdict(not_judged(reason), None, "", None, reason)
                    # No inputs: the next request judges the head again.
                    publish(run, publisher, pull.head_sha, [(pull, verdict)], inputs="")
            return
        except LeaseLost:
            return  # another worker has the job now
        except RateLimited as exc:  # a short wait is worth it for the last word
            pause = exc.retry_after()
            if pause > GIVE_UP_PATIENCE or attempt + 1 == GIVE_UP_TRIES:
                break
            time.sleep(pause)
        except GitHubError:
            if attempt + 1 < GIVE_UP_TRIES:
                time.sleep(1.0 + attempt)
        except Exception:
            break
    # GitHub is unreachable: the check stays in progress (never green), and the reconciler
    # queues the head again once the run has been in progress for long; that job concludes
    # what this one could not.
    log.warning("could not report the failure of job %s on GitHub", job.id)
