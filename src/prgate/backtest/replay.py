"""Judging past changes by two configurations: the one on each change's base, and a proposal.

Each change is opened and judged exactly as ``prgate check --base BASE --head HEAD`` would
(``open_change`` and ``judge`` of the command line), one change at a time, and only its verdict
is kept: memory stays flat however long the history (see :data:`WINDOW`).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from prgate.backtest.history import PastChange
from prgate.config import Config
from prgate.config.fetchers import GitRefFetcher
from prgate.errors import ConfigError, PrgateError
from prgate.model import Conclusion, Level, Report
from prgate.sources.gitrun import run_git


@dataclass(frozen=True)
class Verdict:
    """What one configuration made of one change."""

    conclusion: Conclusion
    #: The ids of the rules with a finding at level error, sorted.
    blocking: tuple[str, ...]
    #: The ids of the rules with a finding at level warning, sorted.
    warning: tuple[str, ...]
    #: Why the configuration on the base could not be read (the change then fails, as on GitHub).
    problem: str | None = None


@dataclass(frozen=True)
class Replayed:
    """One past change with both verdicts."""

    change: PastChange
    current: Verdict
    proposed: Verdict


def verdict_of(report: Report) -> Verdict:
    return Verdict(
        conclusion=report.conclusion,
        blocking=tuple(sorted({f.rule for f in report.findings if f.level is Level.ERROR})),
        warning=tuple(sorted({f.rule for f in report.findings if f.level is Level.WARNING})),
    )


class _RecordingFetcher:
    """A base's files, as :class:`GitRefFetcher` reads them, noting which paths were asked for."""

    def __init__(self, inner: GitRefFetcher) -> None:
        self.inner = inner
        self.paths: list[str] = []

    def read(self, repo: str | None, path: str) -> bytes | None:
        if repo is None and path not in self.paths:
            self.paths.append(path)
        return self.inner.read(repo, path)


class BaseConfigs:
    """The configuration on each base commit, loaded once per distinct set of config files.

    A config is read from a few files at the base (``.github/prgate.yml``, the repository's own
    packs); a later base whose copies of those same files are the same blobs has the same config,
    so it is reused instead of parsed again. Other repositories' configs (``extends``, the
    organisation's) are read with the first load of each distinct set.
    """

    def __init__(self, root: Path) -> None:
        from prgate.sources.remoteconfig import take_token

        self.root = root
        self._token = take_token(os.environ)
        self._lock = threading.Lock()
        self._seen: list[tuple[tuple[str, ...], tuple[str | None, ...], Config | PrgateError]] = []

    def at(self, base: str) -> Config:
        """The config on ``base``; raises what stopped it being read (a :class:`ConfigError`
        with file, line and column when it is broken)."""
        with self._lock:  # replay's threads share one cache
            return self._at(base)

    def _at(self, base: str) -> Config:
        for paths, blobs, found in self._seen:
            if _blobs(self.root, base, paths) == blobs:
                return _unwrap(found)
        from prgate.cli import base_config

        fetcher = _RecordingFetcher(GitRefFetcher(self.root, base))
        result: Config | PrgateError
        try:
            result = base_config(self.root, fetcher, token=self._token)
        except PrgateError as exc:  # a broken config, or one git cannot read (a link)
            result = exc
        paths = tuple(fetcher.paths)
        self._seen.append((paths, _blobs(self.root, base, paths), result))
        del self._seen[:-8]  # a few distinct configs in a history; bounded all the same
        return _unwrap(result)


def _unwrap(found: Config | PrgateError) -> Config:
    if isinstance(found, PrgateError):
        raise found
    return found


def _blobs(root: Path, commit: str, paths: tuple[str, ...]) -> tuple[str | None, ...]:
    """What each of ``paths`` is at ``commit``: its mode, kind and object id (``None`` where
    there is none)."""
    if not paths:
        return ()
    # Literal: a path named in a config ("[x].yml") is a name, never a pattern.
    out = run_git(
        root, ["--literal-pathspecs", "ls-tree", "-z", "--full-tree", commit, "--", *paths]
    )
    ids: dict[str, str] = {}
    for entry in out.split(b"\0"):
        if entry:
            meta, _, name = entry.partition(b"\t")
            ids[name.decode("utf-8", errors="surrogateescape")] = meta.decode()  # mode, kind, id
    return tuple(ids.get(p) for p in paths)


def _same_rules(a: Config, b: Config) -> bool:
    """Whether two configs judge alike (where they and their rules came from, and their notes,
    aside): then one evaluation gives both verdicts."""

    def plain(c: Config) -> Config:
        rules = tuple(replace(r, origin="") for r in c.rules)
        return replace(c, rules=rules, source="", notices=())

    return plain(a) == plain(b)


#: Changes judged at once: ruff and git are child processes, so two changes keep both of the
#: machine's cores busy; the window also bounds memory (at most this many changes are open).
WINDOW = 2


def replay(root: Path, changes: Iterable[PastChange], proposed: Config) -> Iterator[Replayed]:
    """Each change judged by its base's config and by ``proposed``, in the order given.

    Up to :data:`WINDOW` changes are judged at a time, each in its own thread with its own
    change and evaluations; results come out in order, and nothing else is kept.
    """
    configs = BaseConfigs(root)
    pending: deque[Future[Replayed]] = deque()
    with ThreadPoolExecutor(max_workers=WINDOW, thread_name_prefix="backtest") as pool:
        try:
            for change in changes:
                pending.append(pool.submit(_replay_one, root, change, proposed, configs))
                if len(pending) >= WINDOW:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _replay_one(root: Path, change: PastChange, proposed: Config, configs: BaseConfigs) -> Replayed:
    """One change, judged as ``prgate check --base BASE --head HEAD`` would, by both configs."""
    from prgate.cli import judge
    from prgate.sources.git import open_change

    try:
        local = open_change(root, base=change.base, head=change.head)
    except PrgateError as exc:  # as `prgate check` would: it could not judge, so no pass
        failed = Verdict(Conclusion.FAILURE, (), (), problem=str(exc))
        return Replayed(change=change, current=failed, proposed=failed)
    proposed_verdict = verdict_of(judge(local, proposed))
    try:
        current_config = configs.at(change.base)
    except PrgateError as exc:  # `prgate check` could not judge it: it fails, with the reason
        reason = exc.describe() if isinstance(exc, ConfigError) else str(exc)
        current = Verdict(Conclusion.FAILURE, (), (), problem=reason)
    else:
        if _same_rules(current_config, proposed):
            current = proposed_verdict
        else:
            current = verdict_of(judge(local, current_config))
    return Replayed(change=change, current=current, proposed=proposed_verdict)
