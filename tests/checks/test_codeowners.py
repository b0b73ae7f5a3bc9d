"""CODEOWNERS read as GitHub reads it, and the approvals digest."""

from __future__ import annotations

from prgate.checks.codeowners import parse
from prgate.model import Approvals, CodeOwnersFile, Review

FILE = """\
# Default owners
*       @global-owner
*.js    @js-owner @octo-org/web  # inline comment
docs/*  docs@example.com @doc-writer
/build/logs/ @doctocat
apps/   @octocat
/apps/github
!negated/ @nobody
[abc].txt @nobody
\\#hash @hash-owner
"""


def test_the_last_matching_line_decides() -> None:
    owners = parse(FILE)
    assert owners.owners("src/x.py").users == ("global-owner",)
    js = owners.owners("src/app.js")
    assert js.users == ("js-owner",) and js.teams == ("octo-org/web",)
    assert owners.owners("build/logs/today/a.log").users == ("doctocat",)
    assert owners.owners("deep/apps/x.py").users == ("octocat",)
    # A pattern without owners leaves the path without any.
    assert not owners.owners("apps/github/x.py")
    assert owners.owners("#hash").users == ("hash-owner",)


def test_docs_star_covers_direct_children_only_and_emails_are_skipped() -> None:
    owners = parse(FILE)
    assert owners.owners("docs/guide.md").users == ("doc-writer",)
    assert owners.owners("docs/deep/guide.md").users == ("global-owner",)


def test_lines_github_rejects_are_skipped() -> None:
    owners = parse(FILE)
    assert owners.owners("negated/x").users == ("global-owner",)
    assert owners.owners("a.txt").users == ("global-owner",)


def test_the_digest_changes_with_any_input_and_only_then() -> None:
    base = Approvals(
        head="h",
        reviews=(Review("lead", "APPROVED", "c1"),),
        contributors=frozenset({"builder"}),
        oids=(("c1", "a", "x"), ("h", "a", "x")),
        team_members=frozenset({("o/t", "lead")}),
        codeowners=CodeOwnersFile(".github/CODEOWNERS", "* @lead\n"),
    )
    same = Approvals(
        head="h",
        reviews=(Review("lead", "APPROVED", "c1"),),
        contributors=frozenset({"builder"}),
        oids=(("h", "a", "x"), ("c1", "a", "x")),
        team_members=frozenset({("o/t", "lead")}),
        codeowners=CodeOwnersFile(".github/CODEOWNERS", "* @lead\n"),
    )
    assert base.digest() == same.digest()
    changed = [
        Approvals(**{**base.__dict__, "reviews": (Review("lead", "DISMISSED", "c1"),)}),
        Approvals(**{**base.__dict__, "oids": (("c1", "a", "x"), ("h", "a", "y"))}),
        Approvals(**{**base.__dict__, "codeowners": None}),
        Approvals(**{**base.__dict__, "reviews": None}),
    ]
    assert len({base.digest(), *(a.digest() for a in changed)}) == 5
