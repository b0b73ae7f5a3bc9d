"""What ``flags/guarded`` tells the builder about a function, method or class it reports.

The advice depends on whether the code existed before the change. A new function may simply do
nothing while its flag is off, so guarding its whole body (``if not F: return``) is safe. A
function that existed before must keep doing what it did while the flag is off: returning early
there would switch its old behaviour off for everyone (a view that answers nothing, a job that no
longer runs). For those the advice is always to keep the old path and put only the new one
behind the flag: ``if F: new... else: old...``. The texts never suggest an early return for code
that existed before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prgate.checks.flagscan import Unit

_KIND_WORDS = {"function": "function", "method": "method", "class": "class"}


def unguarded_message(unit: Unit) -> str:
    kind = _KIND_WORDS[unit.kind]
    if unit.kind == "class":
        members = name_list(unit.members)
        if unit.new:
            return (
                f"The new class `{unit.name}` has code that runs without checking a feature flag "
                f"(in {members})."
            )
        return (
            f"The class `{unit.name}` existed before this change, and new or changed code in "
            f"{members} runs without checking a feature flag."
        )
    lines = line_list(unit.lines)
    if unit.new and unit.checks_flag:
        return (
            f"The new {kind} `{unit.name}` checks a feature flag, but its code on {lines} runs "
            "outside that check."
        )
    if unit.new:
        return f"The new {kind} `{unit.name}` runs without checking a feature flag."
    if unit.checks_flag:
        return (
            f"The {kind} `{unit.name}` existed before this change, and its changed code on "
            f"{lines} runs outside its feature-flag check."
        )
    return (
        f"The {kind} `{unit.name}` existed before this change, and its changed code on {lines} "
        "runs without checking a feature flag."
    )


def unguarded_fix(unit: Unit, functions: Sequence[str]) -> str:
    check = f'{functions[0]}("your-flag-name")'
    allowed = ", ".join(f"`{f}`" for f in functions)
    keep_old = (
        f"keep its old code as it is and put only the new behaviour behind the flag: "
        f"`if {check}:` followed by the new code, and the old code in the `else:` branch. "
        "Do not return early when the flag is off: that would also switch off what it already "
        "did, for everyone, while the flag is off."
    )
    if unit.kind == "class" and unit.new:
        where = (
            f"`{unit.name}` is new, so it may do nothing while the flag is off: start the body "
            f"of each of {name_list(unit.members)} with `if not {check}: return`, or decorate "
            "the class with a flag decorator."
        )
    elif unit.kind == "class":
        where = (
            f"`{unit.name}` existed before this change. In a method this change adds, start its "
            f"body with `if not {check}: return`. In a method that existed before, {keep_old}"
        )
    elif unit.new:
        where = (
            f"`{unit.name}` is new, so it may do nothing while the flag is off: start its body "
            f"with `if not {check}: return` (returning what callers expect when the feature is "
            f"off), or put its code inside `if {check}:`."
        )
    else:
        where = f"`{unit.name}` existed before this change: {keep_old}"
    also = "; a flag decorator or a `with` block using one of them works too" if unit.new else ""
    return (
        f"{where} Use a real flag name your team has declared. These calls count as a flag "
        f"check: {allowed}{also}."
    )


def name_list(names: Sequence[str]) -> str:
    shown = [f"`{n}`" for n in names[:5]]
    if len(names) > 5:
        shown.append(f"{len(names) - 5} more")
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def line_list(lines: Sequence[int]) -> str:
    if not lines:
        return "its changed lines"
    shown = [str(n) for n in lines[:5]]
    if len(lines) > 5:
        shown.append(f"{len(lines) - 5} more")
    word = "line" if len(lines) == 1 else "lines"
    if len(shown) == 1:
        return f"{word} {shown[0]}"
    return f"{word} " + ", ".join(shown[:-1]) + " and " + shown[-1]
