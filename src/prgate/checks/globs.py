"""Gitignore-style path globs, shared by the check kinds that take ``paths`` parameters.

Patterns follow ``.gitignore`` (through pathspec): ``infra/**`` matches under a top-level
``infra`` folder, ``*.tf`` matches at any depth, a pattern with a slash is anchored at the
repository's root, and a later ``!pattern`` takes a path back out (``[".env*", "!.env.example"]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated

import pathspec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern
from pydantic import AfterValidator


@dataclass(frozen=True)
class Matcher:
    """A compiled list of globs. Matches repository paths such as ``app/models/user.py``."""

    patterns: tuple[str, ...]
    _spec: pathspec.GitIgnoreSpec = field(repr=False, compare=False)

    def matches(self, path: str) -> bool:
        return self.matching_pattern(path) is not None

    def matching_pattern(self, path: str) -> str | None:
        """The pattern that decides that ``path`` matches, or ``None`` when it does not."""
        if not self.patterns or not path:
            return None
        result = self._spec.check_file(path)
        if not result.include or result.index is None:
            return None
        return self.patterns[result.index]


def compile_globs(patterns: Iterable[str]) -> Matcher:
    """Compile gitignore-style ``patterns``; a pattern that cannot be used raises ``ValueError``.

    An empty list matches nothing.
    """
    items = tuple(patterns)
    for pattern in items:
        _check_one(pattern)
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(items)
    except Exception as exc:  # pathspec raises its own error types; report them plainly
        raise ValueError(f"a path pattern in {list(items)!r} cannot be used: {exc}") from None
    return Matcher(items, spec)


def _check_one(pattern: str) -> None:
    if not isinstance(pattern, str):
        raise ValueError(f"path patterns must be text, not {type(pattern).__name__}")
    if not pattern.strip():
        raise ValueError("a path pattern is empty; remove it or write the path to match")
    if pattern.startswith("#"):
        raise ValueError(
            f"the path pattern {pattern!r} starts with '#', which makes it a comment that "
            "matches nothing; write '\\#' to match a name starting with '#'"
        )
    if "\n" in pattern or "\r" in pattern:
        raise ValueError(f"the path pattern {pattern!r} spans several lines; use one per entry")
    if pattern.strip() == "!":
        raise ValueError("the path pattern '!' is incomplete; write the path to exclude after '!'")
    if pattern.endswith("\\") and not pattern.endswith("\\\\"):
        raise ValueError(
            f"the path pattern {pattern!r} ends with a '\\', which escapes nothing; remove it"
        )
    try:
        compiled = GitIgnoreSpecPattern(pattern)
    except Exception:  # pathspec's own error types
        raise ValueError(f"the path pattern {pattern!r} is not a valid path pattern") from None
    if compiled.regex is None:
        # pathspec (as git) takes a pattern it cannot read as one that matches nothing.
        raise ValueError(
            f"the path pattern {pattern!r} matches nothing: a '[' starts a set of characters "
            "that is not closed with ']'; write '\\[' to match a '[' itself"
        )


def _validate(patterns: tuple[str, ...]) -> tuple[str, ...]:
    compile_globs(patterns)
    return patterns


#: A list of gitignore-style patterns in a check's parameters, checked when the config loads.
Globs = Annotated[tuple[str, ...], AfterValidator(_validate)]
