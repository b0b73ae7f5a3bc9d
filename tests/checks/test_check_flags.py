"""The feature-flag check kinds (flags/guarded, flags/registered) and the isolated parser."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from pydantic import ValidationError

from prgate.checks import CheckContext, CheckResult, NoParams, Params, Rule
from prgate.checks.flags import (
    DEFAULT_FUNCTIONS,
    DEFAULT_PATHS,
    KIND,
    MAX_REGISTRY_BYTES,
    REGISTERED_KIND,
    FlagRegistry,
    GuardedParams,
    RegisteredParams,
    RegistryProblem,
    inactive_guarded,
    parse_registry,
)
from prgate.checks.flagsandbox import Limits, nesting_problem, scan_isolated
from prgate.checks.flagscan import FileScan, ScanFailure, ScanJob, scan_source
from prgate.checks.flagwire import decode_reply
from prgate.config import Config
from prgate.engine import evaluate
from prgate.model import ChangeSet
from prgate.sources.memory import FileSides, changeset_from_files

#: The paths most tests use: every Python file outside tests and migrations (a team's choice;
#: the rule's own default is to check nothing).
ALL_PYTHON = list(DEFAULT_PATHS)


def _guarded(**params: object) -> Rule:
    params.setdefault("paths", ALL_PYTHON)
    return Rule(
        id="flags/guarded",
        check="flags",
        level="error",
        title="New code runs without a feature flag",
        why="why",
        fix="fix",
        params=GuardedParams.model_validate(params),
    )


def _registered(**params: object) -> Rule:
    return Rule(
        id="flags/registered",
        check="flag-registry",
        level="error",
        title="A feature flag name is not in the team's list of flags",
        why="why",
        fix="fix",
        params=RegisteredParams.model_validate(params),
    )


def _changes(
    files: Mapping[str, tuple[str | bytes | None, str | bytes | None]],
    head_files: Mapping[str, str | bytes] | None = None,
) -> ChangeSet:
    return changeset_from_files(
        {path: FileSides(base, head) for path, (base, head) in files.items()},
        head_files=head_files,
    )


def _guard(changeset: ChangeSet, rule: Rule | None = None) -> CheckResult:
    return KIND.run(CheckContext(changeset=changeset), [rule or _guarded()])


def _registry(changeset: ChangeSet, rule: Rule | None = None) -> CheckResult:
    return REGISTERED_KIND.run(CheckContext(changeset=changeset), [rule or _registered()])


def _new(text: str) -> FileScan:
    lines = text.count("\n") or 1
    return scan_source(text, added=[(1, lines)], functions=DEFAULT_FUNCTIONS)


UNGUARDED = "def send_invoice(order):\n    mail(order)\n"


# --- flags/guarded: findings ------------------------------------------------------------------


def test_an_unguarded_new_function_is_named_and_spans_its_lines() -> None:
    result = _guard(_changes({"app/billing.py": ("import x\n", "import x\n\n\n" + UNGUARDED)}))
    assert not result.skipped
    [finding] = result.findings
    assert (finding.path, finding.line, finding.end_line) == ("app/billing.py", 4, 5)
    assert finding.rule == "flags/guarded"
    assert (
        finding.message == "The new function `send_invoice` runs without checking a feature flag."
    )
    assert '`if not flags.enabled("your-flag-name"): return`' in finding.fix
    assert "`send_invoice`" in finding.fix


def test_a_changed_function_names_the_changed_lines() -> None:
    base = "def total(order):\n    a = order.amount\n    b = 2\n    return a * b\n"
    head = "def total(order):\n    a = order.amount\n    b = 3\n    return a * b + 1\n"
    [finding] = _guard(_changes({"app/billing.py": (base, head)})).findings
    assert (finding.line, finding.end_line) == (1, 4)
    assert finding.message == (
        "The function `total` existed before this change, and its changed code on lines 3 and "
        "4 runs without checking a feature flag."
    )
    # Returning early while the flag is off would switch off what `total` already did.
    assert "if not" not in finding.fix and ": return" not in finding.fix
    assert '`if flags.enabled("your-flag-name"):`' in finding.fix
    assert "old code in the `else:` branch" in finding.fix
    assert "Do not return early" in finding.fix


def test_code_left_outside_the_flag_check_is_pointed_at() -> None:
    head = (
        "def send_invoice(order):\n"
        "    if flags.enabled('email-invoices'):\n"
        "        mail(order)\n"
        "    order.mark_sent()\n"
    )
    [finding] = _guard(_changes({"app/billing.py": (None, head)})).findings
    assert finding.message == (
        "The new function `send_invoice` checks a feature flag, but its code on line 4 runs "
        "outside that check."
    )


def test_a_new_method_in_an_existing_class_is_named_with_its_class() -> None:
    base = "class Billing:\n    def total(self):\n        return 1\n"
    head = base + "\n    def refund(self, order):\n        self.gateway.refund(order)\n"
    [finding] = _guard(_changes({"app/billing.py": (base, head)})).findings
    assert finding.line == 5
    assert finding.message == (
        "The new method `Billing.refund` runs without checking a feature flag."
    )


def test_a_new_class_is_reported_once_with_its_unguarded_methods() -> None:
    head = (
        "class Refunds:\n"
        "    def refund(self, order):\n"
        "        gateway.refund(order)\n"
        "    def notify(self, order):\n"
        "        mail(order)\n"
        "    def audit(self, order):\n"
        "        if flags.enabled('audit'):\n"
        "            log(order)\n"
    )
    [finding] = _guard(_changes({"app/refunds.py": (None, head)})).findings
    assert (finding.line, finding.end_line) == (1, 8)
    assert finding.message == (
        "The new class `Refunds` has code that runs without checking a feature flag "
        "(in `refund` and `notify`)."
    )


def test_only_the_outermost_unguarded_function_is_reported() -> None:
    head = "def outer():\n    def inner():\n        go()\n    inner()\n"
    scan = _new(head)
    assert [(u.name, u.line) for u in scan.unguarded] == [("outer", 1)]


def test_an_inner_function_outside_the_guard_is_reported_on_its_own() -> None:
    head = (
        "def outer():\n"
        "    def helper():\n"
        "        go()\n"
        "    if not flags.enabled('x'):\n"
        "        return\n"
        "    helper()\n"
    )
    assert [u.name for u in _new(head).unguarded] == ["outer.helper"]


def test_a_changed_decorator_alone_points_at_the_decorator() -> None:
    base = "@cache\ndef total(order):\n    return order.amount\n"
    head = "@cache(size=3)\ndef total(order):\n    return order.amount\n"
    [finding] = _guard(_changes({"app/billing.py": (base, head)})).findings
    assert (finding.line, finding.end_line) == (1, 3)


def test_removing_a_flag_decorator_does_not_add_lines_to_judge() -> None:
    base = "@flags.guard('x')\ndef total(order):\n    return order.amount\n"
    head = "def total(order):\n    return order.amount\n"
    assert _guard(_changes({"app/billing.py": (base, head)})).findings == []


@pytest.mark.parametrize(
    "body",
    [
        "    if flags.enabled('x'):\n        go()\n",
        "    if not flags.enabled('x'):\n        return\n    go()\n",
        "    if not flags.is_enabled('x'):\n        raise Disabled()\n    go()\n",
        "    if flags.enabled('x'):\n        go()\n    else:\n        old()\n",
        "    if flags.enabled('x'):\n        return go()\n    return old()\n",
        "    if flags.enabled('x') == 'v2':\n        go()\n    elif other:\n        old()\n",
        "    on = flags.enabled('x')\n    if on:\n        go()\n",
        "    if (on := flags.enabled('x')):\n        go()\n",
        "    with flags.guard('x'):\n        go()\n",
        "    match flags.enabled('x'):\n        case True:\n            go()\n",
        "    return go() if flags.enabled('x') else old()\n",
        "    user = load(request)\n    if not flags.enabled('x', user=user):\n        return\n    go()\n",
        "    if not self.flags.enabled('x'):\n        return\n    go()\n",
        "    with lock:\n        if not flags.enabled('x'):\n            return\n    go()\n",
        "    '''Docstring.'''\n    import json\n    if not flags.enabled('x'):\n        return\n    go()\n",
    ],
    ids=[
        "if",
        "early-return",
        "early-raise",
        "if-else",
        "return-new-then-old",
        "comparison-and-elif",
        "variable",
        "walrus",
        "with",
        "match",
        "conditional-expression",
        "setup-for-the-check",
        "attribute-client",
        "return-inside-with",
        "docstring-and-import-first",
    ],
)
def test_guarded_shapes_are_accepted(body: str) -> None:
    assert _new("def f(request):\n" + body).unguarded == ()


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("    go()\n", 2),
        ("    log()\n    if not flags.enabled('x'):\n        return\n    go()\n", 2),
        ("    if flags.enabled('x') or admin:\n        go()\n", 3),
        ("    if flags.enabled('x'):\n        go()\n    after()\n", 4),
        ("    for item in load():\n        if flags.enabled('x'):\n            go(item)\n", 2),
        ("    with open('f') as fh:\n        fh.write('x')\n", 2),
        ("    if admin:\n        go()\n    elif flags.enabled('x'):\n        new()\n", 3),
        ("    if flags.enable('x'):\n        go()\n", 2),
    ],
    ids=[
        "plain",
        "work-before-the-check",
        "or",
        "after-the-if",
        "loop-over-a-call",
        "with-on-something-else",
        "first-branch-without-flag",
        "not-a-flag-function",
    ],
)
def test_unguarded_shapes_are_reported_at_the_first_unguarded_line(body: str, line: int) -> None:
    [unit] = _new("def f(request):\n" + body).unguarded
    assert unit.name == "f"
    assert unit.lines[0] == line


def test_module_level_flag_variables_guard_functions() -> None:
    text = "NEW_UI = flags.enabled('new-ui')\n\ndef home():\n    if NEW_UI:\n        go()\n"
    assert _new(text).unguarded == ()


def test_stub_bodies_have_nothing_to_guard() -> None:
    text = (
        "class Store(Protocol):\n"
        "    def load(self) -> int: ...\n"
        "    def save(self) -> None:\n"
        '        """Save."""\n'
        "        pass\n"
    )
    assert _new(text).unguarded == ()


def test_custom_functions_replace_the_defaults() -> None:
    text = "def f():\n    if not unleash.is_enabled('x'):\n        return\n    go()\n"
    scan = scan_source(text, added=[(1, 4)], functions=["unleash.is_enabled"])
    assert scan.unguarded == ()
    assert [u.name for u in _new(text).unguarded] == ["f"]


def test_only_python_files_under_the_paths_are_read() -> None:
    changes = _changes(
        {
            "payments/refund.py": (None, UNGUARDED),
            "payments/notes.txt": (None, UNGUARDED),
            "app/views.py": (None, UNGUARDED),
            "payments/tests/test_refund.py": (None, UNGUARDED),
        }
    )
    result = _guard(changes, _guarded(paths=["payments/**", "!**/tests/**"]))
    assert [f.path for f in result.findings] == ["payments/refund.py"]
    assert result.skipped == []


def test_paths_can_leave_out_tests_and_migrations() -> None:
    changes = _changes(
        {
            "tests/test_billing.py": (None, UNGUARDED),
            "app/tests/helpers.py": (None, UNGUARDED),
            "app/conftest.py": (None, UNGUARDED),
            "app/migrations/0001_initial.py": (None, UNGUARDED),
            "app/billing_test.py": (None, UNGUARDED),
            "app/billing.py": (None, UNGUARDED),
        }
    )
    assert [f.path for f in _guard(changes).findings] == ["app/billing.py"]


def test_unusual_paths_and_undecodable_bytes_are_handled() -> None:
    # Not UTF-8 and no `# coding:` line: Python itself refuses to read it.
    head = b"# caf\xe9\ndef send_invoice(order):\n    mail(order)\n"
    changes = _changes(
        {"-app/caf\u00e9 billing.py": (None, head), "app/gone.py": (UNGUARDED, None)}
    )
    [finding] = _guard(changes).findings
    assert (finding.path, finding.line, finding.level) == (
        "-app/caf\u00e9 billing.py",
        None,
        "error",
    )
    assert (
        finding.title
        == "prgate could not check this file for new code outside a feature-flag check"
    )
    assert "not UTF-8" in finding.message and "Save the file as UTF-8" in finding.fix


def test_python_is_read_in_the_encoding_its_coding_line_names() -> None:
    head = "# -*- coding: latin-1 -*-\n# café\ndef send_invoice(order):\n    mail(order)\n"
    changes = _changes({"app/billing.py": (None, head.encode("latin-1"))})
    [finding] = _guard(changes).findings
    assert (finding.line, finding.message) == (
        3,
        "The new function `send_invoice` runs without checking a feature flag.",
    )


def test_a_rule_without_parameters_checks_nothing() -> None:
    rule = Rule(id="flags/guarded", check="flags", level="error", title="t", why="w", fix="f")
    assert isinstance(rule.params, NoParams)
    assert _guard(_changes({"app/a.py": (None, UNGUARDED)}), rule).findings == []
    assert GuardedParams().paths == ()
    assert inactive_guarded([rule, _guarded()]) == [rule]


def test_a_syntax_error_is_a_finding_and_other_files_are_still_checked() -> None:
    changes = _changes(
        {"app/broken.py": (None, "def f(:\n    pass\n"), "app/billing.py": (None, UNGUARDED)}
    )
    result = _guard(changes)
    assert [f.path for f in result.findings] == ["app/billing.py", "app/broken.py"]
    assert result.skipped == []
    broken = result.findings[1]
    assert (broken.level, broken.line) == ("error", None)
    assert broken.message == (
        "This file could not be read as Python, so prgate could not check whether its new code "
        "runs behind a feature flag."
    )
    assert broken.fix.startswith("Make the file valid Python")


# --- pathological files -----------------------------------------------------------------------


def test_pathological_nesting_fails_the_rule_while_the_rest_of_the_run_goes_on() -> None:
    parens = "x = " + "(" * 100_000 + ")" * 100_000 + "\n"
    ifs = "def f():\n" + "".join(" " * i + "if x:\n" for i in range(1, 160)) + " " * 160 + "go()\n"
    changes = _changes(
        {
            "app/parens.py": (None, parens),
            "app/ifs.py": (None, ifs),
            "app/billing.py": (None, "import flags\n" + UNGUARDED),
        },
        head_files={"feature-flags.yml": "- known\n"},
    )
    report = evaluate(changes, Config(rules=(_guarded(), _registered())))
    assert [(f.rule, f.path, f.line, f.level) for f in report.findings] == [
        ("flags/guarded", "app/billing.py", 2, "error"),
        ("flags/guarded", "app/ifs.py", None, "error"),
        ("flags/guarded", "app/parens.py", None, "error"),
    ]
    assert report.conclusion == "failure"
    messages = {f.path: f.message for f in report.findings}
    assert "more than 200 nested brackets" in messages["app/parens.py"]
    assert "more than 100 levels of indentation" in messages["app/ifs.py"]
    assert messages["app/parens.py"].startswith(
        "This file is nested too deeply to be analysed safely"
    )
    assert all("Simplify" in f.fix for f in report.findings if f.line is None)


def test_deeply_indented_continuation_lines_are_not_nesting() -> None:
    # Valid Python: inside brackets (and after a backslash) indentation means nothing to Python.
    args = "".join(" " * (4 * i) + f"a{i},\n" for i in range(1, 150))
    text = f"def send_invoice(order):\n    mail(\n{args}    )\n    x = 1 + \\\n" + " " * 700 + "2\n"
    compile(text, "t.py", "exec")
    assert nesting_problem(text) is None
    [finding] = _guard(_changes({"app/billing.py": (None, text)})).findings
    assert (finding.line, finding.message) == (
        1,
        "The new function `send_invoice` runs without checking a feature flag.",
    )


def test_indentation_past_pythons_limit_is_still_refused() -> None:
    text = "".join(" " * i + "if x:\n" for i in range(101)) + " " * 101 + "go()\n"
    problem = nesting_problem(text)
    assert problem is not None and "more than 100 levels of indentation" in problem.reason


def test_a_parser_crash_costs_only_its_file() -> None:
    # Past the nesting screen, 100,000 nested parentheses overflow libcst's native stack.
    crash = ScanJob("x = " + "(" * 100_000 + ")" * 100_000 + "\n", ((1, 1),), DEFAULT_FUNCTIONS)
    fine = ScanJob(UNGUARDED, ((1, 2),), DEFAULT_FUNCTIONS)
    limits = Limits(workers=1, max_brackets=10**9, timeout=30)
    first, second = scan_isolated([crash, fine], limits=limits)
    assert isinstance(first, ScanFailure) and first.code == "crashed"
    assert isinstance(second, FileScan)
    assert [u.name for u in second.unguarded] == ["send_invoice"]


def test_a_file_that_takes_too_long_is_stopped_and_the_next_one_is_read() -> None:
    # libcst needs seconds for a long chain of additions (its time grows with the square).
    slow = ScanJob("x = " + "+".join(["1"] * 6000) + "\n", ((1, 1),), DEFAULT_FUNCTIONS)
    fine = ScanJob(UNGUARDED, ((1, 2),), DEFAULT_FUNCTIONS)
    first, second = scan_isolated([slow, fine], limits=Limits(workers=1, timeout=0.5))
    assert isinstance(first, ScanFailure) and first.code == "too-slow"
    assert first.reason == "took too long to analyse (over 0.5 seconds)"
    assert isinstance(second, FileScan) and len(second.unguarded) == 1


def test_a_file_that_needs_too_much_memory_is_stopped() -> None:
    # 1,000 nested lists take libcst close to a gigabyte.
    hungry = ScanJob("x = " + "[" * 1000 + "]" * 1000 + "\n", ((1, 1),), DEFAULT_FUNCTIONS)
    fine = ScanJob(UNGUARDED, ((1, 2),), DEFAULT_FUNCTIONS)
    limits = Limits(workers=1, max_brackets=10**9, memory_bytes=400 * 1024 * 1024)
    first, second = scan_isolated([hungry, fine], limits=limits)
    assert isinstance(first, ScanFailure) and first.code in {"memory", "crashed"}
    assert isinstance(second, FileScan) and len(second.unguarded) == 1


def test_the_run_budget_marks_what_was_not_read() -> None:
    jobs = [ScanJob(UNGUARDED, ((1, 2),), DEFAULT_FUNCTIONS)] * 2
    outcomes = scan_isolated(jobs, limits=Limits(budget=0))
    assert [o.code for o in outcomes if isinstance(o, ScanFailure)] == ["budget", "budget"]


def test_several_workers_keep_the_order_of_files() -> None:
    jobs = [ScanJob(f"def f{i}():\n    go()\n", ((1, 2),), DEFAULT_FUNCTIONS) for i in range(6)]
    outcomes = scan_isolated(jobs, limits=Limits(workers=2))
    names = [o.unguarded[0].name for o in outcomes if isinstance(o, FileScan)]
    assert names == [f"f{i}" for i in range(6)]


def test_nesting_screen_ignores_brackets_in_strings_and_comments() -> None:
    text = "x = '" + "(" * 500 + "'\n# " + "[" * 500 + '\ny = """\n' + "{" * 500 + '\n"""\n'
    assert nesting_problem(text) is None
    problem = nesting_problem("x = " + "[" * 201 + "]" * 201 + "\n")
    assert problem is not None and problem.code == "nesting"
    assert nesting_problem("x = " + "[" * 200 + "]" * 200 + "\n") is None


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"failure": "rm -rf"}',
        b'{"units": [["f", "function", 0, 2, true, [], [], false]], "uses": []}',
        b'{"units": [["f", "module", 1, 2, true, [], [], false]], "uses": []}',
        b'{"units": [], "uses": [["x", "flags.enabled", 1]]}',
        b'{"units": []}',
    ],
)
def test_a_childs_unexpected_answer_is_a_failure_not_a_result(raw: bytes) -> None:
    outcome = decode_reply(raw)
    assert isinstance(outcome, ScanFailure) and outcome.code == "error"


def test_a_childs_answer_is_decoded_field_by_field() -> None:
    raw = json.dumps(
        {
            "units": [["Billing", "class", 1, 9, True, [], ["refund"], False]],
            "uses": [["new-search", "flags.enabled", 4, 22]],
        }
    ).encode()
    outcome = decode_reply(raw)
    assert isinstance(outcome, FileScan)
    assert outcome.unguarded[0].members == ("refund",)
    assert outcome.uses[0].name == "new-search"


# --- flags/registered ---------------------------------------------------------------------------


def test_an_unknown_flag_is_reported_where_it_is_written_with_a_suggestion() -> None:
    head = "def f():\n    if flags.enabled('new-serch'):\n        go()\n"
    changes = _changes(
        {"app/a.py": (None, head)}, head_files={"feature-flags.yml": "- new-search\n"}
    )
    [finding] = _registry(changes).findings
    assert (finding.path, finding.line, finding.column) == ("app/a.py", 2, 22)
    assert finding.message == (
        "The flag `new-serch` is not declared in the flag registry `feature-flags.yml`. "
        "Did you mean `new-search`?"
    )
    assert "use the declared name `new-search`" in finding.fix


def test_flag_names_in_keywords_decorators_and_concatenations_are_checked() -> None:
    head = (
        "@feature_flag('a')\n"
        "def f():\n"
        "    if is_feature_enabled(name='b') and flags.enabled('c' 'd'):\n"
        "        go()\n"
        "    flags.enabled(f'{x}')\n"
        "    flags.enabled(b'bytes')\n"
        "    flags.enabled(*names)\n"
    )
    changes = _changes({"app/a.py": (None, head)}, head_files={"feature-flags.yml": "- zzz\n"})
    found = [(f.line, f.message.split("`")[1]) for f in _registry(changes).findings]
    assert found == [(1, "a"), (3, "b"), (3, "cd")]


def test_the_registry_is_not_read_when_the_change_uses_no_flags() -> None:
    reads: list[str] = []
    changes = _changes({"app/a.py": (None, "def f():\n    return 1\n")})

    def read_head(path: str) -> bytes | None:
        reads.append(path)
        return None

    changes = ChangeSet(files=changes.files, read_head=read_head)
    assert _registry(changes).findings == []
    assert reads == []


def test_a_missing_registry_is_a_plain_finding() -> None:
    head = "def f():\n    if flags.enabled('x'):\n        go()\n"
    [finding] = _registry(_changes({"app/a.py": (None, head)})).findings
    assert (finding.path, finding.line, finding.level.value) == ("feature-flags.yml", None, "error")
    assert finding.message == (
        "The flag registry `feature-flags.yml` does not exist. The flag names this change "
        "uses could not be checked against it."
    )
    assert finding.fix.startswith("Create `feature-flags.yml`")


def test_the_rules_level_applies_to_registry_problems() -> None:
    head = "def f():\n    if flags.enabled('x'):\n        go()\n"
    rule = _registered(registry="config/flags.yaml")
    rule = Rule(**{**rule.__dict__, "level": "warning"})
    [finding] = _registry(_changes({"app/a.py": (None, head)}), rule).findings
    assert (finding.path, finding.level.value) == ("config/flags.yaml", "warning")


def test_a_file_that_cannot_be_read_is_a_finding_of_the_registry_rule_too() -> None:
    changes = _changes(
        {"app/a.py": (None, "flags.enabled('x')\ndef f(:\n")},
        head_files={"feature-flags.yml": "- x\n"},
    )
    result = _registry(changes)
    assert result.skipped == []
    [finding] = result.findings
    assert (finding.rule, finding.path, finding.level) == ("flags/registered", "app/a.py", "error")
    assert finding.title == "prgate could not check this file for undeclared feature-flag names"
    assert finding.message == (
        "This file could not be read as Python, so prgate could not check that the flag names "
        "it uses are declared."
    )


def test_a_scan_that_runs_out_of_time_is_a_finding_at_the_rules_level() -> None:
    changes = _changes({"app/a.py": (None, UNGUARDED), "app/b.py": (None, UNGUARDED)})
    rule = Rule(**{**_guarded().__dict__, "level": "warning"})
    report = evaluate(changes, Config(rules=(rule,)), scan_limits=Limits(budget=0))
    assert [(f.path, f.line, f.level) for f in report.findings] == [
        ("app/a.py", None, "warning"),
        ("app/b.py", None, "warning"),
    ]
    assert "the time allowed for reading files ran out" in report.findings[0].message
    assert report.skipped == ()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("- a\n- b\n", {"a", "b"}),
        ("flags:\n  - a\n", {"a"}),
        ("flags:\n  a: Sends invoices.\n  b: {owner: team, expires: 2025-01-01}\n", {"a", "b"}),
        ("", set()),
        ("flags:\n", set()),
        ("version: 2\nflags: [a]\n", {"a"}),
    ],
)
def test_registry_formats(text: str, names: set[str]) -> None:
    assert parse_registry(text.encode()) == FlagRegistry(frozenset(names))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "does not exist"),
        (b"\xff\xfe", "is not a text file (UTF-8)"),
        (b"- a\n- [b\n", "is not valid YAML at line 3"),
        (b"!!python/object:os.system {}\n", "is not valid YAML"),
        (b"owner: me\n", "has no `flags:` key"),
        (b"flags: 3\n", "has a `flags:` key that holds neither"),
        (b"just text\n", "is neither a list of flag names nor a mapping"),
        (b"- a\n- yes\n", "entry 2 was read as bool); put it in quotes"),
        (b"flags:\n  - a\n  - [b]\n", "entry 2 was read as list); write each flag name as text"),
        (b"- a\n" * (MAX_REGISTRY_BYTES // 4 + 1), "is larger than 512 KiB"),
    ],
)
def test_registry_problems_are_explained(data: bytes | None, reason: str) -> None:
    result = parse_registry(data)
    assert isinstance(result, RegistryProblem)
    assert reason in result.reason


def test_registry_aliases_do_not_expand() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(8)
    ]
    lines.append("flags: *i")
    result = parse_registry("\n".join(lines).encode())
    assert isinstance(result, RegistryProblem)
    assert "was read as list" in result.reason


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (GuardedParams, {"functions": ["flags enabled"]}),
        (GuardedParams, {"functions": []}),
        (GuardedParams, {"paths": [""]}),
        (GuardedParams, {"path": ["x"]}),
        (RegisteredParams, {"registry": "../outside.yml"}),
        (RegisteredParams, {"registry": "/etc/flags.yml"}),
        (RegisteredParams, {"registry": ""}),
        (RegisteredParams, {"functions": ["1flags.enabled"]}),
    ],
)
def test_bad_parameters_are_refused(model: type[Params], params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(params)


def test_registry_paths_are_normalised() -> None:
    assert RegisteredParams.model_validate({"registry": "./config/flags.yml"}).registry == (
        "config/flags.yml"
    )


def test_the_kinds_are_registered_under_their_contract_names() -> None:
    from prgate.checks import registry

    kinds = registry()
    assert kinds["flags"] is KIND and kinds["flag-registry"] is REGISTERED_KIND
    assert KIND.params is GuardedParams and REGISTERED_KIND.params is RegisteredParams


def test_the_advice_for_a_class_says_whether_it_existed_before() -> None:
    base = "class Billing:\n    def total(self, order):\n        return order.amount\n"
    head = "class Billing(Base):\n    def total(self, order):\n        return order.amount * 2\n"
    [old] = _guard(_changes({"app/billing.py": (base, head)})).findings
    assert old.message.startswith("The class `Billing` existed before this change")
    assert "In a method that existed before, keep its old code as it is" in old.fix
    assert "old code in the `else:` branch" in old.fix

    [new] = _guard(_changes({"app/refunds.py": (None, head)})).findings
    assert new.message.startswith("The new class `Billing`")
    assert "`Billing` is new, so it may do nothing while the flag is off" in new.fix
