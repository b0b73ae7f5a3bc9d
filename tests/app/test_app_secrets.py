"""Secrets stay out of the App's child processes and out of everything it posts to GitHub.

A key written into a pull request without quotes (``KEY = AKIA...``) comes back through ruff's
"Undefined name" message: the comment, the check run's summary and its annotations show it
masked, while the secrets rule still reports it on its line. ``prgate serve``, started with the
App's secrets and other tokens in its environment, gives none of them to its children (the flag
parser's processes, their fork server, the resource tracker, ruff).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from appharness import RunningApp, World, comment_delivery, make_world
from childwatch import AWS_KEY, SECRETS, Watch, leaks
from fakegithub.fake import FakeGitHub
from serving import Replica, world_env
from waiting import wait_until

from prgate.app.settings import from_env

MASKED = "AKIA…[hidden: an AWS access key ID]"
CHANGE = (
    "def add(a, b):\n    return a + b\n\n\n"
    "def refund(order):\n    return order.total\n\n\n"
    f"KEY = {AWS_KEY}\n"
)
KEY_LINE = 9
FLAGGED_CONFIG = """\
packs: [python-style, hygiene, feature-flags]
rules:
  flags/guarded:
    paths: ["app/**"]
"""


def test_the_apps_secrets_leave_the_process_environment_once_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRGATE_APP_ID", "1")
    monkeypatch.setenv("PRGATE_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n")
    monkeypatch.setenv("PRGATE_WEBHOOK_SECRET", SECRETS["PRGATE_WEBHOOK_SECRET"])
    settings = from_env(cwd=tmp_path)
    assert settings.configured
    assert settings.private_key == "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"
    assert settings.webhook_secret == SECRETS["PRGATE_WEBHOOK_SECRET"]
    assert "PRGATE_PRIVATE_KEY" not in os.environ
    assert "PRGATE_WEBHOOK_SECRET" not in os.environ
    assert os.environ["PRGATE_APP_ID"] == "1"


def test_a_key_in_a_pull_request_is_masked_in_everything_posted(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": CHANGE})
    opened = gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    assert running.deliver(opened).status_code == 202
    running.wait_idle()

    (run,) = gh.check_runs(world.repo)
    assert run.conclusion == "failure"
    (comment,) = gh.comments(world.repo, pr.number)
    texts = {
        "comment": comment.body,
        "title": run.title or "",
        "summary": run.summary or "",
        "text": run.text or "",
        **{f"annotation {n}": repr(a) for n, a in enumerate(run.annotations)},
    }
    for where, text in texts.items():
        assert AWS_KEY not in text, where
        assert AWS_KEY[4:] not in text, where
    # Masked where ruff names it, in the comment, the summary (agent block included) and the
    # annotation: ruff quotes the name in backticks, which the markdown keeps as code.
    assert f"`{MASKED}`" in comment.body.split("```")[0]
    assert f"`{MASKED}`" in (run.summary or "").split("```")[0]
    assert MASKED in comment.body.split("```")[1]  # the agent block
    undefined = [a for a in run.annotations if "ruff F821" in a["message"]]
    assert [a["message"].splitlines()[0] for a in undefined] == [
        f"Undefined name `{MASKED}` (ruff F821)"
    ]
    # The secrets rule itself still says where the key is (and never what it is).
    (secret,) = [a for a in run.annotations if a["raw_details"] == "Rule: content/secrets"]
    assert (secret["path"], secret["start_line"], secret["annotation_level"]) == (
        "app/core.py",
        KEY_LINE,
        "failure",
    )
    assert "an AWS access key ID" in secret["message"]
    assert gh.schema_errors == []


def test_a_command_that_names_a_key_is_answered_with_the_key_masked(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"app/core.py": "x = 1\n"})
    running.deliver(comment_delivery(world, pr, f"/prgate explain {AWS_KEY}"))
    running.wait_idle()
    (reply,) = gh.comments(world.repo, pr.number)
    assert AWS_KEY not in reply.body
    assert "no rule called AKIA…\\[hidden: an AWS access key ID\\]" in reply.body


def test_prgate_serve_gives_its_children_none_of_its_secrets(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    world = make_world(
        fake_github,
        tmp_path,
        files={
            ".github/prgate.yml": FLAGGED_CONFIG,
            "feature-flags.yml": "- new-refunds\n",
            "app/__init__.py": "",
            "app/core.py": "def add(a, b):\n    return a + b\n",
            "tests/test_core.py": "def test_add():\n    assert True\n",
        },
    )
    secrets = {
        **SECRETS,
        "PRGATE_WEBHOOK_SECRET": world.app.webhook_secret,
        "PRGATE_PRIVATE_KEY": world.app.private_key_pem,
    }
    env = world_env(world)
    del env["PRGATE_PRIVATE_KEY_PATH"]  # the key given as text, the case that leaked
    watch = Watch(tmp_path / "watch")
    env = watch.env({**env, **secrets})
    gh = world.gh
    with Replica(env, cwd=world.tmp, name="serve") as replica:
        pr = gh.open_pull_request(world.repo, files={"app/core.py": CHANGE})
        d = gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
        assert replica.deliver(d).status_code == 202
        wait_until(
            lambda: [r.status for r in gh.check_runs(world.repo)] == ["completed"],
            "the run completes",
            60,
            detail=replica.log,
        )
        wait_until(lambda: len(gh.comments(world.repo, pr.number)) == 1, "the comment")
        body = gh.comments(world.repo, pr.number)[0].body
        assert "flags/guarded" in body  # the parser processes read the change

    seen = watch.seen()
    for role, envs in seen.items():
        for child in envs:
            assert leaks(child, secrets) == [], (role, sorted(child))
    assert {"ruff", "worker", "forkserver", "tracker"} <= set(seen), sorted(seen)
    assert AWS_KEY not in replica.log()
