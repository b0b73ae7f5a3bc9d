"""What a job does: judge a PR and publish the verdict, push fixes, explain a rule.

Each job re-reads the PR from GitHub (events may be stale), judges its current head with the
same ``evaluate()`` as ``prgate check``, and publishes one check run and one comment. Anything
that stops the judging concludes the check run ``failure`` with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from prgate.app.store import Job, JobKind, JobSpec, LeaseLost, RunRecord, Store
from prgate.checks import declared_reads
from prgate.config import Config
from prgate.config.loader import resolve_config
from prgate.engine import evaluate
from prgate.errors import ConfigError, PrgateError
from prgate.fixes import compute_fixes, fixed_contents
from prgate.github import checks, comments, commits
from prgate.github.auth import AppAuth
from prgate.github.errors import GitHubError, RateLimited
from prgate.github.http import Http
from prgate.github.pulls import PullRequest, get_pull, permission
from prgate.llm.session import LlmUsage, ReviewSession, Service
from prgate.model import Conclusion, Finding, Level, Report
from prgate.render import markdown
from prgate.sources.approvals import with_approvals
from prgate.sources.github import PullSource, load_pull

log = logging.getLogger("prgate.app")
_annotations = markdown.check_annotations

MARKER = "<!-- prgate:report -->"
FIX_ACTION = checks.Action(
    label="Apply fixes", description="Push a commit with the fixes", identifier="apply-fixes"
)
#: Roles allowed to ask for ``/prgate fix`` besides the PR's author.
WRITERS = frozenset({"admin", "maintain", "write"})
PROTECTED_PREFIX = ".github/workflows/"
FIX_MESSAGE = (
    "prgate: apply automatic fixes\n\n"
    "Automatic fixes for {rules},\n"
    "computed on {parent}.\n\n"
    "Requested by {requester} through prgate."
)


@dataclass
class ApiCounter:
    """Counts GitHub calls per worker thread (one job at a time per thread)."""

    local: threading.local = field(default_factory=threading.local)

    def add(self) -> None:
        self.local.n = getattr(self.local, "n", 0) + 1

    def reset(self) -> None:
        self.local.n = 0

    @property
    def value(self) -> int:
        return int(getattr(self.local, "n", 0))


@dataclass
class JobContext:
    store: Store
    auth: AppAuth
    app_id: str
    enqueue: Callable[[JobSpec], None]
    counter: ApiCounter = field(default_factory=ApiCounter)
    observe_conclusion: Callable[[str], None] = lambda _c: None
    observe_seconds: Callable[[float], None] = lambda _s: None
    clock: Callable[[], float] = time.time
    #: The AI service for configs with ``llm: {enabled: true}``; ``None`` when no key is set.
    reviewer: Service | None = None
    observe_llm: Callable[[LlmUsage], None] = lambda _u: None
    #: Whether this worker still holds a job (the pool's view, which also knows the jobs a
    #: drain released); without it, the store is asked.
    still_ours: Callable[[int], bool] | None = None


class Skip(Exception):
    """The job has nothing to do (PR closed, head moved on); not an error."""


def handle(ctx: JobContext, job: Job) -> str:
    """Run ``job``; a short word for the logs. Transient GitHub errors propagate (retried)."""
    ctx.counter.reset()
    if job.kind is JobKind.EVALUATE:
        return evaluate_job(ctx, job)
    if job.kind is JobKind.FIX:
        return fix_job(ctx, job)
    if job.kind is JobKind.EXPLAIN:
        return explain_job(ctx, job)
    return "unknown"


def fence(ctx: JobContext, job: Job) -> None:
    """Raise :class:`LeaseLost` unless this worker still holds ``job`` (called right before a
    write to GitHub, so that a job taken over by another worker never publishes twice)."""
    if ctx.still_ours is not None:
        ours = ctx.still_ours(job.id)
    else:
        ours = job.owner is None or ctx.store.owns(job.id, owner=job.owner)
    if not ours:
        raise LeaseLost(f"job {job.id} is no longer this worker's to publish")


#: Tries, and the longest wait for a rate limit (seconds), to report a job given up.
GIVE_UP_TRIES = 3
GIVE_UP_PATIENCE = 10.0
#: Kept as a check run's id while it is being created: a create whose answer is lost leaves it,
#: and whoever reads it next asks GitHub whether the run exists (GitHub's ids start at 1).
CREATING = 0


def existing_run(ctx: JobContext, job: Job, *, http: Http, sha: str, look: bool) -> int | None:
    """The ``prgate`` check run already made for ``sha``: the store's id first, then GitHub's
    list when ``look`` or when an earlier create's answer never came (of this job or another)."""
    run_id = ctx.store.check_run_id(job.repo, sha)
    if run_id == CREATING or (run_id is None and look):
        run_id = checks.find(http, job.repo, head_sha=sha, app_id=ctx.app_id)
    return run_id


