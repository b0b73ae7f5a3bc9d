"""Reading Python files for feature flags: which new or changed code runs outside a flag check,
and which flag names the change uses.

``scan_source`` is the analysis, with libcst, of one file's text. It is pure and may be called
in-process (tests do), but a native parser can crash or hang on pathological input, so the checks
call it through ``flagsandbox.scan_isolated``, which runs it in child processes with limits and
talks to them in the JSON of ``flagwire``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from prgate.checks.flagplan import call_candidates

UnitKind = Literal["function", "method", "class"]

#: Calls after which the rest of a block does not run (besides ``return``/``raise``).
NO_RETURN_CALLS = frozenset({"abort", "flask.abort", "sys.exit", "exit", "quit", "os._exit"})
#: Keyword arguments that may carry a flag's name when it is not passed first.
NAME_KEYWORDS = frozenset({"name", "flag", "flag_name", "key"})


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Unit:
    """A new or changed function, method or class with code that runs outside a flag check."""

    name: str
    kind: UnitKind
    #: The ``def``/``class`` line (or the first decorator's, when only decorators changed).
    line: int
    end_line: int
    #: Every line of it was added by the change.
    new: bool
    #: First lines of the statements that run without a flag check (functions and methods).
    lines: tuple[int, ...] = ()
    #: For a class: its methods that run without a flag check.
    members: tuple[str, ...] = ()
    #: It does check a flag somewhere, but not around all of its new code.
    checks_flag: bool = False


@dataclass(frozen=True)
class FlagUse:
    """A flag name written as a string literal in a call to a flag function, on an added line."""

    name: str
    function: str
    line: int
    column: int


@dataclass(frozen=True)
class FileScan:
    unguarded: tuple[Unit, ...] = ()
    uses: tuple[FlagUse, ...] = ()
    #: The same file read with each of a job's ``more_functions``, in order (one parse).
    more: tuple[FileScan, ...] = ()


FailureCode = Literal["syntax", "nesting", "too-slow", "crashed", "memory", "budget", "error"]

_FAILURE_TEXT: Mapping[FailureCode, str] = {
    "syntax": "could not be read as Python",
    "nesting": "is nested too deeply to be analysed safely",
    "too-slow": "took too long to analyse",
    "crashed": "made the Python parser fail",
    "memory": "needed too much memory to analyse",
    "budget": "was not analysed because the time allowed for reading files ran out",
    "error": "could not be analysed because of an internal error",
}


@dataclass(frozen=True)
class ScanFailure:
    """A file that was not analysed, and a plain-language phrase saying why."""

    code: FailureCode
    detail: str = ""

    @property
    def reason(self) -> str:
        text = _FAILURE_TEXT[self.code]
        return f"{text} ({self.detail})" if self.detail else text


ScanOutcome = FileScan | ScanFailure
#: Every failure code, for readers of a child's answer.
FAILURE_CODES: frozenset[str] = frozenset(_FAILURE_TEXT)


@dataclass(frozen=True)
class ScanJob:
    """One file to read: its text, the line ranges the change added, the flag functions."""

    text: str
    added: tuple[tuple[int, int], ...]
    functions: tuple[str, ...]
    #: Other sets of flag functions to read the same parse with (rules that name other calls).
    more_functions: tuple[tuple[str, ...], ...] = ()


# --------------------------------------------------------------------------------------------
# Names


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a name or attribute chain; ``?.b.c`` when the chain starts elsewhere."""
    parts: list[str] = []
    node: cst.BaseExpression = expr
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
    elif parts:
        parts.append("?")
    else:
        return None
    return ".".join(reversed(parts))


def name_matches(dotted: str, functions: Iterable[str]) -> bool:
    """A call's dotted name matches ``flags.enabled`` when it is it or ends in ``.flags.enabled``."""
    return any(dotted == f or dotted.endswith("." + f) for f in functions)


def _literal(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.SimpleString):
        if "b" in expr.prefix.lower():
            return None
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        left, right = _literal(expr.left), _literal(expr.right)
        if left is None or right is None:
            return None
        return left + right
    return None


# --------------------------------------------------------------------------------------------
# Lines


