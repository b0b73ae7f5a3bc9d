"""What a person asks for on a pull request besides a verdict: a fix commit, a rule explained."""

from __future__ import annotations

from typing import Any

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
from prgate.github.pulls import get_pull, permission
from prgate.render import markdown
from prgate.render.redact import redact

#: Roles allowed to ask for ``/prgate fix`` besides the PR's author.
WRITERS = frozenset({"admin", "maintain", "write"})
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
    with repo_http(ctx, job) as http:
        pull = get_pull(http, job.repo, job.pr)
        verdict_config: Config | None
        try:
            from prgate.sources.github import GitHubConfigFetcher

            fetcher = GitHubConfigFetcher(
                http=http, repo=job.repo, base_sha=pull.base_sha, other_repo=other_repo(ctx, job)
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
