"""prgate's section of ``AGENTS.md`` (and ``CLAUDE.md``): how a coding agent meets the gate.

Agents learn a repository's standards from these files, so the section says what to run before
opening a pull request, how to read the result, and where to stop and ask a person. It sits
between two markers; ``prgate init --agents`` writes it, and replaces only it when run again, so
whatever else the file says is left exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from prgate.config import Config

START = "<!-- prgate:start -->"
END = "<!-- prgate:end -->"
NOTE = (
    "<!-- Written by `prgate init --agents`, which replaces this section (and only it) when run "
    "again. -->"
)


class MarkerError(ValueError):
    """The file's prgate markers are broken (one without the other, or twice)."""


@dataclass(frozen=True)
class Guarded:
    """Paths whose changes need a person: approved (``approval``) or made outside a PR."""

    rule: str
    paths: tuple[str, ...]
    approval: bool


def guarded_paths(config: Config) -> list[Guarded]:
    """The enabled ``paths`` rules of ``config`` (``paths/protected``, ``paths/forbidden``...)."""
    out = []
    for rule in config.rules:
        if rule.check != "paths" or not rule.enabled:
            continue
        paths = tuple(getattr(rule.params, "paths", ()) or ())
        approval = getattr(rule.params, "approvers", None) is not None
        out.append(Guarded(rule=rule.id, paths=paths, approval=approval))
    return out


def section(config: Config) -> str:
    """The marked section, ending with a newline."""
    lines = [
        START,
        NOTE,
        "## Before you open a pull request: run prgate",
        "",
        "This repository's standards are checked on every pull request by prgate. Run the same "
        "check here first, and open or update the pull request only when it passes:",
        "",
        "1. Run `prgate check` at the top of the repository. It judges everything that differs "
        "from the default branch (commits, uncommitted edits and new files) by the rules in "
        "`.github/prgate.yml` as they are on that branch.",
        "2. Read its exit code:",
        "   - `0`: nothing blocks. Warnings and notices are still worth fixing.",
        "   - `1`: at least one finding at level `error` blocks the pull request. Fix each one.",
        "   - `2`: prgate could not judge (not a git repository, a broken config, an unknown "
        "branch); the reason is on stderr. This is never a pass: fix the cause or ask a person.",
        "3. For the details as data, run `prgate check --format json`: `conclusion` is "
        "`success` or `failure`; each of `findings` has `rule`, `level`, `path`, `line`, "
        "`message`, `fix` (what to do) and `fixable`; `skipped` lists what was not judged (not "
        "a pass); `agent_prompt` is the agent block, the numbered steps that also end the text "
        "output. Follow it.",
        "4. Run `prgate fix` to apply the fixes marked `fixable`, then run `prgate check` again, "
        "until it exits with `0`.",
        "5. `prgate rules test` runs the rules' own test cases; `prgate config validate` checks "
        "the config. Over MCP, `prgate mcp` offers the tools `check`, `fix`, `explain` and "
        "`rules`.",
        "",
        "Stop and ask a person, instead of working around the finding, when:",
    ]
    for g in guarded_paths(config):
        shown = ", ".join(f"`{p}`" for p in g.paths if not p.startswith("!")) or "(none)"
        if g.approval:
            lines.append(
                f"- `{g.rule}` reports a file that needs an approval from someone other than "
                f"you: {shown}. Say in the pull request what changed there and ask for a review."
            )
        else:
            lines.append(
                f"- `{g.rule}` reports a file that is never changed through a pull request: "
                f"{shown}. Undo that part and ask an engineer to make it."
            )
    lines += [
        "- a rule seems wrong for the change. Never edit `.github/prgate.yml` or "
        "`.github/prgate/` to loosen a rule, and never add `# noqa` or `# fmt: off` only to "
        "silence a finding.",
        END,
    ]
    return "\n".join(lines) + "\n"


def with_section(existing: str | None, text: str) -> str:
    """``existing`` (a file's text, ``None`` when there is none) with prgate's section set to
    ``text``: replaced between the markers, or added at the end; the rest kept as it is."""
    if existing is None or not existing.strip():
        return text
    newline = "\r\n" if "\r\n" in existing else "\n"
    starts = _marker_lines(existing, START)
    ends = _marker_lines(existing, END)
    if not starts and not ends:
        body = existing if existing.endswith(("\n", "\r")) else existing + newline
        return body + newline + text.replace("\n", newline)
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise MarkerError(
            f"it has {len(starts)} `{START}` and {len(ends)} `{END}` line(s), so prgate cannot "
            "tell which part is its own. Leave exactly one of each around prgate's section (or "
            "delete both), then run `prgate init --agents` again."
        )
    lines = existing.splitlines(keepends=True)
    before = "".join(lines[: starts[0]])
    after = "".join(lines[ends[0] + 1 :])
    return before + text.replace("\n", newline) + after


def _marker_lines(text: str, marker: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines()) if line.strip().startswith(marker)]


def includes_agents(text: str) -> bool:
    """Whether a CLAUDE.md already pulls AGENTS.md in (Claude Code's ``@AGENTS.md`` import)."""
    return any(line.strip().startswith("@AGENTS.md") for line in text.splitlines())
