"""What a person asks for on a pull request besides a verdict: a fix commit, a rule explained,
a fresh judgement.

``/prgate`` commands come in comments, which anyone who can see a public repository can write.
So a command runs only when someone who may push to the repository asks (role write, maintain
or admin), or, for ``recheck``, ``explain`` and ``review``, the pull request's author (whose
``review`` does not lift the AI reviewer's hold: the report says so). Anyone else's command
does nothing, and gets no answer: an outsider cannot make the App write anything. The author
who asks for fixes without write access gets one plain answer, in the one reply prgate keeps
per pull request (the same comment ``explain`` answers in, edited each time).

Each comment's command runs once: the store keeps the ids of the comments handled, so a
delivery that comes again under a new id (GitHub's redelivery, or a replay) finds its comment
handled. Commands of the same pull request that wait together share one job, one entry per
comment, run in the order they were written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prgate.app.aitrust import REQUEST_KEY
from prgate.app.commandtext import NAMES
from prgate.app.events import COMMENT_KEY
from prgate.app.jobrun import JobContext, fence
from prgate.app.judging import judge, other_repo, repo_http
from prgate.app.store import Job, JobKind, JobSpec
from prgate.config import Config
from prgate.config.loader import resolve_config
from prgate.errors import PrgateError
from prgate.fixes import compute_fixes, fixed_contents
from prgate.github import comments, commits
from prgate.github.errors import GitHubError
from prgate.github.http import Http
from prgate.github.pulls import can_write, get_pull
from prgate.render import markdown
from prgate.render.redact import redact

log = logging.getLogger("prgate.app")

#: The hidden marker of prgate's one reply to commands on a pull request.
REPLY_MARKER = "<!-- prgate:reply -->"
FIX_REFUSED = (
    "prgate pushes fixes only when someone who can push to this repository asks, so "
    "`/prgate fix` from {login} did nothing. You can apply the fixes yourself: run "
    "`prgate fix` where your branch is checked out, then push. A maintainer can also write "
    "`/prgate fix` here."
)
PROTECTED_PREFIX = ".github/workflows/"
FIX_MESSAGE = (
    "prgate: apply automatic fixes\n\n"
    "Automatic fixes for {rules},\n"
    "computed on {parent}.\n\n"
    "Requested by {requester} through prgate."
)


# --- fixes -----------------------------------------------------------------------------------


def fix_job(ctx: JobContext, job: Job) -> str:
    requester = str(job.payload.get("requested_by") or "")
    with repo_http(ctx, job) as http:
        pull = get_pull(http, job.repo, job.pr)
        if pull.state != "open":
            return "closed"
        # A commit on someone's branch, in prgate's name: only for those who may push.
        if not requester or not can_write(http, job.repo, requester):
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


# --- comment commands ------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """One comment's command."""

    #: ``None`` for a job queued by an older prgate (an ``explain`` job without a comment).
    comment_id: int | None
    command: str
    arg: str
    by: str
    #: The pull request's author, from the signed delivery (``""`` when not known).
    author: str

    @property
    def by_author(self) -> bool:
        return bool(self.author) and self.by.lower() == self.author.lower()


def asked_in(job: Job) -> list[Asked]:
    """The commands a ``command`` job holds, oldest comment first (an ``explain`` job of an
    older prgate: its one question)."""
    if job.kind is JobKind.EXPLAIN:
        by = str(job.payload.get("requested_by") or "")
        return [Asked(None, "explain", str(job.payload.get("rule") or ""), by, "")]
    out: list[Asked] = []
    for key, value in job.payload.items():
        if not key.startswith(COMMENT_KEY) or not key[len(COMMENT_KEY) :].isdigit():
            continue
        entry: Mapping[str, Any] = value if isinstance(value, dict) else {}
        command = str(entry.get("command") or "")
        if command not in NAMES:
            continue
        out.append(
            Asked(
                comment_id=int(key[len(COMMENT_KEY) :]),
                command=command,
                arg=str(entry.get("arg") or ""),
                by=str(entry.get("by") or ""),
                author=str(entry.get("author") or ""),
            )
        )
    return sorted(out, key=lambda a: a.comment_id or 0)


