"""``prgate init``: set a repository up for prgate, from what is in it.

It looks at the repository (:mod:`prgate.init.survey`), writes ``.github/prgate.yml`` with a
comment on each choice (:mod:`prgate.init.configtext`) once the validator of ``prgate config
validate`` accepts it, and with ``--agents`` writes prgate's section of ``AGENTS.md`` (and of an
existing ``CLAUDE.md``: :mod:`prgate.init.agents`). It never replaces a file without ``--force``
(the marked section of AGENTS.md is prgate's own and is kept up to date), and the same
repository always gives the same files, so running it again changes nothing.

Exit codes: 0 set up (or already set up), 2 could not (not a git repository, an existing config
that is not valid, broken markers, a file that cannot be written).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from prgate.config import CONFIG_PATH, Config
from prgate.errors import ConfigError, PrgateError

if TYPE_CHECKING:
    from prgate.init.survey import Survey

EXIT_OK = 0
EXIT_COULD_NOT = 2

AGENTS_FILE = "AGENTS.md"
CLAUDE_FILE = "CLAUDE.md"


class InitError(PrgateError):
    """``prgate init`` could not finish; the message says why and what to do."""


def run_init(path: Path, *, agents: bool, force: bool) -> int:
    """Set up the repository at ``path``; print what was done, in plain words."""
    try:
        for line in init_repository(path, agents=agents, force=force):
            print(line)
    except PrgateError as exc:
        print(f"prgate: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT
    return EXIT_OK


def init_repository(path: Path, *, agents: bool, force: bool) -> list[str]:
    """Do the work of ``prgate init``; return the lines that tell the user what happened."""
    from prgate.init.configtext import choose_packs, config_text
    from prgate.init.survey import survey
    from prgate.packs import builtin_names
    from prgate.sources.git import repo_root

    root = repo_root(path)
    found = survey(root)
    said = [_summary(found, root)]
    target = root / CONFIG_PATH
    text = config_text(found, builtin_names())
    if target.is_file() and not force:
        said.append(
            f"{CONFIG_PATH} already exists, so it was left as it is (`prgate init --force` "
            "replaces it with a new one)."
        )
        config = _valid(target)
        said.append(f"{CONFIG_PATH} is valid.")
    elif target.is_file() and _read(target) == text:
        config = _valid(target)
        said.append(f"{CONFIG_PATH} is already what prgate init would write: nothing changed.")
    else:
        verb = "Replaced" if target.is_file() else "Wrote"
        config = _write_valid(target, text)
        packs = ", ".join(name for name, _ in choose_packs(found, builtin_names()))
        said.append(
            f"{verb} {CONFIG_PATH} (packs: {packs}); it is valid. Each choice is explained in "
            "a comment in the file."
        )
    said += _notices(target)
    if agents:
        said += _write_agents(root, config)
    said.append(
        f"Next: commit {CONFIG_PATH}"
        + (f" and {AGENTS_FILE}" if agents else "")
        + " to the default branch. prgate reads the rules from the base branch of each change, "
        "so until then `prgate check` uses the defaults."
    )
    return said


def _summary(found: Survey, root: Path) -> str:
    parts = [f"{len(found.files)} file(s)"]
    if found.languages:
        parts.append(", ".join(found.languages))
    if found.migrations:
        parts.append("migrations in " + ", ".join(found.migrations))
    if found.infra or found.ci:
        parts.append("infrastructure or CI in " + ", ".join([*found.infra, *found.ci]))
    if found.workflows:
        parts.append(f"{found.workflows} GitHub workflow file(s)")
    if found.codeowners:
        parts.append(f"code owners in {found.codeowners}")
    if found.flag_calls:
        parts.append("feature-flag checks (" + ", ".join(found.flag_calls) + ")")
    return f"Looked at {root}: " + "; ".join(parts) + "."


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise InitError(f"{path.name} could not be read: {exc}.") from None


def _valid(path: Path) -> Config:
    """The config at ``path``, or an error listing every problem the validator finds."""
    from prgate.config.loader import load_config_file, validate_file

    errors = validate_file(path)
    if errors:
        listed = "\n".join(f"  {e.describe()}" for e in errors)
        raise InitError(
            f"{CONFIG_PATH} is not valid:\n{listed}\nFix it (`prgate config validate` checks "
            "it), or replace it with `prgate init --force`."
        )
    try:
        return load_config_file(path)
    except ConfigError as exc:  # pragma: no cover - validate_file said it loads
        raise InitError(str(exc)) from None


def _write_valid(target: Path, text: str) -> Config:
    """Write ``text`` to ``target`` only once the validator accepts it (checked beside it, so
    that the repository's own packs are found, then moved into place in one step)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".prgate-init-", suffix=".yml", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise InitError(f"{CONFIG_PATH} could not be written: {exc.strerror or exc}.") from None
    temporary = Path(name)
    try:
        config = _valid(temporary)
        os.replace(temporary, target)
    except InitError as exc:
        raise InitError(
            "prgate init made a config that does not validate, so nothing was written. "
            f"Please report this to whoever maintains prgate. {exc}"
        ) from None
    except OSError as exc:
        raise InitError(f"{CONFIG_PATH} could not be written: {exc.strerror or exc}.") from None
    finally:
        temporary.unlink(missing_ok=True)
    return config


def _notices(target: Path) -> list[str]:
    from prgate.config.flagnotice import inactive_flag_notices

    return [f"Note: {n}" for n in inactive_flag_notices(target)]


def _write_agents(root: Path, config: Config) -> list[str]:
    from prgate.init.agents import START, MarkerError, includes_agents, section, with_section

    text = section(config)
    said = []
    for name in (AGENTS_FILE, CLAUDE_FILE):
        path = root / name
        existing = _read(path)
        if name == CLAUDE_FILE:
            if existing is None:
                continue
            if includes_agents(existing):
                said.append(
                    f"{name} already includes {AGENTS_FILE} (`@{AGENTS_FILE}`): left as it is."
                )
                continue
        try:
            new = with_section(existing, text)
        except MarkerError as exc:
            raise InitError(f"{name} was left as it is: {exc}") from None
        if new == existing:
            said.append(f"{name}: prgate's section is up to date; nothing changed.")
            continue
        try:
            path.write_text(new, encoding="utf-8", newline="")
        except OSError as exc:
            raise InitError(f"{name} could not be written: {exc.strerror or exc}.") from None
        if existing is None or not existing.strip():
            said.append(f"Wrote {name} with prgate's section for coding agents.")
        elif START in existing:
            said.append(f"Updated prgate's section of {name}; the rest of it is unchanged.")
        else:
            said.append(f"Added prgate's section at the end of {name}; the rest is unchanged.")
    return said
