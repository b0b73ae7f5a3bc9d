"""What the feature-flag rules parse: only files whose change can touch a function, each once."""

from __future__ import annotations

import pytest

from prgate.checks import CheckContext, Rule
from prgate.checks.flagplan import DEFAULT_FUNCTIONS, DEFAULT_PATHS, reading
from prgate.checks.flags import KIND, REGISTERED_KIND, GuardedParams, RegisteredParams
from prgate.checks.flagsandbox import Limits
from prgate.checks.flagscan import scan_source
from prgate.checks.flagtouch import outline, touches_units
from prgate.config import Config
from prgate.engine import evaluate
from prgate.model import ChangeSet
from prgate.sources.memory import FileSides, changeset_from_files

BODY = (
    "import flags\n"  # 1
    "\n"  # 2
    "RATE = 1\n"  # 3
    "\n"  # 4
    "\n"  # 5
    "def total(order):\n"  # 6
    "    # the amount\n"  # 7
    "    subtotal = order.amount\n"  # 8
    "    return subtotal * RATE\n"  # 9
)


def _guarded(
    paths: list[str] | None = None, functions: tuple[str, ...] = DEFAULT_FUNCTIONS
) -> Rule:
    return Rule(
        id="flags/guarded",
        check="flags",
        level="error",
        title="New code runs without a feature flag",
        why="why",
        fix="fix",
        params=GuardedParams(paths=tuple(paths or DEFAULT_PATHS), functions=functions),
    )


def _registered(functions: tuple[str, ...] = DEFAULT_FUNCTIONS) -> Rule:
    return Rule(
        id="flags/registered",
        check="flag-registry",
        level="error",
        title="A feature flag name is not in the team's list of flags",
        why="why",
        fix="fix",
        params=RegisteredParams(functions=functions),
    )


def _changes(files: dict[str, tuple[str | None, str]]) -> ChangeSet:
    return changeset_from_files(
        {path: FileSides(base, head) for path, (base, head) in files.items()},
        head_files={"feature-flags.yml": "- known\n"},
    )


# --- the cheap look at the text --------------------------------------------------------------

TOUCHES = [
    # (base, head, why it must be parsed)
    ("RATE = 1\n", "RATE = 1\ndef refund(order): go(order)\n", "a one-line function"),
    ("RATE = 1\n", "RATE = 1\n\n\ndef refund(order):\n    go(order)\n", "a new function"),
    ("def f():\n    go()\n", "@app.route('/x')\ndef f():\n    go()\n", "a decorator added"),
    ("def f():\n    go()\n", "async def f():\n    go()\n", "async def"),
    ("X = 1\n", "X = 1\nhandler = lambda request: go(request)\n", "a lambda at module level"),
    (
        "class A:\n    rate = 1\n",
        "class A:\n    rate = 1\n    def refund(self):\n        go()\n",
        "a method in a class body",
    ),
    ("class A:\n    rate = 1\n", "class A:\n    rate = 2\n", "a class attribute"),
    ("def f():\n    go()\n", "def f(x=1):\n    go()\n", "a signature"),
    (
        "def f():\n    go()\n",
        "def f():\n    go()\n    sql = '''\n# not a comment\n'''\n",
        "text at column 0 inside a string in a function",
    ),
    (
        "@dec\ndef f():\n    go()\n",
        "@dec\n# why\ndef f():\n    go()\n",
        "a comment between a decorator and its function",
    ),
    (
        "def f():\n    go(1,\n       2)\n",
        "def f():\n    go(1,\n# two\n       2)\n",
        "a comment inside brackets, part of a statement",
    ),
    (
        "X = 1\n",
        "X = 1\nif True:\n    def f():\n        go()\n",
        "a function nested in a module-level if",
    ),
    ("X = 1\n", 'X = f"{y["k"]}"\ndef g():\n    go()\n', "an f-string with its quote inside"),
    ("X = 1\n", "X = '''\ndef f():\n    go()\n", "an unterminated string"),
    ("X = 1\n", "X = (1,\ndef f():\n    go()\n", "an unclosed bracket"),
    ("X = 1\n", "if x:\n\tdef f():\n\t\tgo()\n", "tabs in indentation"),
    ("X = 1\n", "X = 1\n    def f():\n        go()\n", "an unexpected indent"),
    ("X = 1\n", "X = " + "(" * 300 + ")" * 300 + "\n", "nesting Python refuses"),
]


