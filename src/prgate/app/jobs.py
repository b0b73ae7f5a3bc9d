"""What a job does: judge a PR and publish the verdict, push fixes, explain a rule.

Each job re-reads the PR from GitHub (events may be stale), judges its current head with the
same ``evaluate()`` as ``prgate check``, and publishes one check run and one comment. Anything
that stops the judging concludes the check run ``failure`` with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prgate.app import heads
from prgate.app.jobrun import ApiCounter, JobContext, JobRun, fence
from prgate.app.publisher import Publisher
from prgate.app.store import Job, JobKind, JobSpec, LeaseLost, RunRecord
from prgate.config import Config
from prgate.config.loader import resolve_config
from prgate.engine import evaluate
from prgate.errors import ConfigError, PrgateError
from prgate.fixes import compute_fixes, fixed_contents
from prgate.github import checks, comments, commits
from prgate.github.errors import GitHubError, RateLimited
from prgate.github.http import Http
from prgate.github.pulls import PullRequest, get_pull, open_pulls_at, permission
from prgate.llm.session import ReviewSession
from prgate.model import Conclusion, Finding, Level, Report
from prgate.render import markdown
from prgate.sources.github import PullSource, load_pull

__all__ = ["ApiCounter", "JobContext", "fence", "give_up", "handle"]

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


#: Tries, and the longest wait for a rate limit (seconds), to report a job given up.
GIVE_UP_TRIES = 3
GIVE_UP_PATIENCE = 10.0


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


@dataclass(frozen=True)
class Prepared:
    """A pull request read and its base's rules loaded, not judged yet: enough to know the
    inputs of its verdict (:class:`heads.PullInputs`) without running a rule."""

    pull: PullRequest
    source: PullSource | None
    config: Config | None
    #: A failing report when the change or the config cannot be judged.
    failed: Report | None
    reason: str | None
    timings: dict[str, float]

    @property
    def inputs(self) -> heads.PullInputs:
        config = _config_sha(self.source) if self.failed is None else f"failed:{self.reason}"
        return heads.PullInputs(
            pr=self.pull.number,
            base=f"{self.pull.base_repo}:{self.pull.base_ref}",
            config=config,
            change=heads.changeset_inputs(self.source.changeset if self.source else None),
        )


def prepare(ctx: JobContext, job: Job, http: Http, pull: PullRequest) -> Prepared:
    """Read ``pull``'s change and its base's config. Errors of the change or config become a
    failing report; GitHub errors propagate so that the job can be retried."""
    timings: dict[str, float] = {}
    t = ctx.clock()
    source: PullSource | None = None
    try:
        source = load_pull(http, job.repo, pull, other_repo=_other_repo(ctx, job))
        timings["fetch"] = ctx.clock() - t
        t = ctx.clock()
        config = resolve_config(source.fetcher, org=job.repo.split("/", 1)[0])
        timings["config"] = ctx.clock() - t
    except GitHubError:
        raise
    except ConfigError as exc:
        report = not_judged(exc, config_error=True)
        return Prepared(pull, source, None, report, str(exc), timings)
    except PrgateError as exc:
        return Prepared(pull, source, None, not_judged(exc), str(exc), timings)
    except Exception as exc:  # a bug must not pass a change
        return Prepared(pull, source, None, *_internal(job, exc), timings)
    return Prepared(pull, source, config, None, None, timings)


def decide(ctx: JobContext, job: Job, prepared: Prepared) -> Verdict:
    """Judge a prepared pull request with the same ``evaluate()`` as ``prgate check``."""
    timings = dict(prepared.timings)
    config_sha = _config_sha(prepared.source)
    if prepared.failed is not None or prepared.config is None or prepared.source is None:
        report = prepared.failed or not_judged("the change could not be read")
        return Verdict(report, None, config_sha, prepared.source, prepared.reason, timings)
    t = ctx.clock()
    session = _review_session(ctx, prepared.config)
    try:
        report = evaluate(prepared.source.changeset, prepared.config, reviewer=session)
    except GitHubError:
        raise
    except PrgateError as exc:
        return Verdict(not_judged(exc), None, config_sha, prepared.source, str(exc), timings)
    except Exception as exc:  # a bug must not pass a change
        failed, reason = _internal(job, exc)
        return Verdict(failed, None, config_sha, prepared.source, reason, timings)
    timings["evaluate"] = ctx.clock() - t
    llm: dict[str, float] = {}
    if session is not None:
        usage = session.usage()
        if usage.requests or usage.cached:
            llm = usage.record()
            ctx.observe_llm(usage)
    return Verdict(report, prepared.config, config_sha, prepared.source, None, timings, llm)


def judge(ctx: JobContext, job: Job, http: Http, pull: PullRequest) -> Verdict:
    """Evaluate ``pull`` at its head (:func:`prepare`, then :func:`decide`)."""
    return decide(ctx, job, prepare(ctx, job, http, pull))


def _internal(job: Job, exc: Exception) -> tuple[Report, str]:
    # The type only: an exception's text may quote the change, which may hold secrets.
    log.error("judging %s#%s failed: %s", job.repo, job.pr, type(exc).__name__)
    reason = f"an internal error occurred ({type(exc).__name__})"
    return not_judged(reason), reason


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
    """Judge the head of the job's pull request for every open pull request whose head it is,
    each by its own base's rules, and give the head's one run the worst verdict. A head whose
    inputs did not change since its run was concluded is not judged again unless a person
    asked (``/prgate recheck``, "Re-run", a re-requested check suite)."""
    started = ctx.clock()
    with _http(ctx, job) as http:
        run = JobRun(ctx, job, http)
        publisher = Publisher(run)
        pull = get_pull(http, job.repo, job.pr)
        sha = pull.head_sha
        # Runs this PR's jobs left in progress on commits it has moved on from (or on its
        # head, once it is closed): concluded, so that no run stays pending.
        publisher.settle_left_behind(pull.number, head=sha if pull.state == "open" else None)
        pulls = head_pulls(run, pull)
        if not pulls:
            return "closed"
        known = job.payload.get("check_run_id") if sha == job.sha else None
        known_id = known if isinstance(known, int) else None
        entry = ctx.store.check_run(job.repo, sha)
        created: checks.Started | None = None
        if entry is None:  # a head never judged: its run shows progress while it is read
            created = publisher.begin(sha, pr=pull.number, known=known_id)
        prepared = [prepare(ctx, job, http, p) for p in pulls]
        inputs = heads.inputs_digest(sha, (p.inputs for p in prepared))
        if (
            not _asked_by_a_person(job)
            and entry is not None
            and not entry.in_progress
            and entry.inputs == inputs
        ):
            return "unchanged"
        if created is None:
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
            )
        )
    conclusion = heads.worst(v.report.conclusion for _p, v in verdicts)
    ctx.observe_conclusion(conclusion.value)
    ctx.observe_seconds(finished - started)
    return conclusion.value


def _asked_by_a_person(job: Job) -> bool:
    return bool(job.payload.get("force")) or isinstance(job.payload.get("check_run_id"), int)


def head_pulls(run: JobRun, pull: PullRequest) -> list[PullRequest]:
    """The open pull requests whose head is ``pull``'s head: ``pull`` first when it is open,
    then the others by number (each read in full: its base and its files are its own)."""
    out = [pull] if pull.state == "open" else []
    for number in open_pulls_at(run.http, run.repo, pull.head_sha):
        if number == pull.number:
            continue
        other = get_pull(run.http, run.repo, number)
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
        body = markdown.comment(
            verdict.report,
            marker=MARKER,
            check_run_url=started.url,
            fix_commit=fix_commit,
            fixes_pushable=next(b.fixes_pushable for b in shown if b.pr == pull.number),
            sha=sha,
        )
        run.fence()
        comment_id = comments.upsert(
            run.http,
            job.repo,
            pull.number,
            body,
            marker=MARKER,
            known_id=ctx.store.comment_id(job.repo, pull.number),
        )
        ctx.store.save_comment(job.repo, pull.number, comment_id)
    ctx.store.save_check_run(job.repo, sha, started.id, in_progress=False, inputs=inputs)


def give_up(ctx: JobContext, job: Job, reason: str) -> None:
    """After the last retry: conclude the head's run ``failure`` with ``reason`` (fail closed),
    and the runs the PR left behind on older commits ``cancelled``."""
    if job.kind is not JobKind.EVALUATE:
        return
    for attempt in range(GIVE_UP_TRIES):
        try:
            with _http(ctx, job) as http:
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
