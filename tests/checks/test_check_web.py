"""The web kind through `prgate check` on real git repositories, with the real oxlint/oxfmt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import prgate as prgate_package
from prgate.checks.web.hunks import apply, introduced
from tests.prgaterun import child_env, prgate

CONFIG = "packs: [web-style]\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=child_env(), check=True, capture_output=True)


def make_repo(tmp_path: Path, base: dict[str, str], head: dict[str, str]) -> Path:
    """A repository whose `main` holds ``base`` and whose working tree adds ``head`` on top."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for path, text in {".github/prgate.yml": CONFIG, **base}.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "feature")
    for path, text in head.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "head")
    return repo


def check(repo: Path, env: dict[str, str] | None = None) -> tuple[int, list[dict[str, object]]]:
    done = prgate(repo, "check", "--base", "main", "--head", "HEAD", "--format", "json", env=env)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)["findings"]


def where(findings: list[dict[str, object]], rule: str) -> list[tuple[object, object]]:
    return sorted((f["path"], f["line"]) for f in findings if f["rule"] == rule)


OLD = "export const A = {'x':1}\nexport function f(a){ return a }\n"


def test_lint_and_format_findings_on_added_lines_only(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        {"web/old.js": "debugger;\n" + OLD},
        {
            "web/old.js": "debugger;\n" + OLD + "debugger;\nexport const C = {'y':2}\n",
            "web/new.tsx": "export const B = () => <p   className='a'>hi</p>\n",
        },
    )
    code, findings = check(repo)
    assert code == 1
    lint = [f for f in findings if f["rule"] == "style/web-lint"]
    assert [(f["path"], f["line"]) for f in lint] == [("web/old.js", 4)]
    assert "oxlint eslint(no-debugger)" in str(lint[0]["message"])
    assert where(findings, "style/web-format") == [("web/new.tsx", 1), ("web/old.js", 5)]


def test_an_old_badly_formatted_file_untouched_by_the_change_gives_nothing(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        {"web/old.js": OLD, "web/site.css": "a{color:red}\n"},
        {"web/new.js": "export const B = 1;\n"},
    )
    code, findings = check(repo)
    assert (code, findings) == (0, [])


def test_settings_are_read_on_the_base_branch_not_the_head(tmp_path: Path) -> None:
    strict = {"rules": {"no-var": "error"}}
    loose = {"rules": {"no-var": "off", "no-debugger": "off"}, "categories": {"correctness": "off"}}
    repo = make_repo(
        tmp_path,
        {".oxlintrc.json": json.dumps(strict), ".oxfmtrc.json": '{"singleQuote": true}\n'},
        {
            ".oxlintrc.json": json.dumps(loose),
            "web/a.js": "var a = 'x';\ndebugger;\nexport default a;\n",
        },
    )
    _, findings = check(repo)
    lint = [str(f["message"]) for f in findings if f["rule"] == "style/web-lint"]
    assert any("no-var" in m for m in lint)  # the base's own rule is used
    assert any("no-debugger" in m for m in lint)  # the head's loosening is not
    # singleQuote from the base: 'x' stays as it is; only the head's own .oxlintrc.json
    # layout (a JSON file it added) is judged.
    assert [f["path"] for f in findings if f["rule"] == "style/web-format"] == [".oxlintrc.json"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".prettierrc", "semi: false\nsingleQuote: true\n"),
        ("package.json", '{"name": "a", "prettier": {"semi": false, "singleQuote": true}}\n'),
    ],
)
def test_prettier_settings_on_the_base_are_honoured(tmp_path: Path, name: str, text: str) -> None:
    repo = make_repo(
        tmp_path,
        {name: text, ".prettierignore": "web/generated/\n"},
        {
            "web/a.ts": "export const a = 'x'\n",
            "web/b.ts": 'export const b = "y";\n',
            "web/generated/c.ts": "export const c   =  1\n",
            "pnpm-lock.yaml": "lockfileVersion:   '9.0'\n",
        },
    )
    _, findings = check(repo)
    assert where(findings, "style/web-format") == [("web/b.ts", 1)]


