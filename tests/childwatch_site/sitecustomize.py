"""Loaded into a prgate process by the tests of children's environments (``tests/childwatch.py``),
through ``PYTHONPATH``; does nothing unless ``PRGATE_TEST_WATCH`` names a folder.

It copies ``/proc/PID/environ`` of each multiprocessing child just after it starts (the child
itself, the fork server and the resource tracker, when there are ones) into that folder, and
points prgate at a ruff wrapper (``PRGATE_TEST_RUFF``) that copies its own. It only observes:
the children are prgate's own, started as prgate starts them.
"""

from __future__ import annotations

import os

_OUT = os.environ.get("PRGATE_TEST_WATCH")


def _copy(role: str, pid: object) -> None:
    if not isinstance(pid, int) or _OUT is None:
        return
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            data = fh.read()
    except OSError:
        return
    with open(os.path.join(_OUT, f"{role}-{pid}.env"), "wb") as fh:
        fh.write(data)


if _OUT:
    import multiprocessing.process

    _start = multiprocessing.process.BaseProcess.start

    def _watched_start(self: multiprocessing.process.BaseProcess) -> None:
        _start(self)
        _copy("worker", self.pid)
        from multiprocessing import forkserver, resource_tracker

        _copy("forkserver", getattr(forkserver._forkserver, "_forkserver_pid", None))
        _copy("tracker", getattr(resource_tracker._resource_tracker, "_pid", None))

    multiprocessing.process.BaseProcess.start = _watched_start  # type: ignore[method-assign]

    _wrapper = os.environ.get("PRGATE_TEST_RUFF")
    if _wrapper:
        import ruff.__main__

        ruff.__main__.find_ruff_bin = lambda: _wrapper
