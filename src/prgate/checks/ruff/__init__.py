"""The ruff tool kind, as one package: ``settings`` (the team's settings on the base branch,
selection), ``process`` (running ruff in a private copy of the project), ``output`` (one
batched run per evaluation), ``formatdiff`` (what formatting would change), ``noqa``
(suppression comments), ``kind`` (findings) and ``fix`` (automatic fixes)."""

from __future__ import annotations

from prgate.checks.ruff.kind import (
    KIND,
    RUFF_READS,
    required_output,
    ruff_code_of,
    violation_finding,
)
from prgate.checks.ruff.noqa import Suppression
from prgate.checks.ruff.output import (
    PythonSource,
    RuffOutput,
    SyntaxProblem,
    Violation,
    python_sources,
    run_batch,
)
from prgate.checks.ruff.process import (
    ProcessResult,
    Runner,
    Workspace,
    escape_glob,
    ruff_binary,
    run_process,
    safe_relpath,
)
from prgate.checks.ruff.settings import (
    DEFAULT_SELECT,
    KIND_NAME,
    PYTHON_SUFFIXES,
    SETTINGS_NAMES,
    RuffBaseConfig,
    RuffParams,
    Selection,
    is_format_rule,
)

__all__ = [
    "DEFAULT_SELECT",
    "KIND",
    "KIND_NAME",
    "PYTHON_SUFFIXES",
    "RUFF_READS",
    "SETTINGS_NAMES",
    "ProcessResult",
    "PythonSource",
    "RuffBaseConfig",
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
    "ruff_code_of",
    "run_batch",
    "run_process",
    "safe_relpath",
    "violation_finding",
]
