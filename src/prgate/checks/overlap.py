"""The ``overlap`` check kind: files this change shares with other open pull requests.

It reads :attr:`ChangeSet.open_pulls`, which the GitHub App fills from what it recorded of the
repository's other open pull requests before judging. ``prgate check`` on a local repository
does not know them: the rule then finds nothing, and a rule at level ``error`` says so as a
skipped item (on GitHub it may block where the local run passes).
"""

from __future__ import annotations

from collections.abc import Sequence

from prgate.checks import CheckContext, CheckKind, CheckResult, Params, Rule
from prgate.checks.globs import Globs, compile_globs
from prgate.model import OpenPull, Skipped

#: Other pull requests named in one finding; the rest are counted.
NAMED_PULLS = 3
#: Longest title quoted in a finding.
TITLE_LIMIT = 80

NOT_KNOWN = (
    "Other open pull requests are known only to the GitHub App: overlaps with them are not "
    "checked here."
)


class OverlapParams(Params):
    #: Gitignore-style patterns of the files where a change shared with another open pull
    #: request is reported.
    paths: Globs = ("**",)


def run(ctx: CheckContext, rules: Sequence[Rule]) -> CheckResult:
    result = CheckResult()
    others = ctx.changeset.open_pulls
    for rule in rules:
        params = rule.params
        assert isinstance(params, OverlapParams)
        if others is None:
            if rule.level == "error":
                result.skipped.append(Skipped(rule=rule.id, path=None, reason=NOT_KNOWN))
            continue
        matcher = compile_globs(params.paths)
        for change in ctx.changeset.files:
            names = {change.path} | ({change.old_path} if change.old_path else set())
            if not any(matcher.matches(n) for n in names):
                continue
            sharing = [o for o in others if names & set(o.paths)]
            if sharing:
                result.findings.append(rule.finding(path=change.path, message=_message(sharing)))
    return result


def _message(sharing: Sequence[OpenPull]) -> str:
    ordered = sorted(sharing, key=lambda o: o.number)
    named = [f"#{o.number} ({_title(o.title)})" for o in ordered[:NAMED_PULLS]]
    rest = len(ordered) - len(named)
    if rest:
        named.append(f"{rest} more")
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    verb = "changes" if len(ordered) == 1 else "change"
    return (
        f"Open pull request{'s' if len(ordered) > 1 else ''} {listed} also {verb} this file. "
        "Whichever is merged second may undo or conflict with the other."
    )


def _title(title: str) -> str:
    """A title quoted as data: on one line, without backticks, cut to :data:`TITLE_LIMIT`."""
    flat = " ".join(title.replace("`", "'").split())
    if len(flat) > TITLE_LIMIT:
        flat = flat[: TITLE_LIMIT - 1] + "…"
    return f"`{flat}`" if flat else "untitled"


KIND = CheckKind(
    name="overlap",
    params=OverlapParams,
    run=run,
    summary=(
        "Reports each changed file matching `paths` that another open pull request of the "
        "repository also changes (known to the GitHub App only; `prgate check` finds nothing)."
    ),
    default_level="notice",
)
