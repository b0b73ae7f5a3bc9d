"""Golden tests of the backtest's section of a pull request's comment (the App).

To accept a change on purpose, run with PRGATE_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from prgate.backtest.compare import Comparison
from prgate.backtest.history import PastChange
from prgate.backtest.prcomment import (
    Outcome,
    no_room,
    pending,
    replace_section,
    section,
    section_sha,
)
from prgate.backtest.replay import Replayed, Verdict
from prgate.model import Conclusion

GOLDEN = Path(__file__).parent / "golden_backtest"
UPDATE = os.environ.get("PRGATE_UPDATE_GOLDEN") == "1"
SHA = "3f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"

PASS = Verdict(Conclusion.SUCCESS, (), ())
WARN = Verdict(Conclusion.SUCCESS, (), ("team/no-todo",))
BLOCK = Verdict(Conclusion.FAILURE, ("team/no-todo",), ())
BROKEN = Verdict(Conclusion.FAILURE, (), (), problem="GitHub could not show it (Not Found)")


def _comparison() -> Comparison:
    c = Comparison(tip="b" * 40)
    c.mention(["team/no-todo", "size/limit"])
    titles = [
        "Add the checkout page",
        "Fix <script>alert(1)</script> **bold** | pipe `tick`",
        "Rename the cart",
        "Tidy the TODOs",
        "Bump a library",
    ]
    for n, title in enumerate(titles, start=10):
        c.add(Replayed(PastChange("a" * 40, f"{n:040x}", title, n), current=WARN, proposed=BLOCK))
    c.add(Replayed(PastChange("a" * 40, "c" * 40, "A change that passes", 9), PASS, PASS))
    c.add(Replayed(PastChange("a" * 40, "d" * 40, "Loosened", 8), BLOCK, PASS))
    c.add(Replayed(PastChange("a" * 40, "e" * 40, "Gone", 7), BROKEN, BROKEN))
    return c


CASES: dict[str, Callable[[], str]] = {
    "pending": lambda: pending(SHA),
    "no-room": lambda: no_room(SHA),
    "figures": lambda: section(
        SHA,
        Outcome(
            base_ref="main", asked=30, comparison=_comparison(), listed=8, calls=31, max_calls=200
        ),
    ),
    "partial": lambda: section(
        SHA,
        Outcome(
            base_ref="main",
            asked=30,
            comparison=_comparison(),
            listed=30,
            stopped="prgate replayed 8 of the 30 merged pull requests it found, then stopped.",
            calls=38,
            max_calls=40,
        ),
    ),
    "broken-proposal": lambda: section(
        SHA,
        Outcome(
            base_ref="release/`2.x`",
            asked=30,
            problem="There is no backtest: the rules this pull request proposes could not be "
            "loaded.",
            detail=".github/prgate.yml:3:1: The file is not valid YAML: <b>oops</b> `x`",
            calls=5,
            max_calls=200,
        ),
    ),
    "nothing-merged": lambda: section(
        SHA, Outcome(base_ref="main", asked=30, comparison=Comparison(tip="b" * 40))
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    actual = CASES[name]() + "\n"
    path = GOLDEN / f"{name}.md"
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"{path.name} is missing: run with PRGATE_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), f"{path.name} differs"


def test_no_stray_golden_files() -> None:
    assert {p.name for p in GOLDEN.iterdir()} == {f"{n}.md" for n in CASES}


def test_the_section_of_one_head_is_replaced_and_nothing_else() -> None:
    body = "<!-- prgate:report -->\nThe report.\n\n" + pending(SHA) + "\n"
    assert section_sha(body) == SHA
    done = section(SHA, Outcome(base_ref="main", asked=30, comparison=_comparison()))
    new = replace_section(body, SHA, done)
    assert new is not None
    assert new.startswith("<!-- prgate:report -->\nThe report.\n\n")
    assert new.count("<!-- prgate:backtest ") == 1 and "Would newly block" in new
    assert replace_section(body, "0" * 40, done) is None  # the comment moved on


def test_a_title_cannot_pose_as_the_sections_markers() -> None:
    c = Comparison(tip="b" * 40)
    forged = f"<!-- prgate:backtest:end --> <!-- prgate:backtest {SHA} -->"
    c.add(Replayed(PastChange("a" * 40, "f" * 40, forged, 3), WARN, BLOCK))
    text = section(SHA, Outcome(base_ref="main", asked=30, comparison=c))
    assert text.count("<!--") == 2  # its own two markers, the title's made inert
