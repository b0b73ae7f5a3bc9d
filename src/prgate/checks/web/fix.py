"""Fixes of the web kind as new file contents, limited to what the change introduced.

:func:`fixed_contents` is the entry point a dispatching ``prgate fix`` can call: for each
changed file, oxlint's safe fixes and oxfmt's layout, each kept only where it overlaps lines
the change added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prgate.checks import CheckContext, Rule
from prgate.checks.web.hunks import apply, introduced
from prgate.checks.web.kind import changed_texts
from prgate.checks.web.tools import run_tools


def fixed_contents(ctx: CheckContext, rules: Sequence[Rule]) -> Mapping[str, str]:
    """Path -> new contents, for the changed files a fix would change (others left out).

    Lint fixes come first, on added lines only; the layout of the result is then fixed where
    it overlaps added lines (lines that shifted keep their "added" mark by position).
    """
    lint, fmt = changed_texts(ctx, rules)
    if not lint and not fmt:
        return {}
    changes = {f.path: f for f in ctx.changeset.files}
    first = run_tools(ctx.settings, lint=lint, fmt={}, lint_fix=True)
    texts = {**fmt, **lint}
    for path, fixed in first.lint_fixed.items():
        change = changes[path]
        texts[path] = apply(lint[path], introduced(lint[path], fixed, change.touches))
    second = run_tools(ctx.settings, lint={}, fmt={p: texts[p] for p in fmt})
    out: dict[str, str] = {}
    for path, text in texts.items():
        change = changes[path]
        new = text
        if path in second.formatted:
            new = apply(text, introduced(text, second.formatted[path], change.touches))
        head = change.head_text()
        if new != head:
            out[path] = new
    return out