class _Lines:
    """The added line ranges of a file, for overlap questions."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        self._ranges = merged
        self._starts = [r[0] for r in merged]

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, end) - 1
        return i >= 0 and self._ranges[i][1] >= start

    def covers(self, start: int, end: int) -> bool:
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and self._ranges[i][1] >= end

    def has(self, line: int) -> bool:
        return self.overlaps(line, line)


# --------------------------------------------------------------------------------------------
# The analysis


@dataclass(frozen=True)
class _Decides:
    """Whether a condition being true (false) means a flag was checked and came out one way."""

    when_true: bool
    when_false: bool

    @property
    def any(self) -> bool:
        return self.when_true or self.when_false

    def negated(self) -> _Decides:
        return _Decides(self.when_false, self.when_true)


_NO = _Decides(False, False)
_BOTH = _Decides(True, True)

_Exit = Literal["function", "loop"] | None


@dataclass
class _Frame:
    """A function, class or the module while it is being read."""

    prefix: str
    #: Function bodies are checked statement by statement; class and module bodies are not.
    checks_statements: bool
    flag_vars: dict[str, _Decides]
    unguarded: list[int] = field(default_factory=list)
    inner: list[Unit] = field(default_factory=list)
    #: A flag is checked somewhere in it.
    checks_flag: bool = False


def scan_source(
    text: str,
    *,
    added: Iterable[tuple[int, int]],
    functions: Sequence[str],
    more_functions: Sequence[Sequence[str]] = (),
) -> FileScan:
    """Read one file, parsed once, for ``functions`` and each of ``more_functions``. Raises
    ``libcst.ParserSyntaxError`` when it is not Python."""
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    lines = _Lines(added)
    first = _analyse(module, positions, lines, text, functions)
    more = tuple(_analyse(module, positions, lines, text, f) for f in more_functions)
    return FileScan(unguarded=first.unguarded, uses=first.uses, more=more)


def _analyse(
    module: cst.Module,
    positions: Mapping[cst.CSTNode, CodeRange],
    lines: _Lines,
    text: str,
    functions: Sequence[str],
) -> FileScan:
    analyser = _Analyser(positions, lines, tuple(functions))
    unguarded = analyser.module(module)
    uses: tuple[FlagUse, ...] = ()
    if call_candidates(text, functions):
        collector = _UseCollector(positions, analyser.lines, tuple(functions))
        module.visit(collector)
        uses = tuple(collector.uses)
    return FileScan(unguarded=tuple(unguarded), uses=uses)


class _UseCollector(cst.CSTVisitor):
    def __init__(
        self, positions: Mapping[cst.CSTNode, CodeRange], lines: _Lines, functions: Sequence[str]
    ) -> None:
        super().__init__()
        self._positions = positions
        self._lines = lines
        self._functions = functions
        self.uses: list[FlagUse] = []

    def visit_Call(self, node: cst.Call) -> None:
        callee = dotted_name(node.func)
        if callee is None or not name_matches(callee, self._functions):
            return
        arg = _name_argument(node)
        if arg is None:
            return
        name = _literal(arg)
        start = self._positions[arg].start
        if name is not None and self._lines.has(start.line):
            self.uses.append(FlagUse(name, callee, start.line, start.column + 1))


def _name_argument(call: cst.Call) -> cst.BaseExpression | None:
    if call.args and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in NAME_KEYWORDS:
            return arg.value
    return None


class _Analyser:
    """Finds new or changed functions, methods and classes whose code runs outside a flag check.

    What counts as inside a flag check (``F`` is a call to one of the flag functions, or a
    variable assigned from one):

    * the ``if`` branch when it can only run for one answer of a flag (``if F:``,
      ``if not F:``, ``if F and other:``; not ``if F or other:``);
    * the ``elif`` and ``else`` branches of any ``if`` whose condition checks a flag: they are
      the flag's other side, which is how the old behaviour is kept (``if F: new() else: old()``);
    * the rest of a block after an ``if`` on a flag with a branch that always leaves
      (``return``, ``raise``, ``continue``, ``break``, ``abort()``, ``sys.exit()``): that is
      ``if not F: return`` before the new code, or ``if F: return new()`` before the old;
    * the body of ``with F:`` and of ``while F:``, every case of ``match F:``;
    * a statement that is a conditional expression on a flag (``return a if F else b``);
    * a function or class decorated with a flag function, and everything nested in any of these.

    Not counted as code to guard: docstrings, ``pass``, ``...``, imports, ``global``, and the
    assignments that compute what a flag check needs (``user = load_user(id)`` before
    ``if flags.enabled("x", user=user)``). Class and module bodies are not checked themselves;
    their functions are.
    """

    def __init__(
        self, positions: Mapping[cst.CSTNode, CodeRange], lines: _Lines, functions: Sequence[str]
    ) -> None:
        self.positions = positions
        self.lines = lines
        self.functions = functions

    # ---- positions

    def _start(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def _end(self, node: cst.CSTNode) -> int:
        return self.positions[node].end.line

    def _changed(self, node: cst.CSTNode) -> bool:
        return self.lines.overlaps(self._start(node), self._end(node))

    def _header_changed(self, node: cst.CSTNode, body: cst.BaseSuite, first: int) -> bool:
        """Whether the lines from ``first`` to the end of the header (its ``:`` line) changed.

        Comment and blank lines between the header and the body are not the header: an edited
        comment there changes no behaviour."""
        if isinstance(body, cst.IndentedBlock):
            last = max(first, self.positions[body.header].start.line)
        else:
            last = self._start(node)
        return self.lines.overlaps(first, last)

    # ---- flag expressions

    def _is_flag_call(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, cst.Call):
            return False
        callee = dotted_name(expr.func)
        return callee is not None and name_matches(callee, self.functions)

    def _decides(self, expr: cst.BaseExpression, flag_vars: Mapping[str, _Decides]) -> _Decides:
        while True:
            if isinstance(expr, cst.Await):
                expr = expr.expression
            elif isinstance(expr, cst.NamedExpr):
                expr = expr.value
            elif (
                isinstance(expr, cst.Call)
                and isinstance(expr.func, cst.Name)
                and expr.func.value == "bool"
                and len(expr.args) == 1
            ):
                expr = expr.args[0].value
            else:
                break
        if self._is_flag_call(expr):
            return _BOTH
        if isinstance(expr, cst.Name):
            return flag_vars.get(expr.value, _NO)
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            return self._decides(expr.expression, flag_vars).negated()
        if isinstance(expr, cst.BooleanOperation):
            left = self._decides(expr.left, flag_vars)
            right = self._decides(expr.right, flag_vars)
            if isinstance(expr.operator, cst.And):
                return _Decides(
                    left.when_true or right.when_true, left.when_false and right.when_false
                )
            return _Decides(left.when_true and right.when_true, left.when_false or right.when_false)
        if isinstance(expr, cst.Comparison):
            sides = [expr.left, *(c.comparator for c in expr.comparisons)]
            if any(self._decides(s, flag_vars) == _BOTH for s in sides):
                return _BOTH
        return _NO

    def _is_flag_decorator(self, decorator: cst.Decorator) -> bool:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        callee = dotted_name(expr)
        return callee is not None and name_matches(callee, self.functions)

    def _calls_outside_flags(self, expr: cst.CSTNode) -> bool:
        """Whether ``expr`` calls anything other than a flag function (whose arguments count)."""
        stack: list[cst.CSTNode] = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Call):
                if self._is_flag_call(node):
                    continue
                return True
            if isinstance(node, cst.Lambda):
                continue
            stack.extend(node.children)
        return False

    # ---- units

    def module(self, module: cst.Module) -> list[Unit]:
        frame = _Frame(prefix="", checks_statements=False, flag_vars={})
        self._block(module.body, frame=frame, guarded=False, whole=False)
        return frame.inner

    def _function(self, node: cst.FunctionDef, *, parent: _Frame) -> list[Unit]:
        first = self._start(node.decorators[0]) if node.decorators else self._start(node)
        end = self._end(node)
        if not self.lines.overlaps(first, end):
            return []  # nothing in it changed
        if any(self._is_flag_decorator(d) for d in node.decorators):
            return []
        name = parent.prefix + node.name.value
        whole = self._header_changed(node, node.body, first)
        frame = _Frame(
            prefix=name + ".",
            checks_statements=True,
            flag_vars=dict(parent.flag_vars),
        )
        self._block(_statements(node.body), frame=frame, guarded=False, whole=whole)
        if not frame.unguarded:
            return frame.inner
        kind: UnitKind = "method" if parent.prefix and not parent.checks_statements else "function"
        return [
            Unit(
                name=name,
                kind=kind,
                line=self._report_line(node, first, end),
                end_line=end,
                new=self.lines.covers(first, end),
                lines=tuple(sorted(set(frame.unguarded))),
                checks_flag=frame.checks_flag,
            )
        ]

    def _class(self, node: cst.ClassDef, *, parent: _Frame) -> list[Unit]:
        first = self._start(node.decorators[0]) if node.decorators else self._start(node)
        end = self._end(node)
        if not self.lines.overlaps(first, end):
            return []  # nothing in it changed
        if any(self._is_flag_decorator(d) for d in node.decorators):
            return []
        name = parent.prefix + node.name.value
        frame = _Frame(prefix=name + ".", checks_statements=False, flag_vars=dict(parent.flag_vars))
        self._block(_statements(node.body), frame=frame, guarded=False, whole=False)
        if not frame.inner or not self._header_changed(node, node.body, first):
            return frame.inner
        return [
            Unit(
                name=name,
                kind="class",
                line=self._report_line(node, first, end),
                end_line=end,
                new=self.lines.covers(first, end),
                members=tuple(u.name.removeprefix(name + ".") for u in frame.inner),
            )
        ]

    def _report_line(self, node: cst.CSTNode, first: int, end: int) -> int:
        line = self._start(node)
        if not self.lines.overlaps(line, end):
            return first  # only the decorators changed
        return line

    # ---- blocks

    def _block(
        self, statements: Sequence[cst.CSTNode], *, frame: _Frame, guarded: bool, whole: bool
    ) -> _Exit:
        """Read a block; returns how it was left for good when a flag said so, if it was."""
        if guarded:
            return None
        guards = self._note_flag_vars(statements, frame)
        setup = self._setup(statements, frame, guards) if frame.checks_statements else set()
        for index, stmt in enumerate(statements):
            if isinstance(stmt, cst.FunctionDef):
                frame.inner.extend(self._function(stmt, parent=frame))
            elif isinstance(stmt, cst.ClassDef):
                frame.inner.extend(self._class(stmt, parent=frame))
            elif isinstance(stmt, cst.SimpleStatementLine | cst.SimpleStatementSuite):
                changed = whole or self._changed(stmt)
                if (
                    changed
                    and frame.checks_statements
                    and index not in setup
                    and not self._inert(stmt)
                    and not self._conditional_on_flag(stmt, frame)
                ):
                    frame.unguarded.append(self._start(stmt))
            elif whole or self._changed(stmt):
                left = self._compound(stmt, frame=frame, whole=whole)
                if left == "function":
                    return left
            exit_kind = self._flag_exit(stmt, frame)
            if exit_kind is not None:
                return exit_kind
        return None

    def _compound(self, stmt: cst.CSTNode, *, frame: _Frame, whole: bool) -> _Exit:
        """Read a compound statement that changed; returns ``function`` when its body returned
        early on a flag in a way that also guards what follows it (``with`` blocks)."""
        flags = frame.flag_vars
        if isinstance(stmt, cst.If):
            self._if(stmt, frame=frame, whole=whole)
            return None
        if isinstance(stmt, cst.With):
            header = self._header_changed(stmt, stmt.body, self._start(stmt))
            guarded = any(self._decides(item.item, flags) == _BOTH for item in stmt.items)
            calls = any(self._calls_outside_flags(item.item) for item in stmt.items)
            if not guarded and header and frame.checks_statements and calls:
                frame.unguarded.append(self._start(stmt))
            left = self._block(
                _statements(stmt.body), frame=frame, guarded=guarded, whole=whole or header
            )
            return left if left == "function" else None
        if isinstance(stmt, cst.While):
            decides = self._decides(stmt.test, flags)
            header = self._header_changed(stmt, stmt.body, self._start(stmt))
            self._header_calls(stmt.test, header and not decides.any, frame, stmt)
            sub = whole or header
            self._block(_statements(stmt.body), frame=frame, guarded=decides.when_true, whole=sub)
            if stmt.orelse is not None:
                self._block(
                    _statements(stmt.orelse.body),
                    frame=frame,
                    guarded=decides.when_false,
                    whole=sub,
                )
            return None
        if isinstance(stmt, cst.For):
            header = self._header_changed(stmt, stmt.body, self._start(stmt))
            self._header_calls(stmt.iter, header, frame, stmt)
            sub = whole or header
            self._block(_statements(stmt.body), frame=frame, guarded=False, whole=sub)
            if stmt.orelse is not None:
                self._block(_statements(stmt.orelse.body), frame=frame, guarded=False, whole=sub)
            return None
        if isinstance(stmt, cst.Match):
            header = self._header_changed(stmt, _first_case_body(stmt), self._start(stmt))
            guarded = self._decides(stmt.subject, flags) == _BOTH
            self._header_calls(stmt.subject, header and not guarded, frame, stmt)
            for case in stmt.cases:
                self._block(
                    _statements(case.body), frame=frame, guarded=guarded, whole=whole or header
                )
            return None
        if isinstance(stmt, cst.Try | cst.TryStar):
            header = self._header_changed(stmt, stmt.body, self._start(stmt))
            sub = whole or header
            self._block(_statements(stmt.body), frame=frame, guarded=False, whole=sub)
            for handler in stmt.handlers:
                self._block(_statements(handler.body), frame=frame, guarded=False, whole=sub)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    self._block(_statements(extra.body), frame=frame, guarded=False, whole=sub)
            return None
        # A statement kind this reader does not know: every changed line of it counts.
        if frame.checks_statements:
            frame.unguarded.append(self._start(stmt))
        return None

    def _if(self, stmt: cst.If, *, frame: _Frame, whole: bool) -> None:
        decides = self._decides(stmt.test, frame.flag_vars)
        header = self._header_changed(stmt, stmt.body, self._start(stmt))
        self._header_calls(stmt.test, header and not decides.any, frame, stmt)
        sub = whole or header
        self._block(_statements(stmt.body), frame=frame, guarded=decides.when_true, whole=sub)
        orelse = stmt.orelse
        if orelse is None or decides.any:
            return  # the other branches of a flag check are its "flag off" side
        if not (sub or self._changed(orelse)):
            return
        if isinstance(orelse, cst.If):
            self._if(orelse, frame=frame, whole=sub)
        else:
            self._block(_statements(orelse.body), frame=frame, guarded=False, whole=sub)

    def _header_calls(
        self, expr: cst.BaseExpression, changed: bool, frame: _Frame, stmt: cst.CSTNode
    ) -> None:
        if changed and frame.checks_statements and self._calls_outside_flags(expr):
            frame.unguarded.append(self._start(stmt))

    # ---- statements

    def _note_flag_vars(self, statements: Sequence[cst.CSTNode], frame: _Frame) -> list[int]:
        """Record variables assigned from flag checks; return the indexes of guard statements."""
        guards: list[int] = []
        for index, stmt in enumerate(statements):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._note_assignment(small, frame)
            if self._guard_expressions(stmt, frame):
                guards.append(index)
        frame.checks_flag = frame.checks_flag or bool(guards)
        return guards

    def _note_assignment(self, small: cst.BaseSmallStatement, frame: _Frame) -> None:
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
            value: cst.BaseExpression | None = small.value
        elif isinstance(small, cst.AnnAssign):
            targets, value = [small.target], small.value
        else:
            return
        if value is None:
            return
        decides = self._decides(value, frame.flag_vars)
        for target in targets:
            if isinstance(target, cst.Name):
                if decides.any:
                    frame.flag_vars[target.value] = decides
                else:
                    frame.flag_vars.pop(target.value, None)

    def _guard_expressions(self, stmt: cst.CSTNode, frame: _Frame) -> list[cst.BaseExpression]:
        flags = frame.flag_vars
        if isinstance(stmt, cst.If | cst.While) and self._decides(stmt.test, flags).any:
            return [stmt.test]
        if isinstance(stmt, cst.With):
            items = [i.item for i in stmt.items if self._decides(i.item, flags) == _BOTH]
            return items
        if isinstance(stmt, cst.Match) and self._decides(stmt.subject, flags) == _BOTH:
            return [stmt.subject]
        return []

    def _setup(
        self, statements: Sequence[cst.CSTNode], frame: _Frame, guards: Sequence[int]
    ) -> set[int]:
        """Indexes of assignments, before a guard, that compute what the flag check needs."""
        if not guards:
            return set()
        needed: set[str] = set()
        for index in guards:
            for expr in self._guard_expressions(statements[index], frame):
                needed |= _names_in(expr)
        setup: set[int] = set()
        for index in range(max(guards) - 1, -1, -1):
            stmt = statements[index]
            if index in guards or not isinstance(stmt, cst.SimpleStatementLine):
                continue
            assigned: set[str] = set()
            used: set[str] = set()
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for t in small.targets:
                        assigned |= _names_in(t.target)
                    used |= _names_in(small.value)
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    assigned |= _names_in(small.target)
                    used |= _names_in(small.value)
                else:
                    assigned = set()
                    break
            if assigned and assigned <= needed:
                setup.add(index)
                needed |= used
        return setup

    def _inert(self, stmt: cst.SimpleStatementLine | cst.SimpleStatementSuite) -> bool:
        for small in stmt.body:
            if isinstance(
                small, cst.Pass | cst.Import | cst.ImportFrom | cst.Global | cst.Nonlocal
            ):
                continue
            if isinstance(small, cst.Expr) and isinstance(
                small.value, cst.SimpleString | cst.ConcatenatedString | cst.Ellipsis
            ):
                continue
            if isinstance(small, cst.AnnAssign) and small.value is None:
                continue
            return False
        return True

    def _conditional_on_flag(
        self, stmt: cst.SimpleStatementLine | cst.SimpleStatementSuite, frame: _Frame
    ) -> bool:
        """``return new() if F else old()`` and the like: the statement is the flag check."""
        for small in stmt.body:
            if not isinstance(small, cst.Assign | cst.AnnAssign | cst.Return | cst.Expr):
                return False
            value = small.value
            if value is None:
                return False
            if isinstance(value, cst.IfExp) and self._decides(value.test, frame.flag_vars) == _BOTH:
                continue
            is_assignment = isinstance(small, cst.Assign | cst.AnnAssign)
            if not (is_assignment and self._decides(value, frame.flag_vars).any):
                return False  # ``enabled = flags.enabled("x")`` is the check itself
        return True

    def _flag_exit(self, stmt: cst.CSTNode, frame: _Frame) -> _Exit:
        """How the rest of the block is left for one answer of a flag, if it is."""
        if not isinstance(stmt, cst.If):
            return None
        if not self._decides(stmt.test, frame.flag_vars).any:
            return None
        left = _exits(stmt.body)
        if left is None and isinstance(stmt.orelse, cst.Else):
            left = _exits(stmt.orelse.body)
        return left


def _statements(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    if isinstance(suite, cst.IndentedBlock):
        return suite.body
    return [suite]


def _first_case_body(stmt: cst.Match) -> cst.BaseSuite:
    return stmt.cases[0].body if stmt.cases else cst.SimpleStatementSuite(body=[])


def _exits(suite: cst.BaseSuite) -> _Exit:
    """How a block always leaves: returning or raising, or ending a loop round; else None."""
    statements = _statements(suite)
    if not statements:
        return None
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        small = last.body[-1] if last.body else None
        if isinstance(small, cst.Return | cst.Raise):
            return "function"
        if isinstance(small, cst.Continue | cst.Break):
            return "loop"
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            callee = dotted_name(small.value.func)
            if callee is not None and callee in NO_RETURN_CALLS:
                return "function"
        return None
    if isinstance(last, cst.If) and isinstance(last.orelse, cst.Else):
        body, other = _exits(last.body), _exits(last.orelse.body)
        if body is not None and other is not None:
            return "function" if body == other == "function" else "loop"
    return None


def _names_in(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            names.add(current.value)
        stack.extend(current.children)
    return names
