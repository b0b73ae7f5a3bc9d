"""Hold-the-line blocks of a formatter's output: where they are, and that they rebuild it."""

from __future__ import annotations

import random

import pytest

from prgate.checks.web.hunks import apply, hunks


def _lines(*items: str) -> str:
    return "".join(f"{item}\n" for item in items)


def test_a_change_deep_in_a_long_file_is_one_block_at_its_line() -> None:
    body = [f"const v{i} = {i};" for i in range(2000)]
    head = _lines(*body[:1500], "const  odd =1", *body[1500:])
    new = _lines(*body[:1500], "const odd = 1;", *body[1500:])
    (block,) = hunks(head, new)
    assert (block.start, block.end) == (1501, 1501)
    assert block.replacement == ("const odd = 1;\n",)


def test_blocks_next_to_repeated_lines_land_on_the_changed_ones() -> None:
    head = _lines("}", "}", "let a=1", "}", "}", "let b=2", "}")
    new = _lines("}", "}", "let a = 1;", "}", "}", "let b = 2;", "}")
    assert [(h.start, h.end) for h in hunks(head, new)] == [(3, 3), (6, 6)]


@pytest.mark.parametrize("seed", range(40))
def test_applying_every_block_gives_the_formatters_output(seed: int) -> None:
    rng = random.Random(seed)
    pool = ["a", "b", "}", "", "return x;", "  y();"]
    head_lines = [rng.choice(pool) for _ in range(rng.randint(0, 30))]
    new_lines = list(head_lines)
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(["insert", "delete", "replace"])
        at = rng.randint(0, len(new_lines))
        if op == "insert" or not new_lines:
            new_lines.insert(at, rng.choice(pool) + ";")
        elif op == "delete":
            del new_lines[min(at, len(new_lines) - 1)]
        else:
            new_lines[min(at, len(new_lines) - 1)] += " // x"
    head, new = _lines(*head_lines), _lines(*new_lines)
    assert apply(head, hunks(head, new)) == new
    assert (hunks(head, new) == []) == (head == new)