@pytest.mark.parametrize(("base", "head", "why"), TOUCHES, ids=[t[2] for t in TOUCHES])
def test_a_change_that_may_touch_a_function_is_parsed(base: str, head: str, why: str) -> None:
    changes = _changes({"app/billing.py": (base, head)})
    [f] = changes.files
    added = tuple((r.start, r.end) for r in f.added)
    assert touches_units(outline(head), added), why


SKIPS = [
    (BODY, BODY.replace("RATE = 1", "RATE = 2"), "a module-level constant"),
    (BODY, BODY.replace("import flags\n", "import flags\nimport os\n"), "an import"),
    (BODY, BODY.replace("# the amount", "# the amount, before tax"), "a comment in a body"),
    (BODY, "# Billing.\n" + BODY, "a comment at the top"),
    (BODY, BODY + "\n\nif __name__ == '__main__':\n    main()\n", "module-level code"),
    (BODY, BODY.replace("def total", "# a note\ndef total"), "a comment above a function"),
]


@pytest.mark.parametrize(("base", "head", "why"), SKIPS, ids=[t[2] for t in SKIPS])
def test_a_change_that_touches_no_function_is_not_parsed(base: str, head: str, why: str) -> None:
    changes = _changes({"app/billing.py": (base, head)})
    [f] = changes.files
    added = tuple((r.start, r.end) for r in f.added)
    assert not touches_units(outline(head), added), why
    # the parse would have found nothing either
    assert scan_source(head, added=added, functions=DEFAULT_FUNCTIONS).unguarded == ()
    # and the rule, on the real path with no time to parse anything, reports nothing
    report = evaluate(changes, Config(rules=(_guarded(),)), scan_limits=Limits(budget=0))
    assert report.findings == ()


def test_comment_edits_in_many_files_are_not_parsed_at_all() -> None:
    files = {
        f"app/module_{i}.py": (BODY, BODY.replace("# the amount", f"# the amount ({i})"))
        for i in range(40)
    }
    changes = _changes(files)
    rules = (_guarded(), _registered())
    ctx = CheckContext(changeset=changes, rules=rules)
    assert KIND.run(ctx, [rules[0]]).findings == []
    assert REGISTERED_KIND.run(ctx, [rules[1]]).findings == []
    assert reading(ctx, rules).parsed == 0
    # With no time at all to parse, nothing is reported as "not analysed" either.
    report = evaluate(changes, Config(rules=rules), scan_limits=Limits(budget=0))
    assert report.findings == ()


def test_a_comment_under_a_function_header_is_not_a_change_to_the_function() -> None:
    head = BODY.replace("    # the amount\n", "    # the amount, in cents\n")
    scan = scan_source(head, added=[(7, 7)], functions=DEFAULT_FUNCTIONS)
    assert scan.unguarded == ()
    # a changed statement still is
    scan = scan_source(head, added=[(8, 8)], functions=DEFAULT_FUNCTIONS)
    assert [(u.name, u.lines) for u in scan.unguarded] == [("total", (8,))]


def test_a_flag_call_on_an_added_line_is_parsed_for_the_registry() -> None:
    base = "def f():\n    if flags.enabled('known'):\n        go()\n"
    head = "X = 1\n" + base.replace("'known'", "'unknown'")
    changes = _changes({"app/a.py": (base, head)})
    rules = (_registered(),)
    ctx = CheckContext(changeset=changes, rules=rules)
    [finding] = REGISTERED_KIND.run(ctx, list(rules)).findings
    assert (finding.path, finding.line) == ("app/a.py", 3)
    assert reading(ctx, rules).parsed == 1


def test_a_flag_call_on_an_untouched_line_is_not_parsed_for_the_registry() -> None:
    base = "def f():\n    if flags.enabled('unknown'):\n        go()\n"
    head = "X = 1\n" + base
    changes = _changes({"app/a.py": (base, head)})
    rules = (_registered(),)
    ctx = CheckContext(changeset=changes, rules=rules)
    assert REGISTERED_KIND.run(ctx, list(rules)).findings == []
    assert reading(ctx, rules).parsed == 0


