"""`prgate mcp` as a real child process, driven over stdio by the MCP SDK's own client."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from linkrepos import local_repo, write_files
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from prgaterun import child_env, prgate

from prgate.packs import load_builtin

Session = Callable[[Client], Awaitable[None]]


def serve(cwd: Path, session: Session) -> None:
    """Start ``python -m prgate mcp`` in ``cwd`` and run ``session`` against it."""
    env = child_env()
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "prgate", "mcp"],
        cwd=str(cwd),
        env={k: env[k] for k in ("PATH", "PYTHONPATH", "GIT_CONFIG_GLOBAL") if k in env},
    )

    async def main() -> None:
        with anyio.fail_after(120):
            async with Client(params) as client:
                await session(client)

    anyio.run(main)


def text(result: Any) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def shop(tmp_path: Path) -> Path:
    """A repository whose feature branch adds an unused import (a blocking ruff finding) and
    badly laid-out code (fixable), uncommitted."""
    return local_repo(
        tmp_path / "shop",
        {"app/orders.py": "def total(items):\n    return sum(items)\n"},
        {
            "app/orders.py": "import os\ndef total( items ):\n    return sum( items )\n",
            "tests/test_orders.py": "def test_total():\n    assert True\n",
        },
        commit=False,
    )


def test_tools_are_listed_and_check_returns_the_cli_json(tmp_path: Path) -> None:
    root = shop(tmp_path)
    cli = prgate(root, "check", "--format", "json")
    assert cli.returncode == 1, cli.stderr
    seen: dict[str, Any] = {}

    async def session(client: Client) -> None:
        tools = await client.list_tools()
        seen["tools"] = sorted(t.name for t in tools.tools)
        result = await client.call_tool("check", {"path": str(root)})
        seen["check"] = result

    serve(tmp_path, session)
    assert seen["tools"] == ["check", "explain", "fix", "rules"]
    result = seen["check"]
    assert not result.is_error
    assert json.loads(text(result)) == json.loads(cli.stdout)
    assert result.structured_content == json.loads(cli.stdout)
    assert result.structured_content["conclusion"] == "failure"
    assert any(f["rule"] == "style/ruff-lint" for f in result.structured_content["findings"])


def test_fix_applies_the_fixes_and_says_what_changed(tmp_path: Path) -> None:
    root = shop(tmp_path)
    seen: dict[str, Any] = {}

    async def session(client: Client) -> None:
        seen["fix"] = await client.call_tool("fix", {"path": str(root)})
        seen["again"] = await client.call_tool("fix", {"path": str(root)})
        seen["check"] = await client.call_tool("check", {"path": str(root), "base": "main"})

    serve(tmp_path, session)
    fixed = seen["fix"].structured_content
    assert not seen["fix"].is_error
    assert any("app/orders.py" in line for line in fixed["changed"]), fixed
    assert "Fixed 1 file(s)" in fixed["message"]
    assert (root / "app/orders.py").read_text() == "def total(items):\n    return sum(items)\n"
    assert seen["again"].structured_content["changed"] == []
    assert seen["check"].structured_content["conclusion"] == "success"


def test_explain_and_rules_follow_the_repositorys_config(tmp_path: Path) -> None:
    root = local_repo(
        tmp_path / "r",
        {
            ".github/prgate.yml": "packs: [safe-zones, hygiene]\nrules:\n"
            "  size/limit: {level: error}\n",
            "app.py": "x = 1\n",
        },
        {},
        commit=False,
    )
    seen: dict[str, Any] = {}

    async def session(client: Client) -> None:
        seen["rules"] = await client.call_tool("rules", {"path": str(root)})
        seen["explain"] = await client.call_tool(
            "explain", {"rule": "paths/forbidden", "path": str(root)}
        )
        seen["outside"] = await client.call_tool(
            "explain", {"rule": "style/ruff-lint", "path": str(root)}
        )
        seen["unknown"] = await client.call_tool(
            "explain", {"rule": "team/nope", "path": str(root)}
        )

    serve(tmp_path, session)
    listed = {r["rule"]: r for r in seen["rules"].structured_content["rules"]}
    assert listed["size/limit"]["level"] == "error"  # re-tuned by the repository
    assert listed["paths/forbidden"]["origin"] == "pack safe-zones"
    assert "style/ruff-lint" not in listed  # python-style is not in use here
    explained = seen["explain"].structured_content
    packed = load_builtin("safe-zones").rule("paths/forbidden")
    assert packed is not None
    assert (explained["title"], explained["why"], explained["fix"]) == (
        packed.rule.title,
        packed.rule.why,
        packed.rule.fix,
    )
    assert explained["level"] == "error"
    assert [e["flagged"] for e in explained["examples"]] == [True, False]
    assert seen["outside"].structured_content["level"] == "not in force in this repository"
    assert seen["unknown"].is_error
    assert "there is no rule `team/nope`" in text(seen["unknown"])
    assert "paths/forbidden" in text(seen["unknown"])


def test_errors_come_back_as_plain_tool_errors_and_the_server_keeps_serving(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    broken = local_repo(
        tmp_path / "broken",
        {".github/prgate.yml": "packs: [hygene]\n", "a.py": "x = 1\n"},
        {},
        commit=False,
    )
    good = shop(tmp_path)
    seen: dict[str, Any] = {}

    async def session(client: Client) -> None:
        seen["plain"] = await client.call_tool("check", {"path": str(plain)})
        seen["broken"] = await client.call_tool("rules", {"path": str(broken)})
        seen["ref"] = await client.call_tool("check", {"path": str(good), "base": "nope"})
        seen["after"] = await client.call_tool("check", {"path": str(good)})

    serve(tmp_path, session)
    assert seen["plain"].is_error
    assert "is not inside a git repository" in text(seen["plain"])
    assert seen["broken"].is_error
    assert ".github/prgate.yml:1" in text(seen["broken"]) and "hygiene" in text(seen["broken"])
    assert seen["ref"].is_error and "The base 'nope'" in text(seen["ref"])
    for result in (seen["plain"], seen["broken"], seen["ref"]):
        assert "Traceback" not in text(result)
    assert not seen["after"].is_error
    assert seen["after"].structured_content["conclusion"] == "failure"


def test_check_judges_a_commit_when_head_is_given(tmp_path: Path) -> None:
    root = local_repo(
        tmp_path / "r",
        {"app/a.py": "x = 1\n"},
        {"app/a.py": "x = 2\n", "tests/test_a.py": "def test_a():\n    assert True\n"},
    )
    write_files(root, {"app/a.py": "import os\nx = 3\n"})  # uncommitted: not part of HEAD
    seen: dict[str, Any] = {}

    async def session(client: Client) -> None:
        seen["head"] = await client.call_tool(
            "check", {"path": str(root), "base": "main", "head": "feature"}
        )
        seen["tree"] = await client.call_tool("check", {"path": str(root), "base": "main"})

    serve(tmp_path, session)
    assert seen["head"].structured_content["conclusion"] == "success"
    assert seen["tree"].structured_content["conclusion"] == "failure"
