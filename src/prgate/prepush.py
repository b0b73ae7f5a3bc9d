"""The entry of the pre-commit hook (``.pre-commit-hooks.yaml``, hook id ``prgate``).

A pre-push hook must judge what is being pushed, not whatever else sits in the working tree, and
against the base a pull request would have. pre-commit names the pushed commit in
``PRE_COMMIT_TO_REF``; its ``PRE_COMMIT_FROM_REF`` is only where the remote branch was (the last
push), which would judge a slice of the PR, so the base stays ``prgate check``'s default: the
repository's default branch. Run by hand (no pushed ref), it judges the working tree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from prgate.cli import main

#: pre-commit's "nothing" commit: a branch being deleted.
_ZERO = "0" * 40


def hook_arguments(environ: Mapping[str, str], extra: Sequence[str] = ()) -> list[str]:
    """The ``prgate check`` command line for this hook run."""
    args = ["check"]
    to_ref = environ.get("PRE_COMMIT_TO_REF", "").strip()
    if to_ref and to_ref != _ZERO:
        args += ["--head", to_ref]
    return [*args, *extra]


if __name__ == "__main__":
    import sys

    raise SystemExit(main(hook_arguments(os.environ, sys.argv[1:])))
