"""The base's CODEOWNERS for a local change, so that findings name the code owners to ask.

Locally there are no reviews to read (``Approvals.reviews`` stays ``None``): a guarded file is a
finding that says who can approve it on the pull request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from prgate.checks import Rule
from prgate.checks.codeowners import LOCATIONS
from prgate.checks.paths import approval_needs
from prgate.model import Approvals, ChangeSet, CodeOwnersFile


def with_codeowners(changeset: ChangeSet, rules: Sequence[Rule]) -> ChangeSet:
    """``changeset`` with the base's CODEOWNERS attached when a rule asks code owners."""
    need = approval_needs(changeset, rules)
    if need is None or not need.codeowners:
        return changeset
    for path in LOCATIONS:
        data = changeset.read_base(path)
        if data is not None:
            file = CodeOwnersFile(path=path, text=data.decode("utf-8", errors="replace"))
            return replace(changeset, approvals=Approvals(codeowners=file))
    return changeset
