"""Whether a change to a Python file can change what the program does.

Two versions of a file behave the same when their syntax trees are equal once what Python never
runs is set aside: comments and layout (never in the tree), docstrings, and the annotations of
function parameters, return values and local variables (Python does not evaluate a local
variable's annotation, and a function's are only read by tools that check types). Annotations in
a class body or at module level are kept: dataclasses, pydantic models and similar turn them into
fields, so editing them changes behaviour.

When a version cannot be read as Python (a syntax error, a file too large or too deeply nested),
the change counts as one that may change behaviour: unsure means a test is asked for.
"""

from __future__ import annotations

import ast
import warnings

#: Files larger than this are not parsed: their change counts as a change of behaviour.
MAX_PARSE_BYTES = 512 * 1024


def changes_behaviour(base: bytes | None, head: bytes | None) -> bool:
    """Whether going from ``base`` to ``head`` (``None``: no such file) may change behaviour."""
    if base == head:
        return False
    before = _shape(base)
    after = _shape(head)
    return before is None or after is None or before != after


def _shape(source: bytes | None) -> str | None:
    """The file's syntax tree without what never runs, as text; ``None`` when unreadable."""
    if source is None:
        source = b""
    if len(source) > MAX_PARSE_BYTES:
        return None
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences and the like warn while parsing; they are not our concern.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, type_comments=False)
        return ast.dump(_Normalise().visit(tree), annotate_fields=False)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)


class _Normalise(ast.NodeTransformer):
    """Removes docstrings and the annotations that never run from a tree, in place."""

    def __init__(self) -> None:
        self._in_function = 0

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, _DEFINITIONS):
            _drop_docstring(node)
        return super().generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.returns = None
        for arg in (
            *node.args.posonlyargs,
            *node.args.args,
            *node.args.kwonlyargs,
            node.args.vararg,
            node.args.kwarg,
        ):
            if arg is not None:
                arg.annotation = None
        # Decorators and defaults run where the function is defined, outside its body.
        self._in_function += 1
        try:
            return self.generic_visit(node)
        finally:
            self._in_function -= 1

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        # A class body runs where it is defined, and its annotations become fields.
        saved, self._in_function = self._in_function, 0
        try:
            return self.generic_visit(node)
        finally:
            self._in_function = saved

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        self.generic_visit(node)
        if not self._in_function or not isinstance(node.target, ast.Name):
            return node
        if node.value is None:
            return None  # `x: int` in a function body does nothing at all
        return ast.Assign(targets=[node.target], value=node.value, lineno=0)


def _drop_docstring(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module,
) -> None:
    body = node.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        # A body cannot be empty; a module can, as a file holding nothing but a docstring.
        node.body = body[1:] or ([] if isinstance(node, ast.Module) else [ast.Pass()])
