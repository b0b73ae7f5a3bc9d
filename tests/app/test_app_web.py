"""The web-style pack through the App, end to end against the fake GitHub: web findings in the
check run's annotations and the comment, the base's settings honoured (a head-branch settings
file does not loosen them), and the Apply-fixes button pushing a commit that lays out only the
lines the change added."""

from __future__ import annotations

import json

from appharness import RunningApp, World, fix_click, make_world
from fakegithub.fake import FakeGitHub

CONFIG = "packs: [web-style]\n"
OLD = "export const OLD = {'a':1}\n"
ADDED = "export const NEW = {'b':2}\nlet x = 1;\nif (x === NaN) x = 2;\nexport { x };\n"


def test_web_findings_annotations_and_a_fix_commit(fake_github: FakeGitHub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world: World = make_world(
        fake_github,
        tmp_path,
        files={
            ".github/prgate.yml": CONFIG,
            # The base's lint settings: NaN comparisons are errors (oxlint's default too).
            ".oxlintrc.json": json.dumps({"rules": {"use-isnan": "error"}}),
            "web/a.js": OLD,
        },
    )
    gh, repo = world.gh, world.repo
    loosened = json.dumps({"rules": {"use-isnan": "off"}})
    pr = gh.open_pull_request(repo, files={"web/a.js": OLD + ADDED, ".oxlintrc.json": loosened})
    evaluated = gh.head_sha(pr)
    with RunningApp(world.settings) as running:
        opened = gh.webhook("pull_request", "opened", repo=repo, pr=pr, installation=world.inst)
        assert running.deliver(opened).status_code == 202
        running.wait_idle()
        (run,) = gh.check_runs(repo)
        assert run.conclusion == "failure", run.summary
        notes = {(a["path"], a["start_line"], a["raw_details"]) for a in run.annotations}
        # The lint finding from the base's settings, on the added line (the head's file that
        # turns the rule off is not used); the layout of the added line; nothing on line 1.
        assert ("web/a.js", 4, "Rule: style/web-lint") in notes, notes
        assert any(p == "web/a.js" and d.startswith("Rule: style/web-format") for p, _, d in notes)
        assert all(line != 1 for p, line, _ in notes if p == "web/a.js"), notes
        (comment,) = gh.comments(repo, pr.number)
        assert "style/web-lint" in comment.body and "use-isnan" in comment.body
        assert [a["identifier"] for a in run.actions] == ["apply-fixes"]

        assert running.deliver(fix_click(world, pr, run)).status_code == 202
        running.wait_idle()
    fixed = gh.branch_head(repo, pr.head_ref)
    assert fixed != evaluated and gh.commit_parents(repo, fixed) == [evaluated]
    text = gh.files_at(repo, fixed)["web/a.js"].decode()
    assert text.startswith(OLD + "export const NEW = { b: 2 };\n"), text  # old line untouched
    assert "if (isNaN(x)) x = 2;" in text  # oxlint's safe fix, on the added line
    fixed_runs = [r for r in gh.check_runs(repo) if r.head_sha == fixed]
    assert [r.conclusion for r in fixed_runs] == ["success"], fixed_runs[0].summary