def test_a_missing_tool_is_a_could_not_judge_error(tmp_path: Path) -> None:
    """prgate run from an environment without oxlint/oxfmt: no silent pass."""
    repo = make_repo(tmp_path, {}, {"web/a.js": "export const a = 1;\n"})
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    site = sysconfig.get_path("purelib")
    src = str(Path(prgate_package.__file__).resolve().parents[1])
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([src, site]),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        [
            str(bare / "bin" / "python"),
            "-m",
            "prgate",
            "check",
            "--base",
            "main",
            "--head",
            "HEAD",
            "--format",
            "json",
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert {f["rule"] for f in findings} == {"style/web-lint", "style/web-format"}
    assert all(f["level"] == "error" for f in findings)
    assert any("oxlint program is not installed" in f["message"] for f in findings)


def test_hold_the_line_keeps_only_blocks_on_added_lines() -> None:
    head = "a  =  1\nb = 2\nc  =  3\n"
    new = "a = 1\nb = 2\nc = 3\n"
    chosen = introduced(head, new, lambda start, end: start <= 3 <= end)
    assert apply(head, chosen) == "a  =  1\nb = 2\nc = 3\n"


def test_fixes_dispatched_through_the_seam_fix_only_what_the_change_introduced() -> None:
    """`prgate fix` and the App's fix commit (``compute_fixes``): oxlint's safe fixes and oxfmt's
    layout on added lines only; the old badly laid-out line stays as it was."""
    from prgate.checks import Rule
    from prgate.checks.web import WebParams
    from prgate.config import Config
    from prgate.engine import evaluate
    from prgate.fixes import compute_fixes, fixed_contents
    from prgate.sources.memory import FileSides, changeset_from_files

    rules = (
        Rule("style/web-lint", "web", "error", "t", "w", "f"),
        Rule("style/web-format", "web", "warning", "t", "w", "f", params=WebParams(format=True)),
    )
    config = Config(rules=rules)

    def fixed(base: str, head: str) -> dict[str, bytes]:
        changeset = changeset_from_files({"web/a.js": FileSides(base=base, head=head)})
        report = evaluate(changeset, config)
        return fixed_contents(compute_fixes(changeset, config, report))

    base = "export const OLD = {'a':1}\n"
    head = base + "export const NEW = {'b':2}\nlet x = 1;\nif (x === NaN) x = 2;\nexport { x };\n"
    assert (
        fixed(base, head)["web/a.js"]
        .decode()
        .startswith("export const OLD = {'a':1}\nexport const NEW = { b: 2 };\n")
    )
    assert fixed(base, base + "export const Z = 1;\n") == {}


def test_the_tools_see_no_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prgate.checks.web.process import scrubbed_env

    monkeypatch.setenv("PRGATE_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = scrubbed_env(tmp_path)
    assert set(env) <= {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ"}
    assert env["HOME"] == str(tmp_path) and env["LANG"] == "C.UTF-8"


def test_a_syntax_error_on_an_old_line_still_says_the_file_was_not_judged(tmp_path: Path) -> None:
    broken = "export function f(a {\n  return a;\n}\n"
    repo = make_repo(tmp_path, {"web/a.js": broken}, {"web/a.js": broken + "debugger;\n"})
    code, findings = check(repo)
    assert code == 1
    lint = [(f["path"], f["line"]) for f in findings if f["rule"] == "style/web-lint"]
    assert lint == [("web/a.js", None)]
    layout = [f for f in findings if f["rule"] == "style/web-format"]
    assert [f["title"] for f in layout] == ["prgate could not check this file for layout (oxfmt)"]


def test_prgate_fix_lays_out_the_added_web_lines_in_the_working_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"web/a.js": OLD}, {"README.md": "# Shop\n"})
    (repo / "web" / "a.js").write_text(OLD + "export const B = {'y':2}\n")
    (repo / "web" / "site.css").write_text("a{color:red}\n")
    done = prgate(repo, "fix", "--base", "main")
    assert done.returncode == 0, done.stderr
    assert "fixed web/a.js" in done.stdout and "fixed web/site.css" in done.stdout
    assert (repo / "web" / "a.js").read_text() == OLD + "export const B = { y: 2 };\n"
    assert (repo / "web" / "site.css").read_text() == "a {\n  color: red;\n}\n"
    after = prgate(repo, "check", "--base", "main", "--format", "json")
    assert after.returncode == 0 and json.loads(after.stdout)["findings"] == []


def test_a_file_nested_too_deep_for_the_tools_is_not_passed(tmp_path: Path) -> None:
    """A path deeper than the tools' folders may go is a could-not-judge finding of every
    rule that takes it (at the rule's level), never a silent pass."""
    from prgate.checks.tools import MAX_PATH_DEPTH

    deep = "/".join(["d"] * MAX_PATH_DEPTH) + "/a.ts"
    fine = "export const a = 1;\n"
    repo = make_repo(tmp_path, {}, {deep: fine, "web/b.ts": fine})
    code, findings = check(repo)
    assert code == 1
    said = {(f["rule"], f["level"]) for f in findings if f["path"] == deep}
    assert said == {("style/web-lint", "error"), ("style/web-format", "warning")}
    assert all("too long or unusual" in str(f["message"]) for f in findings if f["path"] == deep)
    assert not any(f["path"] == "web/b.ts" for f in findings)


def test_a_file_where_a_base_settings_file_stands_is_not_judged_alone(tmp_path: Path) -> None:
    """The change turns the base's `lib/.oxlintrc.json` into a folder holding a script: that
    script cannot be laid out beside the base's settings, so its rules say they could not
    judge it, and every other file is still judged."""
    base = {"lib/.oxlintrc.json": "{}\n", "web/ok.ts": "export {};\n"}
    repo = make_repo(tmp_path, base, {"web/new.ts": "export const n = 1;\n"})
    git(repo, "rm", "-q", "lib/.oxlintrc.json")
    (repo / "lib" / ".oxlintrc.json").mkdir(parents=True)
    (repo / "lib" / ".oxlintrc.json" / "x.ts").write_text("export const x = 1;\n")
    (repo / "web" / "ok.ts").write_text("export {};\ndebugger;\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "file to folder")
    code, findings = check(repo)
    assert code == 1
    stuck = {(f["rule"], f["path"]) for f in findings if "too long or unusual" in str(f["message"])}
    assert stuck == {
        ("style/web-lint", "lib/.oxlintrc.json/x.ts"),
        ("style/web-format", "lib/.oxlintrc.json/x.ts"),
    }
    assert where(findings, "style/web-lint") == [
        ("lib/.oxlintrc.json/x.ts", None),
        ("web/ok.ts", 2),
    ]
