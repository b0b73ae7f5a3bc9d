"""Notices for ``prgate config validate`` about feature-flag rules that check nothing.

``flags/guarded`` checks only the folders a team names in its ``paths``; without them it is on
but inactive. That is not an error (the config is valid and ``prgate check`` passes it), but whoever
keeps the config should know, so the validator says so on stderr and still exits 0.
"""

from __future__ import annotations

from pathlib import Path

from prgate.errors import PrgateError


def inactive_flag_notices(path: Path) -> list[str]:
    """One notice per enabled ``flags/guarded``-kind rule of the config at ``path`` without
    ``paths`` (none when the config cannot be loaded: the validator reports that itself)."""
    from prgate.checks.flags import inactive_guarded
    from prgate.config.loader import load_config_file

    try:
        config = load_config_file(path)
    except PrgateError:
        return []
    return [
        f"`{rule.id}` ({rule.origin or 'config'}) checks nothing: it has no `paths`. Name the "
        "folders whose new code must sit behind a feature flag, for example "
        f'`rules: {{{rule.id}: {{paths: ["src/payments/**", "!**/tests/**"]}}}}` in {path}; '
        f"or set its level to `off` if the team does not use feature flags."
        for rule in inactive_guarded(config.rules)
    ]
