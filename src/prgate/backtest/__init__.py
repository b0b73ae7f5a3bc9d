"""``prgate rules backtest``: how a proposed configuration would have judged the changes already
merged, next to how the configuration of the day judged them (issue 14, item 1).

``history`` reads the merged changes, ``replay`` judges each by both configurations with the
same engine as ``prgate check``, ``compare`` adds them up, ``render`` says it.
"""

from __future__ import annotations

from pathlib import Path

from prgate.backtest.compare import Comparison
from prgate.backtest.history import parse_since, past_changes
from prgate.backtest.render import render
from prgate.backtest.replay import replay
from prgate.config import Config
from prgate.errors import SourceError

DEFAULT_LAST = 30

__all__ = ["DEFAULT_LAST", "backtest", "run"]


def backtest(
    root: Path, tip: str, proposed: Config, *, last: int | None, since: str | None = None
) -> Comparison:
    """Replay the changes merged into ``tip`` under ``proposed`` and the rules of their day."""
    comparison = Comparison(tip=tip)
    comparison.mention([r.id for r in proposed.rules if r.enabled])
    for replayed in replay(
        root,
        past_changes(root, tip, last=last, since=parse_since(since) if since else None),
        proposed,
    ):
        comparison.add(replayed)
    if not comparison.changes:
        raise SourceError(
            "there is no merged change to replay in this history"
            + (f" since {since}" if since else "")
            + " (a change needs a commit before it)."
        )
    return comparison


def run(
    path: Path,
    *,
    config_file: str | None,
    last: int | None,
    since: str | None,
    fmt: str,
) -> str:
    """The report of ``prgate rules backtest``; raises :class:`PrgateError` when it cannot."""
    from prgate.config.loader import load_config_file
    from prgate.errors import ConfigError
    from prgate.sources.git import repo_root, resolve_commit

    root = repo_root(path)
    tip = resolve_commit(root, "HEAD")
    if tip is None:
        raise SourceError("this repository has no commits yet, so there is nothing to replay.")
    file = Path(config_file) if config_file else root / ".github" / "prgate.yml"
    if not file.is_file():
        raise ConfigError(
            "there is no proposed config to try: this file does not exist. Write the rules you "
            "want to try there, or name a file with --config.",
            file=str(file),
        )
    if since is not None:
        parse_since(since)  # a wrong date is said before any work
    proposed = load_config_file(file)
    if since is None and last is None:
        last = DEFAULT_LAST
    comparison = backtest(root, tip, proposed, last=last, since=since)
    n = len(comparison.changes)
    noun = "change" if n == 1 else "changes"
    scope = f"the {n} {noun} since {since}" if since else f"the last {n} {noun}"
    return render(comparison, fmt, scope=scope, proposal=str(config_file or file))
