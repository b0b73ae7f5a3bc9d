"""The parameters of an ``llm`` rule, as a team's lead writes them in the config."""

from __future__ import annotations

from pydantic import Field

from prgate.checks import Params
from prgate.checks.globs import Globs

#: Upper bounds a config cannot raise: they keep one rule's request to a sensible size.
MAX_FILES_LIMIT = 500
MAX_CHARS_LIMIT = 400_000


class LlmParams(Params):
    """What the reviewer is asked to look for, in which files, and how much it may read."""

    #: What to look for, in plain words. Sent to the model as the reviewer's task.
    instructions: str = Field(min_length=1, max_length=20_000)
    #: Gitignore-style globs of the files to review; every changed text file by default.
    paths: Globs = ("*",)
    #: How many changed files one rule sends at most (in path order); the rest are skipped.
    max_files: int = Field(default=50, ge=1, le=MAX_FILES_LIMIT)
    #: How many characters of added lines one rule sends at most; the rest are skipped.
    max_chars: int = Field(default=60_000, ge=1_000, le=MAX_CHARS_LIMIT)
