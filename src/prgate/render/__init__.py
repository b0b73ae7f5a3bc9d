"""Renderers: one Report, said for each audience (terminal, JSON, markdown, SARIF, an agent).

Every renderer is pure: a Report in, text out. ``render`` picks one by the CLI's ``--format``.
"""

from __future__ import annotations

from prgate.model import Report

#: The values of ``prgate check --format``.
FORMATS = ("text", "json", "markdown", "sarif")


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """``report`` in the format ``fmt`` (one of ``FORMATS``), ending with a newline.

    ``color`` only affects ``text``; the caller decides it (a terminal, and no ``NO_COLOR``).
    """
    if fmt == "text":
        from prgate.render.text import render_text

        return render_text(report, color=color)
    if fmt == "json":
        from prgate.render.jsonout import render_json

        return render_json(report)
    if fmt == "markdown":
        from prgate.render.markdown import render_markdown

        return render_markdown(report)
    if fmt == "sarif":
        from prgate.render.sarif import render_sarif

        return render_sarif(report)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
