"""Signed deliveries of an odd shape (a pull request number that is not one, objects that are
not objects, JSON nested very deeply) get a 4xx or are ignored, never a 500."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from appharness import RunningApp, World
from fakegithub.webhooks import sign, sign_sha1


def _post(running: RunningApp, world: World, event: str, body: bytes) -> Any:
    """``body`` delivered as ``event``, signed with the App's webhook secret."""
    secret = world.app.webhook_secret
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature": sign_sha1(body, secret),
        "X-Hub-Signature-256": sign(body, secret),
    }
    return running.deliver(type("Signed", (), {"body": body, "headers": headers})())


def _assert_ignored(running: RunningApp, resp: Any) -> None:
    assert resp.status_code < 500, resp.text
    assert "Traceback" not in resp.text
    if resp.status_code == 202:
        assert resp.json()["status"] == "ignored", resp.text
        assert resp.json()["jobs"] == 0
    else:
        assert 400 <= resp.status_code < 500, resp.text
    assert running.store.jobs() == []


def _pr_payload(world: World, number: object) -> dict[str, Any]:
    pr = world.gh.open_pull_request(world.repo, files={"app/core.py": "X = 1\n"})
    delivery = world.gh.webhook(
        "pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst
    )
    payload = dict(delivery.payload)
    pull = dict(payload["pull_request"])
    if number is _ABSENT:
        pull.pop("number")
    else:
        pull["number"] = number
    payload["pull_request"] = pull
    return payload


_ABSENT = object()


@pytest.mark.parametrize(
    "number", ["7", "seven", None, _ABSENT, True, 1.5, -3, 0, 2**70, [7], {"n": 7}]
)
def test_pull_request_number_that_is_not_one_is_ignored(
    world: World, running: RunningApp, number: object
) -> None:
    body = json.dumps(_pr_payload(world, number)).encode()
    _assert_ignored(running, _post(running, world, "pull_request", body))


@pytest.mark.parametrize("number", [None, "12", "x", _ABSENT, False])
def test_comment_command_on_pull_request_without_a_valid_number_is_ignored(
    world: World, running: RunningApp, number: object
) -> None:
    pr = world.gh.open_pull_request(world.repo, files={"app/core.py": "X = 1\n"})
    delivery = world.gh.webhook(
        "issue_comment",
        "created",
        repo=world.repo,
        pr=pr,
        comment_body="/prgate recheck",
        sender="builder",
        installation=world.inst,
    )
    payload = dict(delivery.payload)
    issue = dict(payload["issue"])
    if number is _ABSENT:
        issue.pop("number")
    else:
        issue["number"] = number
    payload["issue"] = issue
    _assert_ignored(running, _post(running, world, "issue_comment", json.dumps(payload).encode()))


@pytest.mark.parametrize(
    ("event", "key", "value"),
    [
        ("pull_request", "pull_request", "not an object"),
        ("pull_request", "pull_request", [1, 2]),
        ("pull_request", "installation", {"id": "12"}),
        ("pull_request", "repository", {"full_name": 5}),
        ("issue_comment", "issue", "#7"),
        ("issue_comment", "sender", ["builder"]),
        ("issue_comment", "comment", 7),
        ("check_suite", "check_suite", "requested"),
        ("check_run", "check_run", 3),
        ("installation", "installation", {"id": 5, "account": "octo-org"}),
        ("merge_group", "merge_group", "checks_requested"),
        ("merge_group", "merge_group", {"head_sha": ["a" * 40], "base_sha": "b" * 40}),
    ],
)
def test_objects_that_are_not_objects_are_ignored(
    world: World, running: RunningApp, event: str, key: str, value: object
) -> None:
    pr = world.gh.open_pull_request(world.repo, files={"app/core.py": "X = 1\n"})
    base = world.gh.webhook(
        "pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst
    ).payload
    payload = {**base, "action": "requested" if event.startswith("check") else "created"}
    if event == "pull_request":
        payload["action"] = "opened"
    if event == "merge_group":
        payload["action"] = "checks_requested"
    if event == "issue_comment":
        payload["issue"] = {"number": pr.number, "pull_request": {"url": "u"}}
        payload["comment"] = {"body": "/prgate recheck"}
    payload[key] = value
    resp = _post(running, world, event, json.dumps(payload).encode())
    assert resp.status_code < 500, resp.text
    assert "Traceback" not in resp.text
    if key != "sender" and event != "installation":  # a sender of an odd shape is no one
        _assert_ignored(running, resp)


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deeply_nested_signed_payload_gets_a_4xx(
    world: World, running: RunningApp, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = ('{"action":"opened","pull_request":' + nested + "}").encode()
    _assert_ignored(running, _post(running, world, "pull_request", body))
    objects = '{"a":' * depth + "1" + "}" * depth
    _assert_ignored(running, _post(running, world, "issue_comment", objects.encode()))
    # The App still answers afterwards.
    assert running.get("/healthz").status_code == 200