def test_each_file_is_parsed_once_for_both_rules_even_with_different_functions() -> None:
    head = (
        "def f(order):\n    if unleash.is_enabled('unknown'):\n        go(order)\n    done(order)\n"
    )
    other = head.replace("done(order)", "finish(order)")
    changes = _changes({"app/a.py": (None, head), "app/b.py": (None, other)})
    guarded = _guarded(functions=("flags.enabled",))
    registered = _registered(functions=("unleash.is_enabled",))
    rules = (guarded, registered)
    ctx = CheckContext(changeset=changes, rules=rules)
    # the registry kind runs first in an evaluation (kinds run in name order)
    found = REGISTERED_KIND.run(ctx, [registered]).findings
    assert sorted((f.path, f.line) for f in found) == [("app/a.py", 2), ("app/b.py", 2)]
    found = KIND.run(ctx, [guarded]).findings
    assert sorted((f.path, f.line) for f in found) == [("app/a.py", 1), ("app/b.py", 1)]
    assert reading(ctx, rules).parsed == 2  # two files, one parse each


def test_files_with_the_same_text_and_changed_lines_are_parsed_once() -> None:
    head = "def f():\n    go()\n"
    changes = _changes({"app/a.py": (None, head), "lib/a.py": (None, head)})
    rules = (_guarded(),)
    ctx = CheckContext(changeset=changes, rules=rules)
    found = KIND.run(ctx, list(rules)).findings
    assert sorted(f.path for f in found) == ["app/a.py", "lib/a.py"]
    assert reading(ctx, rules).parsed == 1


def test_the_engine_judges_both_kinds_with_their_own_functions() -> None:
    head = "def f():\n    if unleash.is_enabled('unknown'):\n        go()\n    done()\n"
    changes = _changes({"app/a.py": (None, head)})
    guarded = _guarded(functions=("flags.enabled",))
    registered = _registered(functions=("unleash.is_enabled",))
    report = evaluate(changes, Config(rules=(guarded, registered)))
    assert sorted((f.rule, f.line) for f in report.findings) == [
        ("flags/guarded", 1),
        ("flags/registered", 2),
    ]


BIG = (
    "import flags\n"  # 1
    "ON = flags.enabled('vat')\n"  # 2
    "\n"  # 3
    "\n"  # 4
    "def untouched():\n"  # 5
    "    go()\n"  # 6
    "\n"  # 7
    "\n"  # 8
    "class Billing:\n"  # 9
    "    rate = 1\n"  # 10
    "\n"  # 11
    "    def first(self):\n"  # 12
    "        go()\n"  # 13
    "\n"  # 14
    "    def total(self, order):\n"  # 15
    "        if ON:\n"  # 16
    "            return order.amount * 2\n"  # 17
    "        return order.amount\n"  # 18
    "\n"  # 19
    "    def refund(self, order):\n"  # 20
    "        gateway.refund(order)\n"  # 21
    "\n"  # 22
    "    def last(self):\n"  # 23
    "        go()\n"  # 24
)


@pytest.mark.parametrize("added", [[(17, 17)], [(21, 21)], [(9, 9), (21, 21)], [(6, 6)]])
def test_only_the_touched_functions_are_handed_to_the_parser(
    added: list[tuple[int, int]],
) -> None:
    from prgate.checks.flagtouch import excerpt

    text = excerpt(outline(BIG), BIG, added)
    lines = text.split("\n")
    assert len(lines) == len(BIG.split("\n"))  # same line numbers
    assert lines[1] == "ON = flags.enabled('vat')"  # module statements stay
    assert ("def untouched():" in text) == ((6, 6) in added)
    if (6, 6) not in added:
        assert "    def first(self):" not in text  # an untouched method of a touched class
        assert "    def last(self):" in text  # where the class ends
    full = scan_source(BIG, added=added, functions=DEFAULT_FUNCTIONS)
    assert scan_source(text, added=added, functions=DEFAULT_FUNCTIONS) == full


def test_the_parser_is_not_even_loaded_when_nothing_needs_parsing() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from prgate.checks import CheckContext\n"
        "from prgate.checks.flags import KIND, REGISTERED_KIND\n"
        "from prgate.sources.memory import FileSides, changeset_from_files\n"
        "from prgate.checks import Rule\n"
        "from prgate.checks.flags import GuardedParams, RegisteredParams\n"
        "changes = changeset_from_files({'app/a.py': FileSides('X = 1\\n', 'X = 2\\n')})\n"
        "def rule(check, params):\n"
        "    return Rule(id=check, check=check, level='error', title='t', why='w', fix='f',"
        " params=params)\n"
        "rules = (rule('flags', GuardedParams(paths=('**/*.py',))),"
        " rule('flag-registry', RegisteredParams()))\n"
        "ctx = CheckContext(changeset=changes, rules=rules)\n"
        "assert REGISTERED_KIND.run(ctx, [rules[1]]).findings == []\n"
        "assert KIND.run(ctx, [rules[0]]).findings == []\n"
        "print('libcst' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
