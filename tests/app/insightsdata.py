"""Run records for the insights page's tests, and the figures they make (worked out by hand).

``octo-org/widgets`` #1 failed on ``a`` (a forbidden path blocks, a lint warning), got a fix
commit ``b`` (the lint gone, the path still there), then passed on ``c`` an hour after ``a``;
#2 waits for an approval. A second repository has a rule id that needs escaping.
"""

from __future__ import annotations

import time
from dataclasses import replace

from prgate.app.settings import Settings
from prgate.app.store import RunRecord, Store

TOKEN = "operator-token-for-tests-0123456789abcdef"
REPO = "octo-org/widgets"
#: A repository name and a rule id as a page must never render them raw.
ODD_REPO = "octo-org/<b>odd</b>"
ODD_RULE = "team/<script>alert(1)</script>"
FORBIDDEN, PROTECTED, LINT = "paths/forbidden", "paths/protected", "style/ruff-lint"


def run_record(
    repo: str,
    pr: int,
    sha: str,
    at: float,
    conclusion: str,
    counts: dict[str, int] | None = None,
    blocking: dict[str, int] | None = None,
    approval: dict[str, int] | None = None,
    *,
    took: float = 5.0,
) -> RunRecord:
    """A run of ``repo`` #``pr`` on ``sha`` that finished at ``at`` after ``took`` seconds."""
    return RunRecord(
        repo=repo,
        pr=pr,
        sha=sha,
        config_sha="c",
        conclusion=conclusion,
        counts=counts or {},
        started_at=at - took,
        finished_at=at,
        blocking=blocking or {},
        awaiting_approval=approval or {},
    )


def fill(store: Store, *, now: float | None = None) -> None:
    """Record the runs and the fix commit (finished within the last two days of ``now``)."""
    t = (time.time() if now is None else now) - 2 * 86400.0

    def run(
        repo: str,
        pr: int,
        sha: str,
        at: float,
        conclusion: str,
        counts: dict[str, int] | None = None,
        blocking: dict[str, int] | None = None,
        awaiting_approval: dict[str, int] | None = None,
    ) -> None:
        store.record_run(
            run_record(
                repo, pr, sha, t + at, conclusion, counts, blocking, awaiting_approval, took=2
            )
        )

    run(REPO, 1, "a", 0, "failure", counts={FORBIDDEN: 1, LINT: 2}, blocking={FORBIDDEN: 1})
    run(REPO, 1, "b", 600, "failure", counts={FORBIDDEN: 1}, blocking={FORBIDDEN: 1})
    run(REPO, 1, "c", 3600, "success")
    one = {PROTECTED: 1}
    run(REPO, 2, "d", 100, "failure", counts=one, blocking=one, awaiting_approval=one)
    run(ODD_REPO, 5, "e", 200, "failure", counts={ODD_RULE: 3}, blocking={ODD_RULE: 3})
    store.save_fix_commit(REPO, 1, commit="b", parent="a")


def with_operator(settings: Settings, *, allow_http: bool = True) -> Settings:
    return replace(settings, operator_token=TOKEN, allow_http=allow_http)
