"""The ruff tool kind, as one package: ``settings`` (the team's settings on the base branch,
selection), ``process`` (running ruff in a private copy of the project), ``output`` (one
batched run per evaluation), ``formatdiff`` (what formatting would change), ``noqa``
(suppression comments), ``kind`` (findings), ``fix`` (automatic fixes) and ``tool`` (ruff on
the tool seam, :mod:`prgate.checks.tools`: settings files, the shared run, fixes)."""

from __future__ import annotations

from prgate.checks.ruff.batch import python_sources, run_batch
from prgate.checks.ruff.kind import (
    KIND,
    required_output,
    violation_finding,
)
from prgate.checks.ruff.noqa import Suppression
from prgate.checks.ruff.output import (
    PythonSource,
    RuffOutput,
    SyntaxProblem,
    Violation,
)
from prgate.checks.ruff.process import (
    Workspace,
    escape_glob,
    ruff_binary,
    run_process,
)
from prgate.checks.ruff.settings import (
    DEFAULT_SELECT,
    KIND_NAME,
    PYTHON_SUFFIXES,
    SETTINGS_NAMES,
    RuffParams,
    Selection,
    is_format_rule,
)
from prgate.checks.ruff.tool import RUFF_READS, TOOL
from prgate.checks.tools import ProcessResult, Runner, safe_relpath

__all__ = [
    "DEFAULT_SELECT",
    "KIND",
    "KIND_NAME",
    "PYTHON_SUFFIXES",
    "RUFF_READS",
    "SETTINGS_NAMES",
    "TOOL",
    "ProcessResult",
    "PythonSource",
    "RuffOutput",
    "RuffParams",
    "Runner",
    "Selection",
    "Suppression",
    "SyntaxProblem",
    "Violation",
    "Workspace",
    "escape_glob",
    "is_format_rule",
    "python_sources",
    "required_output",
    "ruff_binary",
    "run_batch",
    "run_process",
    "safe_relpath",
    "violation_finding",
]