def command_job(ctx: JobContext, job: Job) -> str:
    """Run each comment's command not handled yet. The result (a metrics label, so one of a
    few words): the one command's outcome, ``several`` for more, ``repeat`` for none.

    A comment counts as handled once its command ran (or was refused): a job tried again after
    a failure may run a command a second time (each is safe to repeat), a new delivery of the
    comment never does."""
    waiting = [
        a
        for a in asked_in(job)
        if a.comment_id is None or not ctx.store.command_handled(a.comment_id)
    ]
    if not waiting:
        return "repeat"
    outcomes: list[str] = []
    with repo_http(ctx, job) as http:
        for asked in waiting:
            outcomes.append(_run(ctx, job, http, asked))
            if asked.comment_id is not None:
                ctx.store.record_command(job.repo, asked.comment_id)
    return outcomes[0] if len(outcomes) == 1 else "several"


def _run(ctx: JobContext, job: Job, http: Http, asked: Asked) -> str:
    # The author may ask for ``review`` too: the evaluation then says, in the report, that a
    # request by someone without write access does not lift the AI reviewer's hold.
    allowed = (asked.by_author and asked.command != "fix") or (
        bool(asked.by) and can_write(http, job.repo, asked.by)
    )
    if not allowed:
        if asked.by_author:  # the author asked for fixes: one plain answer, in the one reply
            _reply(ctx, job, http, FIX_REFUSED.format(login=_login(asked.by)))
            return "refused"
        log.info(
            "ignored /prgate %s on %s#%s: %s may not push to the repository",
            asked.command,
            job.repo,
            job.pr,
            _login(asked.by),
        )
        return "ignored"
    if asked.command == "recheck":
        ctx.enqueue(
            JobSpec(JobKind.EVALUATE, job.repo, job.installation_id, job.pr, "", {"force": True})
        )
        return "recheck"
    if asked.command == "review":
        payload = {"force": True, REQUEST_KEY: asked.by}
        ctx.enqueue(JobSpec(JobKind.EVALUATE, job.repo, job.installation_id, job.pr, "", payload))
        return "review"
    if asked.command == "fix":
        ctx.enqueue(
            JobSpec(
                JobKind.FIX, job.repo, job.installation_id, job.pr, "", {"requested_by": asked.by}
            )
        )
        return "fix"
    return _explain(ctx, job, http, asked)


def _reply(ctx: JobContext, job: Job, http: Http, text: str) -> None:
    """Edit prgate's one reply on the pull request (found by its marker and this App's bot as
    its author), or post it once."""
    fence(ctx, job)
    comments.upsert(
        http,
        job.repo,
        job.pr,
        f"{REPLY_MARKER}\n{text}",
        marker=REPLY_MARKER,
        known_id=None,
        author=ctx.auth.bot_login(),
    )


# --- explain ---------------------------------------------------------------------------------


def _explain(ctx: JobContext, job: Job, http: Http, asked: Asked) -> str:
    wanted = asked.arg
    pull = get_pull(http, job.repo, job.pr)
    from prgate.sources.github import GitHubConfigFetcher

    fetcher = GitHubConfigFetcher(
        http=http, repo=job.repo, base_sha=pull.base_sha, other_repo=other_repo(ctx, job)
    )
    try:
        config = resolve_config(fetcher, org=job.repo.split("/", 1)[0])
    except GitHubError:
        raise
    except PrgateError as exc:
        _reply(ctx, job, http, _explain_error(str(exc)))
        return "config-error"
    rule = config.rule(wanted) if wanted else None
    _reply(ctx, job, http, explain_text(wanted, rule, config))
    return "explained"


def explain_text(wanted: str, rule: Any, config: Config) -> str:
    def esc(text: str | None, limit: int = markdown.FIELD_LIMIT) -> str:
        return markdown.md_escape(redact(text or ""), limit)

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
        + markdown.md_escape(redact(reason), 2000)
    )
