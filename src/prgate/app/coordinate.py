"""Open pull requests that change the same files, told about each other (``coordination``).

When a pull request is judged, the files it changes are kept (``openpulls``); its comment lists
the other open pull requests of the repository that change some of them, from the store, at no
call to GitHub. The other pull requests whose list changed because of it (it joined, changed
other files, changed its title, or was closed or merged) get a ``refresh`` job each, coalesced
in the queue per pull request, which shows their comment again from its kept parts with the new
list: one comment edit, and nothing at all when the list they show is unchanged. A pull request
whose verdict reads the overlaps (a rule of check kind ``overlap``, such as ``coord/overlap``)
is judged again instead, since its findings may change.
"""

from __future__ import annotations

from dataclasses import replace

from prgate.app.jobrun import JobContext, JobRun
from prgate.app.judging import Prepared, repo_http
from prgate.app.store import Job, JobKind, JobSpec
from prgate.config import Config
from prgate.coordination import TITLE_LIMIT, changed, digest, recorded_paths
from prgate.github import comments
from prgate.render import markdown

MARKER = markdown.MARKER


def reads_overlaps(config: Config | None) -> bool:
    """Whether a verdict by ``config`` depends on the other open pull requests."""
    return config is not None and any(r.enabled and r.check == "overlap" for r in config.rules)


def record(run: JobRun, prepared: Prepared) -> Prepared:
    """Keep the files of ``prepared``'s pull request, ask for the comments of the pull
    requests whose overlap with it changed to be shown again, and, when its rules read the
    overlaps, give them to its change. Nothing is kept of a change that could not be read."""
    source = prepared.source
    if source is None:
        return prepared
    store, repo, pull = run.store, run.repo, prepared.pull
    before = store.pull_overlaps(repo, pull.number)
    old = store.pull_record(repo, pull.number)
    judged = reads_overlaps(prepared.config)
    kept = recorded_paths(source.changeset)
    store.record_pull(
        repo,
        pull.number,
        sha=pull.head_sha,
        title=pull.title,
        paths=kept.paths,
        judged_overlaps=judged,
    )
    after = store.pull_overlaps(repo, pull.number)
    touched = set(changed(before, after))
    if old is not None and (old.title != pull.title[:TITLE_LIMIT] or not old.open):
        touched |= {o.number for o in after}  # its line in their lists reads differently
    _refresh(run, touched)
    if not judged:
        return prepared
    changeset = replace(source.changeset, open_pulls=after)
    return replace(prepared, source=replace(source, changeset=changeset))


def closed(run: JobRun, pr: int) -> None:
    """``pr`` was closed or merged: it leaves the lists of the pull requests it was on."""
    before = run.store.pull_overlaps(run.repo, pr)
    run.store.close_pull(run.repo, pr)
    _refresh(run, {o.number for o in before})


def _refresh(run: JobRun, prs: set[int]) -> None:
    for pr in sorted(prs):
        run.ctx.enqueue(JobSpec(JobKind.REFRESH, run.repo, run.job.installation_id, pr))


def refresh_job(ctx: JobContext, job: Job) -> str:
    """Show ``job``'s pull request's comment again with its current list of overlaps: one edit
    of the comment at most (none when the list it shows is the same)."""
    store = ctx.store
    kept = store.pull_record(job.repo, job.pr)
    if kept is None or not kept.open:
        return "closed"
    if kept.judged_overlaps:  # its findings may change: judged again (the inputs tell)
        ctx.enqueue(JobSpec(JobKind.EVALUATE, job.repo, job.installation_id, job.pr, kept.sha))
        return "judge"
    overlaps = store.pull_overlaps(job.repo, job.pr)
    shown = digest(overlaps)
    if shown == kept.comment_overlaps:
        return "unchanged"
    known = store.comment_id(job.repo, job.pr)
    if not kept.comment_body or known is None:
        # The comment's parts were not kept (posted by an older prgate): judged again, once.
        spec = JobSpec(
            JobKind.EVALUATE, job.repo, job.installation_id, job.pr, kept.sha, {"force": True}
        )
        ctx.enqueue(spec)
        return "judge"
    parts = markdown.CommentParts(kept.comment_body, kept.comment_prompt)
    body = markdown.assemble(parts, overlaps)
    with repo_http(ctx, job) as http:
        run = JobRun(ctx, job, http)
        run.fence()
        comment_id = comments.upsert(
            http,
            job.repo,
            job.pr,
            body,
            marker=MARKER,
            known_id=known,
            author=ctx.auth.bot_login(),
        )
    store.save_comment(job.repo, job.pr, comment_id)
    store.save_pull_comment(job.repo, job.pr, body=parts.body, prompt=parts.prompt, overlaps=shown)
    return "refreshed"
