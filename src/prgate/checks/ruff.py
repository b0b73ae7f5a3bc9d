"""STUB, to be written: the ruff check kind. Interface only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RuffBaseConfig:
    """The base branch's ruff settings: the file they came from and its text."""

    filename: str  # "ruff.toml", ".ruff.toml" or "pyproject.toml"
    text: str


@dataclass(frozen=True)
class RuffOutput:
    """What one batched ruff run found (to be defined by this module)."""


def run_batch(*args: object, **kwargs: object) -> RuffOutput:
    raise NotImplementedError


def _codes(rule: object) -> Sequence[str]:
    return ()


def _run(ctx: object, rules: object) -> object:
    raise NotImplementedError


from prgate.checks import CheckKind, NoParams  # noqa: E402

KIND = CheckKind(name="ruff", params=NoParams, run=_run, ruff_codes=None)  # type: ignore[arg-type]
