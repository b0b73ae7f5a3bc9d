"""``prgate insights`` as a person runs it: it reads the store ``PRGATE_DATABASE_URL`` names (as
``prgate serve`` does), prints text or JSON, and makes the operator's sign-in link."""

from __future__ import annotations

import json
from pathlib import Path

from insightsdata import FORBIDDEN, LINT, ODD_REPO, PROTECTED, REPO, TOKEN, fill
from pgdb import fresh_database
from prgaterun import prgate

from prgate.app.operator import Operator
from prgate.app.sqlite_store import SQLiteStore
from prgate.app.store import open_store


def _filled_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'prgate.db'}"
    store = SQLiteStore.from_url(url)
    fill(store)
    store.close()
    return url


def test_json_from_the_apps_sqlite_store(tmp_path: Path) -> None:
    url = _filled_sqlite(tmp_path)
    done = prgate(tmp_path, "insights", "--format", "json", env={"PRGATE_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["version"] == 1 and data["runs"] == 5 and data["truncated"] is False
    assert [r["repo"] for r in data["repositories"]] == [ODD_REPO, REPO]
    widgets = data["repositories"][1]
    assert (widgets["runs"], widgets["pull_requests"], widgets["green"]) == (4, 2, 1)
    assert widgets["median_rounds_to_green"] == 3 and widgets["median_seconds_to_green"] == 3600
    rules = {r["rule"]: r for r in widgets["rules"]}
    assert rules[LINT]["fixed_by_fix_commit"] == 1 and rules[PROTECTED]["needed_approval"] == 1
    assert rules[FORBIDDEN]["blocked"] == 2
    assert [(p["pr"], p["rounds_to_green"]) for p in widgets["pulls"]] == [(1, 3), (2, None)]


def test_text_for_one_repository_in_the_default_store_of_the_working_folder(
    tmp_path: Path,
) -> None:
    _filled_sqlite(tmp_path)  # prgate.db in the folder, as prgate serve makes it by default
    done = prgate(tmp_path, "insights", "--repo", REPO)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("prgate insights, the last 30 days (since ")
    assert "4 judged runs in 1 repositories" in out and ODD_REPO not in out
    assert f"{REPO}: 4 runs of 2 pull requests, 1 green" in out
    assert "#1: green after 3 head(s), 60 min after the first failing check" in out
    assert "#2: not green yet (1 head(s) judged)" in out
    # rule, fired, findings, blocked, PRs, fixed by fix commit, approval
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if "/" in line[:20]}
    assert lines[FORBIDDEN] == ["2", "2", "2", "1", "0", "0"]
    assert lines[LINT] == ["1", "2", "0", "1", "1", "0"]


def test_json_from_postgresql(tmp_path: Path) -> None:
    with fresh_database() as url:
        store = open_store(url, pool_size=1)
        try:
            fill(store)
        finally:
            store.close()
        done = prgate(tmp_path, "insights", "--format", "json", env={"PRGATE_DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"] == 5


def test_without_a_store_it_says_where_it_looked_and_creates_nothing(tmp_path: Path) -> None:
    done = prgate(tmp_path, "insights")
    assert done.returncode == 2 and done.stdout == ""
    assert "there is no prgate store at" in done.stderr and "PRGATE_DATABASE_URL" in done.stderr
    assert not (tmp_path / "prgate.db").exists()
    wrong = prgate(tmp_path, "insights", env={"PRGATE_DATABASE_URL": "mysql://u:hunter2@h/db"})
    assert wrong.returncode == 2 and "hunter2" not in wrong.stderr


def test_the_sign_in_link_needs_the_operator_token_and_the_servers_address(
    tmp_path: Path,
) -> None:
    env = {"PRGATE_OPERATOR_TOKEN": TOKEN, "PRGATE_PUBLIC_URL": "https://prgate.example.com"}
    done = prgate(tmp_path, "insights", "--link", env=env)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith("https://prgate.example.com/insights/login?ticket=")
    assert TOKEN not in link
    assert Operator(TOKEN).spend_ticket(link.split("ticket=")[1])  # the server would take it
    local = prgate(tmp_path, "insights", "--link", "--url", "http://127.0.0.1:3000", env=env)
    assert local.returncode == 2 and "https://" in local.stderr  # plain http: only when allowed
    none = prgate(tmp_path, "insights", "--link", env={"PRGATE_PUBLIC_URL": "https://x.example"})
    assert none.returncode == 2 and "PRGATE_OPERATOR_TOKEN is not set" in none.stderr
