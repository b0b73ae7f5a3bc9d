"""The small typed hierarchy of errors prgate raises. Every message is written for a person."""

from __future__ import annotations


class PrgateError(Exception):
    """Base of every error prgate explains to its user instead of crashing."""


class ConfigError(PrgateError):
    """A config file or rule pack that cannot be used, with where and why."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.file or "config"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.reason}"
        if self.hint:
            text += f" {self.hint}"
        return text


class SourceError(PrgateError):
    """The change itself cannot be read: not a repository, an unknown ref, a failed fetch."""


class HiddenRepository(SourceError):
    """Another repository cannot be seen: it does not exist, or the credentials in use may not
    read it (GitHub answers 404 to both)."""


class CheckError(PrgateError):
    """A check could not run at all (as opposed to a file it could not analyse)."""
