"""The event's copy of a pull request, confirmed by what GitHub's GraphQL API says now."""

from __future__ import annotations

from dataclasses import replace

from prgate.github.pulls import PullRequest
from prgate.github.pullstate import HEADS_ALIAS, PR_ALIAS, parse_state, same_judgement

SHA = "a" * 40
COPY = PullRequest(
    number=7,
    state="open",
    head_sha=SHA,
    head_ref="topic",
    head_repo="o/r",
    base_ref="main",
    base_sha="b" * 40,
    base_repo="o/r",
    author="dependabot[bot]",
    labels=("safe",),
    changed_files=3,
)


def _answers(**pr: object) -> dict[str, object]:
    node = {
        "number": 7,
        "state": "OPEN",
        "isDraft": False,
        "headRefName": "topic",
        "headRefOid": SHA,
        "baseRefName": "main",
        "baseRefOid": "b" * 40,
        "author": {"login": "dependabot"},
        "labels": {"totalCount": 1, "nodes": [{"name": "safe"}]},
        "headRepository": {"nameWithOwner": "o/r"},
        "baseRepository": {"nameWithOwner": "o/r"},
    }
    node.update(pr)
    heads = {
        "associatedPullRequests": {
            "totalCount": 3,
            "nodes": [
                {"number": 7, "state": "OPEN", "headRefOid": SHA},
                {"number": 9, "state": "OPEN", "headRefOid": SHA},
                {"number": 4, "state": "OPEN", "headRefOid": "c" * 40},  # contains it only
            ],
        }
    }
    return {PR_ALIAS: node, HEADS_ALIAS: heads}


def test_a_current_copy_is_confirmed_with_the_other_prs_of_its_head() -> None:
    now = parse_state(_answers(), "o/r", SHA)
    assert now is not None and now.heads == (7, 9)
    assert same_judgement(COPY, now.pull)  # a bot's login in either API's form


def test_a_stale_copy_is_not_confirmed() -> None:
    for changed in (
        {"headRefOid": "d" * 40},
        {"state": "CLOSED"},
        {"baseRefOid": "e" * 40},
        {"baseRefName": "release"},
        {"labels": {"totalCount": 0, "nodes": []}},
    ):
        now = parse_state(_answers(**changed), "o/r", SHA)
        assert now is not None and not same_judgement(COPY, now.pull), changed
    assert not same_judgement(replace(COPY, state="closed"), COPY)


def test_answers_that_cannot_tell_are_not_taken_for_a_confirmation() -> None:
    assert parse_state({}, "o/r", SHA) is None
    assert parse_state({PR_ALIAS: None}, "o/r", SHA) is None
    many = _answers(labels={"totalCount": 150, "nodes": [{"name": "safe"}]})
    assert parse_state(many, "o/r", SHA) is None
    cut = _answers()
    cut[HEADS_ALIAS] = {"associatedPullRequests": {"totalCount": 80, "nodes": []}}
    now = parse_state(cut, "o/r", SHA)
    assert now is not None and now.heads is None  # more than listed: read the usual way
