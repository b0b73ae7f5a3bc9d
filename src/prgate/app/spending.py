"""The AI reviewer's spending in the store: the statements both backends share.

Two tables (migration "the AI reviewer's spending"): ``llm_spend_prs``, a pull request's totals
over all its pushes, and ``llm_spend_days``, an installation's totals per UTC day. Each backend
runs these functions inside one of its transactions, through an :data:`Execute` of its own
connection; only the row lock differs (``FOR UPDATE`` on PostgreSQL; SQLite's one writer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prgate.llm.budget import Spend, SpendLimits, SpendTotals

#: Runs one statement with its arguments in the caller's transaction; the rows it returns.
Execute = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]

_SPEND_COLUMNS = "input_tokens, output_tokens, usd, requests"


def _spend(rows: list[tuple[Any, ...]]) -> Spend:
    if not rows:
        return Spend()
    row = rows[0]
    return Spend(int(row[0]), int(row[1]), float(row[2]), int(row[3]))


def read_spending(
    execute: Execute,
    mark: str,
    *,
    installation_id: int,
    repo: str,
    pr: int,
    day: str,
    lock: str = "",
) -> SpendTotals:
    """The totals of :meth:`Store.llm_spending`; ``lock`` is appended to each ``SELECT`` (the
    backend's row lock, when it has one)."""
    day_rows = execute(
        f"SELECT {_SPEND_COLUMNS} FROM llm_spend_days WHERE installation_id={mark} "
        f"AND day={mark}{lock}",
        (installation_id, day),
    )
    pr_rows = execute(
        f"SELECT {_SPEND_COLUMNS} FROM llm_spend_prs WHERE repo={mark} AND pr={mark}{lock}",
        (repo, pr),
    )
    return SpendTotals(pr=_spend(pr_rows), day=_spend(day_rows))


def add_spending(
    execute: Execute,
    mark: str,
    *,
    installation_id: int,
    repo: str,
    pr: int,
    day: str,
    spend: Spend,
    limits: SpendLimits | None,
    now: float,
    lock: str = "",
) -> bool:
    """:meth:`Store.llm_add_spend` inside the caller's transaction. Both rows exist first, and
    are read with ``lock`` (the installation's day first, always: no deadlock), so that
    concurrent transactions of one installation check the limits one after the other."""
    execute(
        "INSERT INTO llm_spend_days (installation_id, day, updated_at) "
        f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (installation_id, day) DO NOTHING",
        (installation_id, day, now),
    )
    execute(
        f"INSERT INTO llm_spend_prs (repo, pr, updated_at) VALUES ({mark}, {mark}, {mark}) "
        "ON CONFLICT (repo, pr) DO NOTHING",
        (repo, pr, now),
    )
    if limits is not None:
        totals = read_spending(
            execute, mark, installation_id=installation_id, repo=repo, pr=pr, day=day, lock=lock
        )
        if not limits.allows(totals.pr.plus(spend), totals.day.plus(spend)):
            return False
    add = (
        f"input_tokens=input_tokens+{mark}, output_tokens=output_tokens+{mark}, "
        f"usd=usd+{mark}, requests=requests+{mark}, updated_at={mark}"
    )
    amounts = (spend.input_tokens, spend.output_tokens, spend.usd, spend.requests, now)
    execute(
        f"UPDATE llm_spend_days SET {add} WHERE installation_id={mark} AND day={mark}",
        (*amounts, installation_id, day),
    )
    execute(f"UPDATE llm_spend_prs SET {add} WHERE repo={mark} AND pr={mark}", (*amounts, repo, pr))
    return True