def start_run(
    ctx: JobContext, job: Job, *, http: Http, sha: str, run_id: int | None
) -> checks.Started:
    """Put the run back in progress, or create it (marked as being created in the store
    first, so that a create whose answer is lost is found again rather than repeated)."""
    fence(ctx, job)
    if run_id is None:
        ctx.store.save_check_run(job.repo, sha, CREATING)
    run = checks.start(http, job.repo, head_sha=sha, run_id=run_id)
    ctx.store.save_check_run(job.repo, sha, run.id)
    return run


def annotations_for(
    ctx: JobContext, job: Job, http: Http, sha: str, run: checks.Started, report: Report
) -> tuple[checks.Started, Sequence[Mapping[str, Any]]]:
    """The run to conclude and the annotations to send it. A run judged before gets only what
    it lacks; one holding an annotation this verdict no longer makes is closed as replaced
    (``cancelled``, so it never passes a required check) and a new run takes the verdict."""
    wanted = _annotations(report)
    if run.annotations == 0:
        return run, wanted
    posted = checks.posted_annotations(http, job.repo, run.id, run.annotations)
    todo = checks.still_to_post(posted, wanted)
    if todo is not None:
        return run, todo
    fence(ctx, job)
    ctx.store.save_check_run(job.repo, sha, CREATING)
    fresh = checks.start(http, job.repo, head_sha=sha, run_id=None)
    ctx.store.save_check_run(job.repo, sha, fresh.id)
    checks.complete(
        http,
        job.repo,
        run.id,
        conclusion="cancelled",
        title="Replaced by a newer prgate check",
        summary="prgate judged this commit again; the newer check run has the verdict.",
    )
    return fresh, wanted


def _http(ctx: JobContext, job: Job) -> Http:
    return ctx.auth.repo_http(job.installation_id, job.repo)


def _other_repo(ctx: JobContext, job: Job) -> Callable[[str], Http]:
    def open_other(repo: str) -> Http:
        return ctx.auth.repo_http(job.installation_id, repo)

    return open_other


