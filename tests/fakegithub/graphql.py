"""Just enough GraphQL for the fake: parse one query document and run it against the repos.

Supported: an (optionally named, optionally with variable definitions) query with fields,
aliases, arguments (strings, block strings, numbers, booleans, null, enums, variables), inline
fragments (``... on Blob``) and ``__typename``. Schema served: ``repository(owner, name)`` with
``object(expression)``, ``nameWithOwner``, ``name``, ``id``, ``defaultBranchRef { name target
{ oid } }``; ``Blob { text isBinary byteSize oid isTruncated }``; ``Tree { oid entries { name path
type mode oid } }``; ``Commit { oid message associatedPullRequests(first) { nodes totalCount } }``; ``pullRequest(number) { number state isDraft headRefName headRefOid baseRefName baseRefOid author { login } labels(first) { nodes { name } } headRepository { nameWithOwner } baseRepository { nameWithOwner } }``; and ``rateLimit { cost limit remaining resetAt }``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class GraphQLError(Exception):
    """A query the fake cannot parse or run (answered as GitHub does: ``{"errors": [...]}``)."""


@dataclass
class Field:
    name: str
    alias: str | None
    args: dict[str, Any]
    selections: list[Field | Fragment] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class Fragment:
    on: str | None
    selections: list[Field | Fragment]


@dataclass(frozen=True)
class Variable:
    name: str


_TOKEN = re.compile(
    r'(?P<ws>[\s,]+|#[^\n]*)|(?P<block>"""(?:[^"\\]|\\.|"(?!""))*""")|(?P<str>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<spread>\.\.\.)|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<name>[_A-Za-z][_0-9A-Za-z]*)"
    r"|(?P<punct>[{}():$!=@\[\]])"
)


def _tokens(source: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if not m:
            raise GraphQLError(f"Parse error on {source[pos : pos + 10]!r} at {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, source: str) -> None:
        self.toks = _tokens(source)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        tok = self.peek()
        if tok is None:
            raise GraphQLError("Parse error: unexpected end of document")
        if (value is not None and tok[1] != value) or (kind is not None and tok[0] != kind):
            raise GraphQLError(f"Parse error on {tok[1]!r}")
        self.i += 1
        return tok[1]

    def document(self) -> list[Field | Fragment]:
        tok = self.peek()
        if tok and tok[1] == "query":
            self.take()
            if self.peek() and self.peek()[0] == "name":  # type: ignore[index]
                self.take()
            if self.peek() and self.peek()[1] == "(":  # type: ignore[index]
                self._skip_balanced("(", ")")
        elif tok and tok[1] in ("mutation", "subscription"):
            raise GraphQLError("The fake GitHub serves queries only")
        sels = self.selection_set()
        if self.peek() is not None:
            raise GraphQLError("Only one operation per document is supported by the fake")
        return sels

    def _skip_balanced(self, open_: str, close: str) -> None:
        depth = 0
        while True:
            tok = self.take()
            if tok == open_:
                depth += 1
            elif tok == close:
                depth -= 1
                if depth == 0:
                    return

    def selection_set(self) -> list[Field | Fragment]:
        self.take("{")
        sels: list[Field | Fragment] = []
        while self.peek() and self.peek()[1] != "}":  # type: ignore[index]
            if self.peek()[0] == "spread":  # type: ignore[index]
                self.take()
                on = None
                if self.peek() and self.peek()[1] == "on":  # type: ignore[index]
                    self.take()
                    on = self.take(kind="name")
                sels.append(Fragment(on, self.selection_set()))
                continue
            name = self.take(kind="name")
            alias = None
            if self.peek() and self.peek()[1] == ":":  # type: ignore[index]
                self.take()
                alias, name = name, self.take(kind="name")
            args: dict[str, Any] = {}
            if self.peek() and self.peek()[1] == "(":  # type: ignore[index]
                self.take()
                while self.peek() and self.peek()[1] != ")":  # type: ignore[index]
                    arg = self.take(kind="name")
                    self.take(":")
                    args[arg] = self.value()
                self.take(")")
            sub: list[Field | Fragment] = []
            if self.peek() and self.peek()[1] == "{":  # type: ignore[index]
                sub = self.selection_set()
            sels.append(Field(name, alias, args, sub))
        self.take("}")
        return sels

    def value(self) -> Any:
        kind, text = self.peek() or ("", "")
        if text == "$":
            self.take()
            return Variable(self.take(kind="name"))
        self.take()
        if kind == "str":
            return _unescape(text[1:-1])
        if kind == "block":
            return text[3:-3].replace('\\"""', '"""')
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(text, text)
        if text == "[":
            items = []
            while self.peek() and self.peek()[1] != "]":  # type: ignore[index]
                items.append(self.value())
            self.take("]")
            return items
        raise GraphQLError(f"Parse error on {text!r}")


def _unescape(s: str) -> str:
    out: list[str] = []
    i = 0
    simple = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "u":
                out.append(chr(int(s[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(simple.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse(query: str) -> list[Field | Fragment]:
    return _Parser(query).document()


# --------------------------------------------------------------------------- execution
# A resolver gets (field name, resolved args) for an object and returns the value:
# a scalar, None, a dict-like GraphObject, or a list of those. An object may also look ahead:
# ``prepare`` gets every (field name, resolved args) asked of it before any is resolved (to fetch
# them together).


@dataclass
class GraphObject:
    typename: str
    resolve: Callable[[str, dict[str, Any]], Any]
    prepare: Callable[[list[tuple[str, dict[str, Any]]]], None] | None = None


def execute(
    selections: list[Field | Fragment],
    root: GraphObject,
    variables: dict[str, Any],
) -> dict[str, Any]:
    return _select(root, selections, variables, path=[])


def _select(
    obj: GraphObject, selections: list[Field | Fragment], variables: dict[str, Any], path: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if obj.prepare is not None:
        obj.prepare(_asked(obj.typename, selections, variables))
    for sel in selections:
        if isinstance(sel, Fragment):
            if sel.on is None or sel.on == obj.typename:
                out.update(_select(obj, sel.selections, variables, path))
            continue
        if sel.name == "__typename":
            out[sel.key] = obj.typename
            continue
        args = {k: _resolve_var(v, variables) for k, v in sel.args.items()}
        value = obj.resolve(sel.name, args)
        out[sel.key] = _complete(value, sel, variables, [*path, sel.key])
    return out


def _asked(
    typename: str, selections: list[Field | Fragment], variables: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Every field (with its arguments) asked of an object of ``typename``; a field whose
    arguments do not resolve is left out (its error comes when it is resolved)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for sel in selections:
        if isinstance(sel, Fragment):
            if sel.on is None or sel.on == typename:
                out += _asked(typename, sel.selections, variables)
            continue
        try:
            out.append((sel.name, {k: _resolve_var(v, variables) for k, v in sel.args.items()}))
        except GraphQLError:
            continue
    return out


def _complete(value: Any, sel: Field, variables: dict[str, Any], path: list[str]) -> Any:
    if isinstance(value, GraphObject):
        if not sel.selections:
            raise GraphQLError(
                f"Field '{sel.name}' of type '{value.typename}' must have a selection"
            )
        return _select(value, sel.selections, variables, path)
    if isinstance(value, list):
        return [_complete(v, sel, variables, path) for v in value]
    return value


def _resolve_var(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Variable):
        if value.name not in variables:
            raise GraphQLError(f"Variable ${value.name} was not provided")
        return variables[value.name]
    if isinstance(value, list):
        return [_resolve_var(v, variables) for v in value]
    return value
