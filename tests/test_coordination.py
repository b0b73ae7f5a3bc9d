"""Open pull requests that change the same files: what is kept, and how they rank (pure)."""

from __future__ import annotations

from prgate.coordination import (
    SHOWN_PATHS,
    SHOWN_PULLS,
    changed,
    digest,
    group,
    rank,
    recorded_paths,
    view,
)
from prgate.model import OpenPull
from prgate.sources.memory import FileSides, changeset_from_files


def test_most_shared_files_first_then_the_older_pull_request() -> None:
    ranked = rank(
        [
            OpenPull(9, "b", ("x",)),
            OpenPull(4, "a", ("x", "y")),
            OpenPull(2, "c", ("x",)),
            OpenPull(7, "d", ("x", "y", "z")),
        ]
    )
    assert [o.number for o in ranked] == [7, 4, 2, 9]


def test_rows_group_into_one_entry_per_pull_request() -> None:
    grouped = group([(3, "T", "b.py"), (5, "U", "a.py"), (3, "T", "a.py"), (3, "T", "a.py")])
    assert grouped == (OpenPull(3, "T", ("a.py", "b.py")), OpenPull(5, "U", ("a.py",)))


def test_the_view_caps_pull_requests_and_files_and_counts_the_rest() -> None:
    others = [OpenPull(n, "t" * 400, tuple(f"f{i}" for i in range(n))) for n in range(1, 9)]
    shown = view(others)
    assert [o.number for o in shown.shown] == [8, 7, 6, 5, 4][:SHOWN_PULLS]
    assert shown.more == 8 - SHOWN_PULLS
    assert all(len(o.title) == 256 for o in shown.shown)
    paths, more = shown.paths_of(shown.shown[0])
    assert len(paths) == SHOWN_PATHS and more == 8 - SHOWN_PATHS
    assert view([]).shown == () and view([]).more == 0


def test_changed_names_the_pull_requests_whose_shared_files_differ() -> None:
    before = [OpenPull(1, "a", ("x",)), OpenPull(2, "b", ("x", "y")), OpenPull(3, "c", ("z",))]
    after = [OpenPull(1, "a", ("x",)), OpenPull(2, "b", ("x",)), OpenPull(4, "d", ("x",))]
    assert changed(before, after) == (2, 3, 4)
    assert changed(after, after) == ()


def test_recorded_paths_count_both_names_of_a_rename_and_are_capped() -> None:
    changeset = changeset_from_files(
        {
            "b.py": FileSides(base="x\n", head="y\n"),
            "new.py": FileSides(base="x\n", head="x\n", old_path="old.py"),
            "a.py": FileSides(base=None, head="z\n"),
        }
    )
    assert recorded_paths(changeset).paths == ("a.py", "b.py", "new.py", "old.py")
    capped = recorded_paths(changeset, limit=2)
    assert capped.paths == ("a.py", "b.py") and not capped.complete


def test_the_digest_is_equal_for_equal_lists_in_any_order() -> None:
    one = [OpenPull(1, "a", ("x",)), OpenPull(2, "b", ("y", "z"))]
    assert digest(one) == digest(list(reversed(one)))
    assert digest(one) != digest([OpenPull(1, "a (renamed)", ("x",)), one[1]])
    assert digest(one) != digest(one[:1])


def test_the_digest_follows_what_the_comment_shows_only() -> None:
    listed = ("a", "b", "c")
    one = [OpenPull(1, "a", (*listed, "x")), OpenPull(2, "b", ("y",))]
    # Another file past the three listed, in place of one no longer shared: the same page.
    assert digest(one) == digest([OpenPull(1, "a", (*listed, "z")), one[1]])
    assert digest(one) != digest([OpenPull(1, "a", (*listed, "x", "z")), one[1]])
