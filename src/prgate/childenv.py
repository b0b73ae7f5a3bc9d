"""The environment a child process starts with: what it needs to run, and none of the secrets.

prgate starts git, ruff, the flag parser's fork server (whose children parse untrusted code) and
multiprocessing's resource tracker. None of them needs the App's private key or webhook secret,
an AI service's key, or a cloud or CI token that happens to be in the environment prgate was
started with; and a child that went wrong (a parser fed a hostile file) must find none of them.
So a child gets an allow-list: the program search path, the home and temporary folders, the
locale and time zone, and what Windows needs to start a process. A deny-list of known secret
names would miss the token nobody thought of.

Children started through :mod:`subprocess` get ``env=child_env(...)``. multiprocessing starts its
fork server and resource tracker with this process's own environment and offers no way to pass
another, so :func:`scrubbed_environ` makes ``os.environ`` the child environment for the moment
they start (a few milliseconds, under a lock; other threads reading the environment meanwhile see
the smaller one).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

#: Variables every child may see: none of them holds a credential.
ALLOWED = frozenset(
    {
        "PATH",
        "HOME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        # Windows cannot start a process without these.
        "SYSTEMROOT",
        "SYSTEMDRIVE",
        "WINDIR",
        "COMSPEC",
        "PATHEXT",
    }
)
#: Prefixes of allowed variables: the locale's categories (``LC_ALL``, ``LC_CTYPE``...).
ALLOWED_PREFIXES = ("LC_",)

_SWAP = threading.Lock()


def allowed(name: str) -> bool:
    return name in ALLOWED or name.startswith(ALLOWED_PREFIXES)


def child_env(
    extra: Mapping[str, str] | None = None,
    *,
    keep: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a child: the allowed variables of ``environ`` (default: this
    process's), the variables named in ``keep`` (a tool's own settings, never a credential), then
    ``extra`` on top."""
    source = os.environ if environ is None else environ
    wanted = set(keep)
    env = {k: v for k, v in source.items() if allowed(k) or k in wanted}
    env.update(extra or {})
    return env


@contextmanager
def scrubbed_environ() -> Iterator[None]:
    """While inside, ``os.environ`` (and so the environment of any process started without an
    explicit one) is the child environment; every variable taken out is put back on leaving."""
    with _SWAP:
        removed = {k: v for k, v in os.environ.items() if not allowed(k)}
        for name in removed:
            del os.environ[name]
        try:
            yield
        finally:
            os.environ.update(removed)
