"""Judging one pull request: read its change and its base's rules, then evaluate.

:func:`prepare` reads (GitHub errors propagate, so that the job is retried); :func:`decide`
judges with the same ``evaluate()`` as ``prgate check``. Anything of the change or the config
that stops the judging becomes a failing report that says why.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from prgate.app import heads
from prgate.app.aitrust import AiAccess, ai_access, ai_note
from prgate.app.jobrun import JobContext
from prgate.app.store import Job
from prgate.checks import declared_reads
from prgate.config import Config
from prgate.config.loader import resolve_config
from prgate.engine import evaluate
from prgate.errors import ConfigError, PrgateError
from prgate.github.errors import GitHubError
from prgate.github.http import Http
from prgate.github.pulls import PullFile, PullRequest
from prgate.llm.budget import LedgerBudget, utc_day
from prgate.llm.cache import app_scope
from prgate.llm.session import ReviewSession
from prgate.model import Conclusion, Finding, Level, Report
from prgate.sources.approvals import with_approvals
from prgate.sources.fetchplan import TOO_BIG_FIX, TooBigToJudge
from prgate.sources.github import PullSource, load_pull
from prgate.sources.headtree import read_head_tree, rules_want_tree

log = logging.getLogger("prgate.app")


def repo_http(ctx: JobContext, job: Job) -> Http:
    return ctx.auth.repo_http(job.installation_id, job.repo)


def other_repo(ctx: JobContext, job: Job) -> Callable[[str], Http]:
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
    #: The comment's note when the AI reviewer was held or stopped by its budget.
    ai_note: str | None = None


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
    #: Whether the pull request may be sent to the AI service (``aitrust``).
    ai: AiAccess = field(default_factory=AiAccess)

    @property
    def inputs(self) -> heads.PullInputs:
        config = _config_sha(self.source) if self.failed is None else f"failed:{self.reason}"
        return heads.PullInputs(
            pr=self.pull.number,
            base=f"{self.pull.base_repo}:{self.pull.base_ref}",
            config=config,
            change=heads.changeset_inputs(self.source.changeset if self.source else None),
        )


def prepare(
    ctx: JobContext,
    job: Job,
    http: Http,
    pull: PullRequest,
    *,
    changed: Sequence[PullFile] | None = None,
    extra: Sequence[str] = (),
) -> Prepared:
    """Read ``pull``'s change and its base's config. Errors of the change or config become a
    failing report; GitHub errors propagate so that the job can be retried. ``changed``: the
    change's files when the caller compared the commits itself (a merge queue's group, whose
    ``pull`` stands for the group: its number is the pull request it was made for, or 0).
    ``extra``: GraphQL fields that go with the first query (their answers in
    ``source.answers``)."""
    timings: dict[str, float] = {}
    t = ctx.clock()
    source: PullSource | None = None
    try:
        # When the base's rules (known from an earlier job on this base) read the head's tree,
        # it is read first: it gives the files' sizes, which then need no query of their own.
        first = rules_want_tree(ctx.base_cache, job.repo, pull.base_sha)
        source = load_pull(
            http,
            job.repo,
            pull,
            other_repo=other_repo(ctx, job),
            max_fetch_bytes=ctx.max_fetch_bytes,
            changed=changed,
            base_cache=ctx.base_cache,
            head_tree=read_head_tree(http, job.repo, pull.head_sha) if first else None,
            extra=extra,
        )
        timings["fetch"] = ctx.clock() - t
        t = ctx.clock()
        config = resolve_config(source.fetcher, org=job.repo.split("/", 1)[0])
        # What the rules read besides the changed files, fetched before judging.
        changeset = source.ready(declared_reads(config.rules))
        timings["config"] = ctx.clock() - t
        t = ctx.clock()
        if pull.number > 0:  # a group that names no pull request has no approvals
            changeset = with_approvals(http, job.repo, pull, changeset, config.rules)
        source = replace(source, changeset=changeset)
        timings["approvals"] = ctx.clock() - t
        access = AiAccess()
        if _reviews(ctx, config):
            access = ai_access(http, job.repo, pull, job.payload, job_pr=job.pr)
    except GitHubError:
        raise
    except ConfigError as exc:
        report = not_judged(exc, config_error=True)
        return Prepared(pull, source, None, report, str(exc), timings)
    except PrgateError as exc:
        return Prepared(pull, source, None, not_judged(exc), str(exc), timings)
    except Exception as exc:  # a bug must not pass a change
        return Prepared(pull, source, None, *_internal(job, exc), timings)
    return Prepared(pull, source, config, None, None, timings, access)


def decide(ctx: JobContext, job: Job, prepared: Prepared) -> Verdict:
    """Judge a prepared pull request with the same ``evaluate()`` as ``prgate check``."""
    timings = dict(prepared.timings)
    config_sha = _config_sha(prepared.source)
    if prepared.failed is not None or prepared.config is None or prepared.source is None:
        report = prepared.failed or not_judged("the change could not be read")
        return Verdict(report, None, config_sha, prepared.source, prepared.reason, timings)
    t = ctx.clock()
    session = _review_session(ctx, job, prepared)
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
    note = ai_note(session, prepared.ai)
    return Verdict(report, prepared.config, config_sha, prepared.source, None, timings, llm, note)


def judge(ctx: JobContext, job: Job, http: Http, pull: PullRequest) -> Verdict:
    """Evaluate ``pull`` at its head (:func:`prepare`, then :func:`decide`)."""
    return decide(ctx, job, prepare(ctx, job, http, pull))


def _internal(job: Job, exc: Exception) -> tuple[Report, str]:
    # The type only: an exception's text may quote the change, which may hold secrets.
    log.error("judging %s#%s failed: %s", job.repo, job.pr, type(exc).__name__)
    reason = f"an internal error occurred ({type(exc).__name__})"
    return not_judged(reason), reason


def slow(ctx: JobContext, prepared: Prepared) -> bool:
    """Whether judging ``prepared`` may take long (the AI reviewer runs on it)."""
    return prepared.config is not None and _reviews(ctx, prepared.config)


def _reviews(ctx: JobContext, config: Config) -> bool:
    """Whether the AI reviewer runs: the base's config enables it and has ``llm`` rules, and
    the App has a key."""
    if ctx.reviewer is None or not config.llm:
        return False
    return any(r.enabled and r.check == "llm" for r in config.rules)


def _review_session(ctx: JobContext, job: Job, prepared: Prepared) -> ReviewSession | None:
    """The AI reviewer for this pull request: its cache scoped to the installation and the
    repository, its spending recorded per PR and per installation day, held when the pull
    request may not be sent (``aitrust``)."""
    config = prepared.config
    if ctx.reviewer is None or config is None or not _reviews(ctx, config):
        return None
    budget = LedgerBudget(
        ctx.store,
        settings=config.llm_settings,
        max_usd_per_day=ctx.llm_max_usd_per_day,
        installation_id=job.installation_id,
        repo=job.repo,
        pr=prepared.pull.number,
        day=utc_day(ctx.clock()),
    )
    return ReviewSession(
        ctx.reviewer,
        settings=config.llm_settings,
        cache=ctx.store,
        budget=budget,
        scope=app_scope(job.installation_id, job.repo),
        hold=prepared.ai.hold,
    )


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
        too_big = isinstance(why, TooBigToJudge)
        finding = Finding(
            rule="prgate/not-judged",
            level=Level.ERROR,
            path=None,
            line=None,
            end_line=None,
            title="This pull request is too big to judge"
            if too_big
            else "prgate could not judge this change",
            message=f"The change was not judged, so it cannot pass yet: {why}.",
            fix=TOO_BIG_FIX
            if too_big
            else "Push again or comment `/prgate recheck`. If it keeps happening, ask whoever "
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
