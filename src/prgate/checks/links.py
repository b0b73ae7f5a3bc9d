"""Symbolic links and submodules in a rule's scope: findings of that rule, never a quiet skip.

prgate reads files, not what a link points to or what another repository holds. A link or a
submodule that a change adds or changes where a rule looks (the rule's ``paths``, or a tests
rule's ``source``), or a link that points into those paths from outside, would bring code there
that no rule read. Each becomes a finding of the rule, at the rule's level, that says so in plain
words. The same function serves every source, so ``prgate check`` and the App agree.

A link counts as in scope when its own path matches, or when a file inside it would (a link may
point to a folder, and prgate does not look at what it points to). Rules of the ``paths`` kind
judge every changed path themselves, links and submodules included, and are left to it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from prgate.checks import Rule
from prgate.checks.globs import Matcher, compile_globs
from prgate.model import ChangeSet, FileChange, FileStatus, Finding

#: Check kinds that judge changed paths (links included) on their own.
_PATH_KINDS = frozenset({"paths"})
_GLOB_CHARS = re.compile(r"\[[^\]]*\]|[*?]")


@dataclass(frozen=True)
class _Scope:
    included: Matcher
    excluded: Matcher | None
    #: File names tried inside a link that may be a folder.
    probes: tuple[str, ...]

    def covers(self, path: str) -> bool:
        """Whether ``path``, or a file inside it were it a folder, is in the rule's scope."""
        candidates = [path, *(f"{path}/{probe}" for probe in self.probes)]
        return any(self._selects(c) for c in candidates)

    def _selects(self, path: str) -> bool:
        if not self.included.matches(path):
            return False
        return self.excluded is None or not self.excluded.matches(path)


def link_findings(changeset: ChangeSet, rules: Sequence[Rule]) -> list[Finding]:
    """One finding per enabled rule for each link or submodule the change brings into its scope."""
    specials = [f for f in changeset.files if not f.is_deleted and (f.is_symlink or f.is_submodule)]
    if not specials:
        return []
    out: list[Finding] = []
    for rule in rules:
        if not rule.enabled or rule.check in _PATH_KINDS:
            continue
        scope = _scope_of(rule)
        if scope is None:
            continue
        for change in specials:
            message = _describe(change, scope)
            if message is not None:
                out.append(rule.finding(path=change.path, message=message, fix=_fix(change)))
    return out


def _scope_of(rule: Rule) -> _Scope | None:
    """The files a rule reads, from its ``paths`` (or a tests rule's ``source``) and ``exclude``."""
    params = rule.params
    patterns = getattr(params, "source", None) if rule.check == "tests" else None
    if patterns is None:
        patterns = getattr(params, "paths", None)
    if not isinstance(patterns, tuple) or not patterns:
        return None
    exclude = getattr(params, "exclude", None)
    excluded = compile_globs(exclude) if isinstance(exclude, tuple) and exclude else None
    return _Scope(compile_globs(patterns), excluded, tuple(_probes(patterns)))


def _probes(patterns: Sequence[str]) -> Iterator[str]:
    """Names of files that the patterns would take inside a folder: ``**/*.py`` gives ``x.py``."""
    seen: set[str] = set()
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        last = pattern.rstrip("/").rsplit("/", 1)[-1]
        name = _GLOB_CHARS.sub("x", last) if last not in ("", "**") else "x"
        for probe in (name, f"x/{name}"):
            if probe not in seen:
                seen.add(probe)
                yield probe


def _resolved_target(change: FileChange) -> str | None:
    """The repository path a link points to, or ``None`` when it points outside."""
    target = change.link_target
    if not target or target.startswith("/") or "\0" in target:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(change.path), target))
    if joined == ".." or joined.startswith("../") or joined == ".":
        return None
    return joined


def _describe(change: FileChange, scope: _Scope) -> str | None:
    verb = {FileStatus.ADDED: "adds", FileStatus.RENAMED: "moves"}.get(change.status, "changes")
    if change.is_submodule:
        if not scope.covers(change.path):
            return None
        return (
            f"This change {verb} a submodule at {change.path}: code from another repository. "
            "prgate does not look inside other repositories, so that code was not checked by "
            "this rule."
        )
    target = change.link_target or "somewhere prgate could not read"
    shown = _shown(target)
    if scope.covers(change.path):
        return (
            f"This change {verb} a link at {change.path} that points to {shown}. prgate does not "
            "follow links, so the code there was not checked by this rule."
        )
    resolved = _resolved_target(change)
    if resolved is not None and scope.covers(resolved):
        return (
            f"This change {verb} a link at {change.path} that points to {shown}, among the files "
            "this rule checks. prgate does not follow links, so what the link leads to was not "
            "checked by this rule from here."
        )
    return None


def _fix(change: FileChange) -> str:
    if change.is_submodule:
        return (
            "Copy the code you need into this repository as ordinary files instead of a "
            "submodule, so that prgate can check it. If the submodule must stay, ask whoever "
            "maintains your team's prgate rules where submodules may live."
        )
    return (
        "Replace the link with the file itself (or, for a folder, with copies of its files), "
        "so that prgate can check what it holds."
    )


def _shown(target: str) -> str:
    clean = "".join(c if c.isprintable() and c != "`" else "?" for c in target)
    if len(clean) > 120:
        clean = clean[:119] + "…"
    return f"`{clean}`"
