"""The organisation's rules in its ``.github`` repository, when a repository has no config.

When that repository exists and the App may not read it, prgate fails closed and says what to
grant, instead of judging by its default packs (which may be weaker than the organisation's).
"""

from __future__ import annotations

from appharness import RunningApp, World

#: The organisation's rules: nobody changes the README through a pull request.
ORG_CONFIG = "packs: [safe-zones]\nrules:\n  paths/forbidden:\n    paths: ['README.md']\n"


def _judge_readme_change(world: World, running: RunningApp) -> None:
    """A change that the default packs let through: the README, nothing else."""
    gh = world.gh
    pr = gh.open_pull_request(world.repo, files={"README.md": "Widgets.\n"})
    running.deliver(
        gh.webhook("pull_request", "opened", repo=world.repo, pr=pr, installation=world.inst)
    )
    running.wait_idle()


def test_an_org_config_the_app_may_not_read_fails_closed_saying_what_to_grant(
    world: World, running: RunningApp
) -> None:
    gh = world.gh
    gh.create_repo("octo-org/.github", files={".github/prgate.yml": ORG_CONFIG})  # not installed
    _judge_readme_change(world, running)
    (run,) = gh.check_runs(world.repo)
    assert run.conclusion == "failure"
    text = f"{run.title}\n{run.summary}\n{run.text}"
    assert "octo-org/.github" in text
    assert "Install the prgate App on the organisation's octo-org/.github repository" in text
    assert "not installed" in text
    (comment,) = gh.comments(world.repo, 1)
    assert "Install the prgate App" in comment.body


def test_without_an_org_github_repository_the_default_packs_apply(
    world: World, running: RunningApp
) -> None:
    _judge_readme_change(world, running)
    (run,) = world.gh.check_runs(world.repo)
    assert run.conclusion == "success", run.summary


def test_an_org_config_the_app_is_installed_on_applies(world: World, running: RunningApp) -> None:
    gh = world.gh
    gh.create_repo(
        "octo-org/.github", files={".github/prgate.yml": ORG_CONFIG}, installation=world.inst
    )
    _judge_readme_change(world, running)
    (run,) = gh.check_runs(world.repo)
    assert run.conclusion == "failure"
    assert any(a["path"] == "README.md" for a in run.annotations), run.annotations


def test_a_private_org_repository_the_app_is_not_on_cannot_be_told_from_none(
    world: World, running: RunningApp
) -> None:
    """The rule's limit, pinned: an installation sees nothing of a private repository it is
    not installed on, so prgate cannot tell it from no repository (docs/deploy.md)."""
    gh = world.gh
    gh.create_repo("octo-org/.github", files={".github/prgate.yml": ORG_CONFIG}, private=True)
    _judge_readme_change(world, running)
    (run,) = gh.check_runs(world.repo)
    assert run.conclusion == "success", run.summary
