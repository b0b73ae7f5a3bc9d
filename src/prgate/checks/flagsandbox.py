"""Running the flag analysis in child processes with limits.

A native parser can crash or hang on pathological input, so ``scan_isolated`` runs
``flagscan.scan_source`` in child processes: an address-space and CPU limit set in the child, a
wall-clock timeout per file and a budget for the whole run. A child that dies or overruns costs
only its file, which comes back as a ``ScanFailure``; a new child takes the next file. Children
read untrusted text and answer in JSON (``flagwire``, never pickle), so a child that went wrong
cannot make the parent run anything. Children start from a fork server that was started with the
child environment (:mod:`prgate.childenv`), so they hold none of the parent's secrets.

Before a file reaches a parser, ``nesting_problem`` refuses nesting deeper than CPython itself
accepts (200 levels of brackets, 100 of indentation), which is where native parsers fall over.
Indentation is measured on logical lines, as CPython's tokenizer does: lines that continue a
bracketed expression or a backslash line may be indented as deeply as their author likes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess

from prgate.checks.flagscan import ScanFailure, ScanJob, ScanOutcome
from prgate.checks.flagwire import MAX_REPLY_BYTES, answer, decode_reply, encode_request
from prgate.childenv import scrubbed_environ

#: CPython refuses more nested brackets than this ("too many nested parentheses").
MAX_BRACKET_DEPTH = 200
#: CPython refuses more indentation levels than this ("too many levels of indentation").
MAX_INDENT_DEPTH = 100


@dataclass(frozen=True)
class Limits:
    """What one parser process may use."""

    #: Wall-clock seconds for one file.
    timeout: float = 20.0
    #: CPU seconds for one file (enforced by the kernel in the child).
    cpu_seconds: int = 20
    #: Address space of a parser process.
    memory_bytes: int = 2 * 1024 * 1024 * 1024
    #: Wall-clock seconds for all files of one call.
    budget: float = 120.0
    #: Parser processes working at once.
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))
    #: Nesting refused before parsing (tests raise these to reach the parser's own failures).
    max_brackets: int = MAX_BRACKET_DEPTH
    max_indent: int = MAX_INDENT_DEPTH


# --------------------------------------------------------------------------------------------
# Cheap checks before parsing

_STRINGS_AND_COMMENTS = re.compile(
    r"#[^\r\n]*"
    r"|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)"
    r'|"""(?:[^"\\]|\\.|"(?!""))*(?:"""|$)'
    r"|'(?:[^'\\\r\n]|\\.)*'?"
    r'|"(?:[^"\\\r\n]|\\.)*"?',
    re.DOTALL,
)
_BRACKETS = re.compile(r"[()\[\]{}]")


def nesting_problem(
    text: str, *, max_brackets: int = MAX_BRACKET_DEPTH, max_indent: int = MAX_INDENT_DEPTH
) -> ScanFailure | None:
    """Refuse code nested deeper than CPython accepts, before any parser sees it.

    Brackets are counted through the whole file; indentation only where a logical line starts
    (not inside brackets, not after a backslash), which is the only indentation Python reads.
    """
    code = _STRINGS_AND_COMMENTS.sub("", text)
    depth = 0
    continued = False
    levels: list[int] = [0]
    for line in code.splitlines():
        stripped = line.lstrip(" \t\f")
        if depth == 0 and not continued and stripped:
            width = len(line) - len(stripped)
            if width > levels[-1]:
                levels.append(width)
                if len(levels) - 1 > max_indent:
                    return ScanFailure("nesting", f"more than {max_indent} levels of indentation")
            else:
                while len(levels) > 1 and width < levels[-1]:
                    levels.pop()
        for m in _BRACKETS.finditer(line):
            if m.group() in "([{":
                depth += 1
                if depth > max_brackets:
                    return ScanFailure("nesting", f"more than {max_brackets} nested brackets")
            elif depth:
                depth -= 1
        continued = line.rstrip().endswith("\\")
    return None


# --------------------------------------------------------------------------------------------
# Isolation: parsing in child processes with limits


def scan_isolated(jobs: Sequence[ScanJob], *, limits: Limits | None = None) -> list[ScanOutcome]:
    """``scan_source`` for each job, in child processes; one outcome per job, in order."""
    limits = limits or Limits()
    results: list[ScanOutcome | None] = [None] * len(jobs)
    pending: deque[int] = deque()
    for index, job in enumerate(jobs):
        problem = nesting_problem(
            job.text, max_brackets=limits.max_brackets, max_indent=limits.max_indent
        )
        if problem is not None:
            results[index] = problem
        else:
            pending.append(index)
    if pending:
        _run_workers(jobs, pending, results, limits)
    return [r if r is not None else ScanFailure("error") for r in results]


def _run_workers(
    jobs: Sequence[ScanJob],
    pending: deque[int],
    results: list[ScanOutcome | None],
    limits: Limits,
) -> None:
    context = _context()
    deadline = time.monotonic() + limits.budget
    size = max(1, min(limits.workers, len(pending)))
    idle: list[_Worker] = []
    busy: dict[Connection, _Worker] = {}
    try:
        while pending or busy:
            now = time.monotonic()
            if now >= deadline:
                for index in pending:
                    results[index] = ScanFailure("budget")
                pending.clear()
                for worker in busy.values():
                    results[worker.job] = ScanFailure("budget")
                    worker.kill()
                busy.clear()
                break
            while pending and (idle or len(busy) < size):
                worker = idle.pop() if idle else _Worker(context, limits)
                index = pending.popleft()
                if worker.send(index, jobs[index], limits):
                    busy[worker.conn] = worker
                else:
                    results[index] = ScanFailure("crashed")
                    worker.kill()
            if not busy:
                continue
            wake = min(min(w.started + limits.timeout for w in busy.values()), deadline)
            for conn in wait(list(busy), timeout=max(0.0, wake - time.monotonic())):
                assert isinstance(conn, Connection)
                worker = busy.pop(conn)
                outcome = worker.receive()
                results[worker.job] = outcome
                if worker.alive:
                    idle.append(worker)
                else:
                    worker.kill()
            now = time.monotonic()
            for conn, worker in list(busy.items()):
                if now - worker.started >= limits.timeout:
                    del busy[conn]
                    results[worker.job] = ScanFailure(
                        "too-slow", f"over {limits.timeout:g} seconds"
                    )
                    worker.kill()
    finally:
        for worker in [*idle, *busy.values()]:
            worker.stop()


def _context() -> BaseContext:
    """How parser processes start: from a fork server, else spawned (where there is none).

    Never forked from this process: a forked child holds a copy of everything this process does
    (the App's private key, an AI service's key, the caller's environment), which a parser fed a
    hostile file must not. The fork server is a fresh interpreter started with the child
    environment (:func:`_start_helpers`); each parser process is a fork of it, with libcst already
    imported, and knows nothing of this one. A fork server is also safe for a threaded parent
    (the App's workers), whose locks a plain fork would copy while held.
    """
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:
        return multiprocessing.get_context("spawn")
    # Preloading this module in the fork server makes each parser process start with libcst
    # already imported. It only takes effect if the server has not started yet.
    context.set_forkserver_preload([__name__])
    return context


def _start_helpers(context: BaseContext) -> None:
    """Start the fork server and multiprocessing's resource tracker, if they are not running,
    with the child environment: they take this process's environment, and pass it on."""
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with scrubbed_environ():
            forkserver.ensure_running()


class _Worker:
    """One parser process and the pipe to it."""

    def __init__(self, context: BaseContext, limits: Limits) -> None:
        parent, child = context.Pipe()
        process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_child_main,
            args=(child, limits.memory_bytes),
            daemon=True,
            name="prgate-flag-parser",
        )
        if context.get_start_method() == "forkserver":
            # Checked before each start, so that a fork server that died is started again
            # with the child environment, not by ``start`` with this process's.
            _start_helpers(context)
            process.start()  # forked by the fork server, which holds no secrets
        else:
            with scrubbed_environ():  # a new interpreter, with this process's environment
                process.start()
        child.close()
        self.process = process
        self.conn = parent
        self.job = -1
        self.started = 0.0
        self.alive = True

    def send(self, index: int, job: ScanJob, limits: Limits) -> bool:
        request = encode_request(job, cpu_seconds=limits.cpu_seconds)
        self.job = index
        self.started = time.monotonic()
        try:
            self.conn.send_bytes(request)
        except (OSError, ValueError):
            self.alive = False
            return False
        return True

    def receive(self) -> ScanOutcome:
        try:
            raw = self.conn.recv_bytes(MAX_REPLY_BYTES)
        except (EOFError, OSError):
            self.alive = False
            self.process.join(timeout=1)
            code = self.process.exitcode
            if code is not None and code == -getattr(signal, "SIGXCPU", 0):
                return ScanFailure("too-slow", "its CPU time ran out")
            return ScanFailure("crashed")
        return decode_reply(raw)

    def kill(self) -> None:
        self.alive = False
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        # An empty request asks the child to leave. Closing the pipe alone is not enough for a
        # forked child, which holds a copy of this end too and so never sees the end of input.
        with contextlib.suppress(OSError, ValueError):
            self.conn.send_bytes(b"")
        self.conn.close()
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


def _child_main(conn: Connection, memory_bytes: int) -> None:
    """The parser process: limits itself, then answers one request per file until closed."""
    _silence()
    _limit_memory(memory_bytes)
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not raw:
            return
        conn.send_bytes(answer(raw, limit_cpu=_limit_cpu))


def _silence() -> None:
    """Send the process's own output (a native parser's crash notes) nowhere: the parent
    reports what happened in its own words."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _limit_memory(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not a Unix system: the timeout still applies
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _limit_cpu(seconds: int) -> None:
    """Let the kernel stop this process after ``seconds`` more CPU seconds."""
    try:
        import resource
    except ImportError:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