# --- judging ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    report: Report
    config: Config | None
    config_sha: str
    source: PullSource | None
    reason: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: What the AI reviewer used (the run record's ``llm``); empty when it did not run.
    llm: dict[str, float] = field(default_factory=dict)


def judge(ctx: JobContext, job: Job, http: Http, pull: PullRequest) -> Verdict:
    """Evaluate ``pull`` at its head. Errors of the change or config become a failing report;
    GitHub errors propagate so that the job can be retried."""
    timings: dict[str, float] = {}
    t = ctx.clock()
    source: PullSource | None = None
    config: Config | None = None
    try:
        source = load_pull(http, job.repo, pull, other_repo=_other_repo(ctx, job))
        timings["fetch"] = ctx.clock() - t
        t = ctx.clock()
        config = resolve_config(source.fetcher, org=job.repo.split("/", 1)[0])
        # What the rules read besides the changed files, fetched before judging.
        changeset = source.ready(declared_reads(config.rules))
        timings["config"] = ctx.clock() - t
        t = ctx.clock()
        changeset = with_approvals(http, job.repo, pull, changeset, config.rules)
        source = replace(source, changeset=changeset)
        timings["approvals"] = ctx.clock() - t
        t = ctx.clock()
        session = _review_session(ctx, config)
        report = evaluate(changeset, config, reviewer=session)
        timings["evaluate"] = ctx.clock() - t
    except GitHubError:
        raise
    except ConfigError as exc:
        return Verdict(
            report=not_judged(exc, config_error=True),
            config=None,
            config_sha=_config_sha(source),
            source=source,
            reason=str(exc),
            timings=timings,
        )
    except PrgateError as exc:
        return Verdict(not_judged(exc), None, _config_sha(source), source, str(exc), timings)
    except Exception as exc:  # a bug must not pass a change
        # The type only: an exception's text may quote the change, which may hold secrets.
        log.error("judging %s#%s failed: %s", job.repo, job.pr, type(exc).__name__)
        reason = f"an internal error occurred ({type(exc).__name__})"
        return Verdict(not_judged(reason), None, _config_sha(source), source, reason, timings)
    llm: dict[str, float] = {}
    if session is not None:
        usage = session.usage()
        if usage.requests or usage.cached:
            llm = usage.record()
            ctx.observe_llm(usage)
    return Verdict(report, config, _config_sha(source), source, None, timings, llm)


def _review_session(ctx: JobContext, config: Config) -> ReviewSession | None:
    """The AI reviewer for this job, when the base's config enables it and the App has a key."""
    if ctx.reviewer is None or not config.llm:
        return None
    if not any(r.enabled and r.check == "llm" for r in config.rules):
        return None
    return ReviewSession(ctx.reviewer, settings=config.llm_settings, cache=ctx.store)


def not_judged(why: PrgateError | str, *, config_error: bool = False) -> Report:
    """A failing report that says why the change could not be judged."""
    if isinstance(why, ConfigError):
        finding = Finding(
            rule="config/invalid",
            level=Level.ERROR,
            path=None,
            line=None,
            end_line=None,
            title="prgate's rules for this repository cannot be used",
            message=(
                f"The config could not be loaded, so this change was not judged. "
                f"{why.file or 'The config'}"
                + (f", line {why.line}" if why.line is not None else "")
                + f": {why.reason}"
            ),
            fix=why.hint
            or "Fix the config file on the base branch (run `prgate config validate` locally).",
        )
    else:
        finding = Finding(
            rule="prgate/not-judged",
            level=Level.ERROR,
            path=None,
            line=None,
            end_line=None,
            title="prgate could not judge this change",
            message=f"The change was not judged, so it cannot pass yet: {why}.",
            fix="Push again or comment `/prgate recheck`. If it keeps happening, ask whoever "
            "runs prgate for your team.",
        )
    return Report(conclusion=Conclusion.FAILURE, findings=(finding,))


def _config_sha(source: PullSource | None) -> str:
    if source is None:
        return ""
    digest = hashlib.sha256()
    for (repo, path), data in sorted(
        source.fetcher.cache.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        if data is None:
            continue
        digest.update(f"{repo or ''}:{path}:{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()[:40]


# --- evaluate --------------------------------------------------------------------------------


def evaluate_job(ctx: JobContext, job: Job) -> str:
    started = ctx.clock()
    with _http(ctx, job) as http:
        pull = get_pull(http, job.repo, job.pr)
        if pull.state != "open":
            return "closed"
        sha = pull.head_sha
        known = job.payload.get("check_run_id") if sha == job.sha else None
        # An earlier attempt may have created the run before failing: never create two.
        run_id = (
            int(known)
            if isinstance(known, int)
            else existing_run(
                ctx, job, http=http, sha=sha, look=job.attempts > 1 or job.deferrals > 0
            )
        )
        run = start_run(ctx, job, http=http, sha=sha, run_id=run_id)
        verdict = judge(ctx, job, http, pull)
        t = ctx.clock()
        fence(ctx, job)
        publish(ctx, job, http, pull, verdict, run=run)
        verdict.timings["publish"] = ctx.clock() - t
    finished = ctx.clock()
    ctx.store.record_run(
        RunRecord(
            repo=job.repo,
            pr=job.pr,
            sha=sha,
            config_sha=verdict.config_sha,
            conclusion=verdict.report.conclusion.value,
            counts=verdict.report.counts_by_rule(),
            started_at=started,
            finished_at=finished,
            timings=verdict.timings,
            api_calls=ctx.counter.value,
            reason=verdict.reason,
            llm=verdict.llm,
        )
    )
    ctx.observe_conclusion(verdict.report.conclusion.value)
    ctx.observe_seconds(finished - started)
    return verdict.report.conclusion.value


def publish(
    ctx: JobContext,
    job: Job,
    http: Http,
    pull: PullRequest,
    verdict: Verdict,
    *,
    run: checks.Started,
) -> None:
    report = verdict.report
    sha = pull.head_sha
    run, annotations = annotations_for(ctx, job, http, sha, run, report)
    fix_commit = sha if ctx.store.is_fix_commit(job.repo, sha) else None
    autofix = verdict.config.autofix if verdict.config is not None else False
    pushable = not pull.is_fork and autofix
    offer_fixes = bool(report.fixes) and pushable and fix_commit is None
    title, summary = markdown.check_summary(report, fixes_pushable=pushable, sha=sha)
    checks.complete(
        http,
        job.repo,
        run.id,
        conclusion=report.conclusion.value,
        title=title,
        summary=summary,
        annotations=annotations,
        actions=[FIX_ACTION] if offer_fixes else [],
    )
    body = markdown.comment(
        report,
        marker=MARKER,
        check_run_url=run.url,
        fix_commit=fix_commit,
        fixes_pushable=pushable,
        sha=sha,
    )
    comment_id = comments.upsert(
        http,
        job.repo,
        pull.number,
        body,
        marker=MARKER,
        known_id=ctx.store.comment_id(job.repo, pull.number),
    )
    ctx.store.save_comment(job.repo, pull.number, comment_id)


def give_up(ctx: JobContext, job: Job, reason: str) -> None:
    """After the last retry: conclude the check run ``failure`` with ``reason`` (fail closed)."""
    if job.kind is not JobKind.EVALUATE:
        return
    for attempt in range(GIVE_UP_TRIES):
        try:
            with _http(ctx, job) as http:
                pull = get_pull(http, job.repo, job.pr)
                sha = pull.head_sha
                run_id = existing_run(ctx, job, http=http, sha=sha, look=True)
                run = start_run(ctx, job, http=http, sha=sha, run_id=run_id)
                verdict = Verdict(not_judged(reason), None, "", None, reason)
                fence(ctx, job)
                publish(ctx, job, http, pull, verdict, run=run)
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
    # queues the head again once the run has been in progress for long.
    log.warning("could not report the failure of job %s on GitHub", job.id)


# --- fixes -----------------------------------------------------------------------------------


def fix_job(ctx: JobContext, job: Job) -> str:
    requester = str(job.payload.get("requested_by") or "")
    with _http(ctx, job) as http:
        pull = get_pull(http, job.repo, job.pr)
        if pull.state != "open":
            return "closed"
        if (
            requester != (pull.author or "")
            and permission(http, job.repo, requester) not in WRITERS
        ):
            return "refused"
        if pull.is_fork:
            return "fork"  # the comment already explains how to apply the fixes locally
        last = ctx.store.last_run(job.repo, job.pr)
        target = job.sha or (last.sha if last is not None else pull.head_sha)
        if pull.head_sha != target and _ours(http, job, pull.head_sha, parent=target):
            # An earlier attempt pushed the fixes, and the answer to the push was lost.
            ctx.store.save_fix_commit(job.repo, job.pr, commit=pull.head_sha, parent=target)
            ctx.enqueue(
                JobSpec(JobKind.EVALUATE, job.repo, job.installation_id, job.pr, pull.head_sha)
            )
            return "pushed"
        if pull.head_sha != target:
            ctx.enqueue(
                JobSpec(JobKind.EVALUATE, job.repo, job.installation_id, job.pr, pull.head_sha)
            )
            return "moved"
        if ctx.store.is_fix_commit(job.repo, target):
            return "loop-guard"
        verdict = judge(ctx, job, http, pull)
        if verdict.config is None or verdict.source is None or not verdict.config.autofix:
            return "no-fixes"
        fixes = [
            f
            for f in compute_fixes(verdict.source.changeset, verdict.config, verdict.report)
            if not f.path.startswith(PROTECTED_PREFIX)
        ]
        if not fixes:
            return "no-fixes"
        rules = sorted({r for f in fixes for r in f.rules})
        message = FIX_MESSAGE.format(
            rules=", ".join(rules), parent=target, requester=_login(requester)
        )
        fence(ctx, job)
        try:
            new_sha = commits.push_files(
                http,
                job.repo,
                branch=pull.head_ref,
                parent=target,
                files=fixed_contents(fixes),
                message=message,
            )
        except commits.BranchMoved:
            moved = get_pull(http, job.repo, job.pr)
            ctx.enqueue(
                JobSpec(JobKind.EVALUATE, job.repo, job.installation_id, job.pr, moved.head_sha)
            )
            return "moved"
    ctx.store.save_fix_commit(job.repo, job.pr, commit=new_sha, parent=target)
    ctx.enqueue(JobSpec(JobKind.EVALUATE, job.repo, job.installation_id, job.pr, new_sha))
    return "pushed"


def _ours(http: Http, job: Job, sha: str, *, parent: str) -> bool:
    """Whether ``sha`` is a fix commit prgate made on ``parent`` (only asked on a retry)."""
    if job.attempts <= 1 and job.deferrals == 0:
        return False
    parents, message = commits.commit_of(http, job.repo, sha)
    return parents == (parent,) and message.startswith(FIX_MESSAGE.split("\n", 1)[0])


def _login(login: str) -> str:
    clean = "".join(ch for ch in login if ch.isalnum() or ch in "-[]")[:60]
    return clean or "someone"


# --- explain ---------------------------------------------------------------------------------


def explain_job(ctx: JobContext, job: Job) -> str:
    wanted = str(job.payload.get("rule") or "")
    with _http(ctx, job) as http:
        pull = get_pull(http, job.repo, job.pr)
        verdict_config: Config | None
        try:
            from prgate.sources.github import GitHubConfigFetcher

            fetcher = GitHubConfigFetcher(
                http=http, repo=job.repo, base_sha=pull.base_sha, other_repo=_other_repo(ctx, job)
            )
            verdict_config = resolve_config(fetcher, org=job.repo.split("/", 1)[0])
        except GitHubError:
            raise
        except PrgateError as exc:
            comments.post(http, job.repo, job.pr, _explain_error(str(exc)))
            return "config-error"
        rule = verdict_config.rule(wanted) if wanted else None
        fence(ctx, job)
        comments.post(http, job.repo, job.pr, explain_text(wanted, rule, verdict_config))
    return "explained"


def explain_text(wanted: str, rule: Any, config: Config) -> str:
    esc = markdown.md_escape
    if rule is None:
        known = ", ".join(f"`{r.id}`" for r in config.rules if r.enabled)
        return (
            f"prgate has no rule called {esc(wanted) or '(none given)'} in this repository. "
            f"Write `/prgate explain RULE` with one of: {known}."
        )
    return (
        f"**{esc(rule.id)}: {esc(rule.title)}** (level: {esc(rule.level)})\n\n"
        f"**Why it matters:** {esc(rule.why, 4000)}\n\n"
        f"**What to do:** {esc(rule.fix, 4000)}"
    )


def _explain_error(reason: str) -> str:
    return (
        "prgate cannot explain rules here because this repository's config cannot be loaded: "
        + markdown.md_escape(reason, 2000)
    )
