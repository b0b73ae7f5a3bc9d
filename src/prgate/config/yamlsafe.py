"""Safe YAML: plain data only, with limits checked before anything is expanded.

Config files and rule packs are read with PyYAML's safe loader, plus what it does not do:
explicit tags are refused (``!!python/object``, ``!foo``), so are files over a size cap, deep
nesting, duplicate keys, and alias "bombs" (the expanded size is computed on the node graph,
before any value is built). Every refusal is a :class:`ConfigError` with a 1-based line and column.

The composed node graph is kept, so that later errors (schema errors) can be pointed at the line
and column of the value they are about: see :meth:`YamlDoc.locate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from prgate.errors import ConfigError

#: Largest config or pack file accepted.
MAX_BYTES = 256 * 1024
#: Most aliases (``*name``) a file may use.
MAX_ALIASES = 100
#: Most values a file may hold once its aliases are expanded.
MAX_NODES = 100_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 64

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document: its plain data and the node graph it was built from."""

    data: Any
    node: Node | None
    file: str

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> tuple[int, int] | None:
        """The 1-based (line, column) of the value at ``loc``; of its key when ``key`` is true.

        Walks as far along ``loc`` as the document goes and returns the last place reached, so
        that an error about a missing setting points at the mapping that lacks it.
        """
        node = self.node
        if node is None:
            return None
        here = node
        key_node: Node | None = None
        for step in loc:
            nxt: Node | None = None
            key_node = None
            if isinstance(here, MappingNode):
                for k, v in here.value:
                    if isinstance(k, ScalarNode) and k.value == str(step):
                        key_node, nxt = k, v
                        break
            elif (
                isinstance(here, SequenceNode)
                and isinstance(step, int)
                and 0 <= step < len(here.value)
            ):
                nxt = here.value[step]
            if nxt is None:
                break
            here = nxt
        else:
            if key and key_node is not None:
                here = key_node
        return here.start_mark.line + 1, here.start_mark.column + 1

    def error(
        self,
        reason: str,
        loc: Sequence[str | int] = (),
        *,
        key: bool = False,
        hint: str | None = None,
    ) -> ConfigError:
        where = self.locate(loc, key=key)
        line, column = where if where else (None, None)
        return ConfigError(reason, file=self.file, line=line, column=column, hint=hint)


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing tags, deep nesting and too many aliases while it composes."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self._file = file
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = event.start_mark
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _refuse(
                    f"The file uses more than {MAX_ALIASES} aliases (`*name`). prgate refuses "
                    "it so that a small file cannot expand into a huge one.",
                    self._file,
                    mark,
                )
        elif isinstance(event, ScalarEvent | CollectionStartEvent) and event.tag is not None:
            tag = event.tag.replace("tag:yaml.org,2002:", "!!", 1)
            raise _refuse(
                f"The tag `{tag}` is not allowed. prgate reads plain values only (text, "
                "numbers, true/false, lists and mappings).",
                self._file,
                mark,
                hint="Remove the tag (the word starting with `!`).",
            )
        if isinstance(event, CollectionStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _refuse(
                    f"The file nests lists and mappings more than {MAX_DEPTH} levels deep.",
                    self._file,
                    mark,
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


def _refuse(reason: str, file: str, mark: Any, *, hint: str | None = None) -> ConfigError:
    return ConfigError(reason, file=file, line=mark.line + 1, column=mark.column + 1, hint=hint)


def _decode(data: bytes | str, file: str) -> str:
    if isinstance(data, str):
        return data
    if len(data) > MAX_BYTES:
        raise _too_big(len(data), file)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(
            "The file is not UTF-8 text.",
            file=file,
            line=line,
            column=column,
            hint="Save it as UTF-8 (most editors have this under 'encoding').",
        ) from None


def _too_big(size: int, file: str) -> ConfigError:
    return ConfigError(
        f"The file is {size // 1024} KiB; prgate reads config and pack files of at most "
        f"{MAX_BYTES // 1024} KiB.",
        file=file,
        hint="Split the rules into several packs under .github/prgate/.",
    )


def load_yaml(data: bytes | str, *, file: str, trusted: bool = False) -> YamlDoc:
    """Parse one YAML document safely. Raises :class:`ConfigError` for anything refused.

    ``trusted``: a file that ships with prgate (a built-in pack), read with libyaml's own
    loader when there is one: the same plain data, ten times faster, without the refusals
    that guard against what a repository's files may hold.
    """
    text = _decode(data, file)
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise _too_big(len(text.encode("utf-8")), file)
    loader: yaml.SafeLoader | yaml.CSafeLoader
    loader = (
        _Loader(text, file) if not trusted else getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    )
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, file) from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"The file is not valid YAML: {exc}", file=file) from None
        except RecursionError:
            raise ConfigError("The file nests values too deeply to read.", file=file) from None
        if node is None:
            return YamlDoc(data=None, node=None, file=file)
        try:
            if not trusted:
                _check_graph(node, file)
        except RecursionError:
            raise ConfigError("The file nests values too deeply to read.", file=file) from None
        try:
            value = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, file) from None
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            raise ConfigError(f"A value in the file cannot be read: {exc}", file=file) from None
    finally:
        loader.dispose()
    return YamlDoc(data=value, node=node, file=file)


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "unreadable"
    hint = "Check the indentation and the `:` after each setting name near that place."
    if "\\t" in problem or "\t" in problem or " tab" in problem:
        hint = "YAML does not allow tab characters for indentation: use spaces."
    return ConfigError(
        f"The file is not valid YAML: {problem}.",
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
        hint=hint,
    )


def _check_graph(root: Node, file: str) -> None:
    """Refuse duplicate keys, non-text keys, cycles and an oversized expansion.

    The expanded size is computed with memoisation over the node graph (aliases share nodes), so
    a "billion laughs" file is measured in a few hundred steps and refused without expanding it.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: Node) -> int:
        ident = id(node)
        known = sizes.get(ident)
        if known is not None:
            return known
        if ident in on_path:
            raise _refuse(
                "A value in the file refers to itself through an alias.", file, node.start_mark
            )
        on_path.add(ident)
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child)
                if total > MAX_NODES:
                    break
        elif isinstance(node, MappingNode):
            _check_keys(node, file)
            for k, v in node.value:
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        on_path.discard(ident)
        if total > MAX_NODES:
            raise _refuse(
                f"The file expands to more than {MAX_NODES} values through its aliases "
                "(`&name` / `*name`). prgate refuses it before expanding it.",
                file,
                node.start_mark,
            )
        sizes[ident] = total
        return total

    size(root)


def _check_keys(node: MappingNode, file: str) -> None:
    seen: dict[str, Node] = {}
    for k, _v in node.value:
        if k.tag == _MERGE_TAG:
            continue
        if not isinstance(k, ScalarNode):
            raise _refuse(
                "A setting name must be plain text, not a list or mapping.", file, k.start_mark
            )
        first = seen.get(k.value)
        if first is not None:
            raise _refuse(
                f"`{k.value}` appears twice in the same mapping (first on line "
                f"{first.start_mark.line + 1}).",
                file,
                k.start_mark,
                hint="Keep one of them: YAML would silently use only the last one.",
            )
        seen[k.value] = k
