"""``prgate mcp``: prgate's tools for AI agents, over the Model Context Protocol on stdio.

Agents converge fastest on feedback they can re-run and read as data, so the server exposes the
same functions as the command line, called in-process (no child ``prgate``): ``check`` returns
the contract's ``--format json`` object, ``fix`` applies the automatic fixes, ``explain`` and
``rules`` say what a rule asks for and which rules are in force. Anything that stops a tool (not a
git repository, a bad config, an unknown ref) comes back as a tool error in plain words; the
server itself keeps running.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent

from prgate import __version__
from prgate.errors import PrgateError

_P = ParamSpec("_P")
_T = TypeVar("_T")

#: How much of a rule's example file text ``explain`` shows.
EXAMPLE_CHARS = 1500

INSTRUCTIONS = (
    "prgate is the team's gate for pull requests. Before opening or updating a pull request, "
    "call `check` on the repository (path: its folder). A result with conclusion `failure` "
    "blocks: do what each finding's `fix` says (the `agent_prompt` lists it step by step), call "
    "`fix` for what can be fixed automatically, and call `check` again until the conclusion is "
    "`success`. Findings of `paths/protected` and `paths/forbidden` need a person: stop and ask "
    "one instead of working around them. Never edit .github/prgate.yml to loosen a rule."
)


def _plain_errors(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Turn what stops a tool into a tool error the agent can read; never crash the server.

    prgate's own errors are already written for a person. Anything else is a bug: only its type
    is named, because an exception's text may quote the change (and so a secret in it).
    """

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except PrgateError as exc:
            raise ToolError(f"prgate: {exc}") from None
        except Exception as exc:
            raise ToolError(
                f"an internal error stopped prgate ({type(exc).__name__}), so nothing was "
                "judged. Please report it to whoever maintains prgate for your team."
            ) from None

    return wrapper


def _folder(path: str) -> Path:
    return Path(path).expanduser()


def check(
    path: str = ".", base: str | None = None, head: str | None = None, config: str | None = None
) -> CallToolResult:
    """Gate the change in the git repository at `path`, as `prgate check --format json` does.

    The change runs from where HEAD left `base` (default: the repository's default branch) to
    `head` (default: the working tree, uncommitted edits and new files included). The rules are
    the ones on `base`, unless `config` names a config file. Returns the report: `conclusion`
    (`success` or `failure`), `findings` (rule, level, path, line, message, fix, fixable),
    `skipped` (what could not be judged) and `agent_prompt` (what to do, step by step).
    """
    from prgate.cli import judge, load_change
    from prgate.render.common import json_text
    from prgate.render.jsonout import to_json_object

    change, loaded = load_change(_folder(path), base=base, head=head, config_file=config)
    report = to_json_object(judge(change, loaded))
    # The same object twice: as the text `prgate check --format json` prints, and as data.
    return CallToolResult(
        content=[TextContent(type="text", text=json_text(report))], structured_content=report
    )


def fix(path: str = ".", base: str | None = None, config: str | None = None) -> dict[str, Any]:
    """Apply every automatic fix to the working tree at `path`, as `prgate fix` does.

    Returns `changed` (one line per file changed) and a `message`. Call `check` afterwards to see
    what is left.
    """
    from prgate.cli import fix_change, load_change

    change, loaded = load_change(_folder(path), base=base, config_file=config)
    changed = fix_change(change, loaded)
    if not changed:
        message = "Nothing could be fixed automatically."
    else:
        message = f"Fixed {len(changed)} file(s). Call `check` to see what is left."
    return {"changed": changed, "message": message}


def explain(rule: str, path: str = ".", base: str | None = None) -> dict[str, Any]:
    """Explain the rule `rule` (an id such as `paths/forbidden`): its title, why it matters, how
    to fix it, its level in the repository at `path`, and examples of changes it flags or not.
    """
    from prgate.cli import load_change
    from prgate.packs import builtin_names, load_builtin

    _, loaded = load_change(_folder(path), base=base)
    found = loaded.rule(rule)
    packed = None
    for name in builtin_names():
        packed = load_builtin(name).rule(rule)
        if packed is not None:
            break
    if found is not None:
        shown = found
    elif packed is not None:
        shown = packed.rule
    else:
        known = ", ".join(r.id for r in loaded.rules)
        raise PrgateError(f"there is no rule `{rule}`. The rules in force here are: {known}.")
    return {
        "rule": shown.id,
        "title": shown.title,
        "why": shown.why,
        "fix": shown.fix,
        "level": found.level if found is not None else "not in force in this repository",
        "check": shown.check,
        "origin": shown.origin,
        "examples": _examples(packed.cases) if packed is not None else [],
    }


def _examples(cases: Any) -> list[dict[str, Any]]:
    """One change the rule flags and one it does not, from the cases that ship with it."""
    out: list[dict[str, Any]] = []
    for flagged in (True, False):
        case = next((c for c in cases if bool(c.expect) is flagged), None)
        if case is None:
            continue
        files = []
        for name, sides in case.files.items():
            files.append({"path": name, "before": _text(sides.base), "after": _text(sides.head)})
        out.append({"name": case.name, "flagged": flagged, "files": files})
    return out


def _text(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else "(binary file)"
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "\n(...)"


def rules(path: str = ".", base: str | None = None, config: str | None = None) -> dict[str, Any]:
    """The rules in force for the repository at `path` (its config on `base`, or `config`):
    each rule's id, level (`error` blocks; `off` is not checked), title and where it comes from.
    """
    from prgate.cli import load_change

    _, loaded = load_change(_folder(path), base=base, config_file=config)
    return {
        "source": loaded.source,
        "rules": [
            {"rule": r.id, "level": r.level, "title": r.title, "check": r.check, "origin": r.origin}
            for r in loaded.rules
        ],
        "notices": list(loaded.notices),
    }


def build_server() -> MCPServer:
    server: MCPServer = MCPServer(
        "prgate", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )
    for tool in (check, fix, explain, rules):
        server.add_tool(_plain_errors(tool), name=tool.__name__)
    return server


def serve_stdio() -> None:
    """Serve the tools on stdin/stdout until the client closes them."""
    build_server().run("stdio")
