"""Golden tests: each renderer's output for fixed reports, compared with files under golden/.

A change to what prgate says shows up as a diff of these files. To accept a change on purpose,
run the tests with PRGATE_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from render.render_samples import overlaps

from prgate.coordination import view
from prgate.model import Report
from prgate.render import render
from prgate.render.markdown import check_annotations, check_summary, comment
from prgate.render.prompt import agent_prompt, with_overlaps

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PRGATE_UPDATE_GOLDEN") == "1"
SAMPLE_NAMES = ("failing", "fixable", "passing", "warnings")
SHA = "3f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"
RUN_URL = "https://github.com/acme/shop/runs/4242"


def _summary(report: Report) -> str:
    title, summary = check_summary(report, sha=SHA)
    return f"title: {title}\n---\n{summary}"


RENDERERS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "text": ("txt", lambda r: render(r, "text")),
    "text-color": ("ansi.txt", lambda r: render(r, "text", color=True)),
    "json": ("json", lambda r: render(r, "json")),
    "sarif": ("sarif.json", lambda r: render(r, "sarif")),
    "markdown": ("md", lambda r: render(r, "markdown")),
    "comment": ("comment.md", lambda r: comment(r, check_run_url=RUN_URL, sha=SHA)),
    "comment-fork": (
        "comment-fork.md",
        lambda r: comment(r, check_run_url=RUN_URL, sha=SHA, fixes_pushable=False),
    ),
    "comment-pushed": (
        "comment-pushed.md",
        lambda r: comment(r, check_run_url=RUN_URL, sha=SHA, fix_commit="a1b2c3d4e5f6a7b8"),
    ),
    "comment-overlaps": (
        "comment-overlaps.md",
        lambda r: comment(r, check_run_url=RUN_URL, sha=SHA, overlaps=overlaps()),
    ),
    "prompt-overlaps": (
        "prompt-overlaps.txt",
        lambda r: with_overlaps(agent_prompt(r), view(overlaps())),
    ),
    "summary": ("summary.md", _summary),
    "annotations": (
        "annotations.json",
        lambda r: json.dumps(check_annotations(r), ensure_ascii=False, indent=2) + "\n",
    ),
    "prompt": ("prompt.txt", agent_prompt),
}


def test_samples_are_all_covered(samples: dict[str, Callable[[], Report]]) -> None:
    assert tuple(sorted(samples)) == SAMPLE_NAMES


#: Variants that only matter for some reports.
ONLY = {
    "text-color": {"failing"},
    "comment-fork": {"fixable"},
    "comment-pushed": {"fixable"},
    "comment-overlaps": {"failing", "passing"},
    "prompt-overlaps": {"failing", "passing"},
}
CASES = [(n, k) for k in sorted(RENDERERS) for n in SAMPLE_NAMES if n in ONLY.get(k, {n})]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_golden(name: str, kind: str, samples: dict[str, Callable[[], Report]]) -> None:
    ext, fn = RENDERERS[kind]
    actual = fn(samples[name]())
    path = GOLDEN / f"{name}.{ext}"
    if UPDATE:
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"{path.name} is missing: run with PRGATE_UPDATE_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} differs (regenerate with PRGATE_UPDATE_GOLDEN=1)"


def test_no_stray_golden_files() -> None:
    wanted = {f"{n}.{RENDERERS[k][0]}" for n, k in CASES}
    assert {p.name for p in GOLDEN.iterdir()} == wanted
