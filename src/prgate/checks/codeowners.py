"""Reading a CODEOWNERS file the way GitHub does, for the owners of one path.

GitHub looks for the file in ``.github/``, then the repository's root, then ``docs/``, and uses
the first it finds. Each line is a pattern followed by owners (``@user``, ``@org/team`` or an
e-mail address); ``#`` starts a comment. The *last* line whose pattern matches a path decides its
owners, and a pattern with no owners leaves the path without any. Patterns follow ``.gitignore``
(through pathspec) with GitHub's one difference: ``docs/*`` matches the files directly in
``docs/``, not those deeper down. ``!`` and ``[ ]`` are not supported by GitHub, and lines using
them are skipped, as GitHub skips them. Only users and teams are kept: an e-mail address cannot be
matched to a reviewer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

#: Where GitHub looks for the file, in its order.
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
#: GitHub ignores CODEOWNERS files larger than this (3 MB).
MAX_BYTES = 3 * 1024 * 1024

_USER = re.compile(r"^@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))$")
_TEAM = re.compile(r"^@([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9][A-Za-z0-9._-]*)$")


@dataclass(frozen=True)
class Owners:
    """The owners of a path: user logins and ``org/team`` names, as written in the file."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.users or self.teams)


@dataclass(frozen=True)
class _Line:
    pattern: str
    owners: Owners
    _compiled: GitIgnoreSpecPattern = field(repr=False, compare=False)

    def matches(self, path: str) -> bool:
        result = self._compiled.match_file(path)
        if result is None:
            return False
        if self.pattern.endswith("/*"):  # GitHub: direct children only
            return bool(result.match.end() == len(path))
        return True


@dataclass(frozen=True)
class CodeOwners:
    lines: tuple[_Line, ...] = ()

    def owners(self, path: str) -> Owners:
        """The owners GitHub would name for ``path`` (empty when none)."""
        for line in reversed(self.lines):
            if line.matches(path):
                return line.owners
        return Owners()


def parse(text: str) -> CodeOwners:
    """The usable lines of a CODEOWNERS file (lines GitHub would reject are skipped)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        return CodeOwners()
    lines: list[_Line] = []
    for raw in text.splitlines():
        line = _strip_comment(raw).strip()
        if not line:
            continue
        pattern, *owners = _split(line)
        if pattern.startswith("!") or "[" in pattern.replace("\\[", ""):
            continue
        try:
            compiled = GitIgnoreSpecPattern(pattern)
        except Exception:  # pathspec raises its own error types for a pattern it cannot use
            continue
        if compiled.include is None:
            continue
        lines.append(_Line(pattern, _owners(owners), compiled))
    return CodeOwners(tuple(lines))


def _strip_comment(line: str) -> str:
    out: list[str] = []
    escaped = False
    for ch in line:
        if ch == "#" and not escaped:
            break
        escaped = ch == "\\" and not escaped
        out.append(ch)
    return "".join(out)


def _split(line: str) -> list[str]:
    """Split on unescaped whitespace (``\\ `` keeps a space in a pattern)."""
    parts = re.split(r"(?<!\\)\s+", line)
    return [p.replace("\\ ", " ") for p in parts if p]


def _owners(words: list[str]) -> Owners:
    users: list[str] = []
    teams: list[str] = []
    for word in words:
        if m := _TEAM.match(word):
            teams.append(f"{m.group(1)}/{m.group(2)}")
        elif m := _USER.match(word):
            users.append(m.group(1))
    return Owners(tuple(users), tuple(teams))
