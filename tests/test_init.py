"""`prgate init` on real git repositories of several shapes, run as a child process."""

from __future__ import annotations

from pathlib import Path

import yaml
from linkrepos import git, write_files
from prgaterun import prgate

CONFIG = ".github/prgate.yml"


def repo(root: Path, files: dict[str, str], *, commit: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    if files:
        write_files(root, files)
        if commit:
            git(root, "commit", "-qm", "base")
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file outside .git with its bytes and modification time."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


PYTHON_SHOP = {
    "app/models.py": "class Order:\n    pass\n",
    "app/migrations/0001_initial.py": "operations = []\n",
    "db/migrate/20240101_add_orders.rb": "class AddOrders; end\n",
    "k8s/deployment.yaml": "kind: Deployment\n",
    ".github/workflows/ci.yml": "on: push\n",
    ".github/CODEOWNERS": "* @alice\n",
    "pyproject.toml": '[project]\nname = "shop"\n\n[tool.ruff]\nline-length = 100\n',
    "tests/test_models.py": "def test_order():\n    assert True\n",
}


def test_python_repo_gets_a_valid_commented_config_that_is_in_force_once_committed(
    tmp_path: Path,
) -> None:
    root = repo(tmp_path / "shop", PYTHON_SHOP)
    done = prgate(root, "init")
    assert done.returncode == 0, done.stderr
    assert f"Wrote {CONFIG}" in done.stdout and "valid" in done.stdout
    text = (root / CONFIG).read_text()
    data = yaml.safe_load(text)
    assert data["packs"] == ["python-style", "safe-zones", "hygiene"]
    assert "ruff's settings in pyproject.toml" in text
    protected = data["rules"]["paths/protected"]
    assert protected["approvers"] == {"codeowners": True}
    assert "db/migrate/" in protected["paths"] and "migrations/" in protected["paths"]
    assert "k8s/" in data["rules"]["paths/forbidden"]["paths"]
    # the packed patterns stay, with the exceptions last (the last matching pattern wins)
    assert data["rules"]["paths/forbidden"]["paths"][-1] == "!.env.template"
    # every choice carries a comment
    assert text.count("#") >= 10
    assert prgate(root, "config", "validate").returncode == 0

    # Committed on main, it is what `prgate check` judges by: the Rails migration (found by
    # init, not in the packed list) needs an approval.
    git(root, "add", "-A")
    git(root, "commit", "-qm", "prgate")
    git(root, "checkout", "-qb", "feature")
    write_files(root, {"db/migrate/20240102_drop.rb": "class Drop; end\n"})
    checked = prgate(root, "check", "--format", "json")
    assert checked.returncode == 1, checked.stderr
    assert '"rule": "paths/protected"' in checked.stdout
    assert "db/migrate/20240102_drop.rb" in checked.stdout


def test_running_init_twice_changes_nothing(tmp_path: Path) -> None:
    root = repo(tmp_path / "shop", PYTHON_SHOP)
    assert prgate(root, "init", "--agents").returncode == 0
    before = snapshot(root)
    again = prgate(root, "init", "--agents")
    assert again.returncode == 0, again.stderr
    assert snapshot(root) == before
    assert "left as it is" in again.stdout
    assert "AGENTS.md: prgate's section is up to date; nothing changed." in again.stdout
    forced = prgate(root, "init", "--agents", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "nothing changed" in forced.stdout
    assert snapshot(root) == before


def test_javascript_only_repo_counts_its_code_and_tests(tmp_path: Path) -> None:
    root = repo(
        tmp_path / "web",
        {
            "package.json": '{"name": "web", "prettier": {"semi": false}}\n',
            "src/cart.ts": "export const total = (xs: number[]) => xs.length\n",
            "src/cart.test.ts": "test('total', () => {})\n",
        },
    )
    done = prgate(root, "init")
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load((root / CONFIG).read_text())
    assert "python-style" not in data["packs"]
    assert data["packs"][-2:] == ["safe-zones", "hygiene"]
    source = data["rules"]["tests/required"]["source"]
    assert "*.ts" in source and "!*.test.*" in source and "*.py" not in source
    assert "*.test.*" in data["rules"]["tests/required"]["tests"]
    assert "CODEOWNERS file, so until you name people here" in (root / CONFIG).read_text()
    assert prgate(root, "config", "validate").returncode == 0


def test_empty_repository_gets_a_config_and_an_agents_file(tmp_path: Path) -> None:
    root = repo(tmp_path / "empty", {})
    done = prgate(root, "init", "--agents")
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load((root / CONFIG).read_text())
    assert data["packs"] == ["safe-zones", "hygiene"]
    agents = (root / "AGENTS.md").read_text()
    assert agents.startswith("<!-- prgate:start -->") and agents.endswith("<!-- prgate:end -->\n")
    for needed in ("`prgate check`", "--format json", "agent_prompt", "`1`", "`2`", "ask a person"):
        assert needed in agents
    # the paths that need a person are the ones of the config just written
    assert "`migrations/`" in agents and "`.github/workflows/`" in agents
    assert not (root / "CLAUDE.md").exists()  # written only where one exists


def test_an_existing_config_is_kept_without_force_and_replaced_with_it(tmp_path: Path) -> None:
    mine = "packs: [hygiene]\nrules:\n  size/limit:\n    max_files: 7\n"
    root = repo(tmp_path / "r", {CONFIG: mine, "app.py": "x = 1\n"})
    kept = prgate(root, "init", "--agents")
    assert kept.returncode == 0, kept.stderr
    assert (root / CONFIG).read_text() == mine
    assert "already exists, so it was left as it is" in kept.stdout
    # the agents' section follows the config in force: hygiene only, no guarded paths
    assert "paths/protected" not in (root / "AGENTS.md").read_text()

    replaced = prgate(root, "init", "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert f"Replaced {CONFIG}" in replaced.stdout
    assert "python-style" in yaml.safe_load((root / CONFIG).read_text())["packs"]


def test_an_invalid_existing_config_is_reported_and_left_alone(tmp_path: Path) -> None:
    broken = "packs: [hygene]\n"
    root = repo(tmp_path / "r", {CONFIG: broken})
    done = prgate(root, "init")
    assert done.returncode == 2
    assert f"{CONFIG} is not valid" in done.stderr and "hygiene" in done.stderr  # the suggestion
    assert ":1:" in done.stderr  # where
    assert "Traceback" not in done.stderr
    assert (root / CONFIG).read_text() == broken


def test_agents_file_with_other_content_keeps_it_and_the_section_is_updated_in_place(
    tmp_path: Path,
) -> None:
    theirs = "# Working here\n\nUse tabs.\n"
    root = repo(
        tmp_path / "r",
        {"AGENTS.md": theirs, "CLAUDE.md": "# Claude\n\nBe brief.\n", "app.py": "x = 1\n"},
    )
    done = prgate(root, "init", "--agents")
    assert done.returncode == 0, done.stderr
    agents = (root / "AGENTS.md").read_text()
    assert agents.startswith(theirs + "\n<!-- prgate:start -->")
    claude = (root / "CLAUDE.md").read_text()
    assert claude.startswith("# Claude\n\nBe brief.\n") and "<!-- prgate:start -->" in claude
    assert "Added prgate's section at the end of AGENTS.md" in done.stdout

    # someone edits inside the section and adds text after it: the section comes back, the
    # text after it stays
    start, end = agents.index("## Before"), agents.index("<!-- prgate:end -->")
    edited = agents[:start] + "stale words\n" + agents[end:] + "\nMore of theirs.\n"
    (root / "AGENTS.md").write_text(edited)
    again = prgate(root, "init", "--agents")
    assert again.returncode == 0, again.stderr
    assert (root / "AGENTS.md").read_text() == agents + "\nMore of theirs.\n"
    assert "Updated prgate's section of AGENTS.md" in again.stdout


def test_claude_file_that_imports_agents_is_left_alone(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", {"CLAUDE.md": "@AGENTS.md\n"})
    done = prgate(root, "init", "--agents")
    assert done.returncode == 0, done.stderr
    assert (root / "CLAUDE.md").read_text() == "@AGENTS.md\n"
    assert "<!-- prgate:start -->" in (root / "AGENTS.md").read_text()


def test_broken_markers_stop_init_without_touching_the_file(tmp_path: Path) -> None:
    broken = "# Agents\n<!-- prgate:start -->\nhalf a section\n"
    root = repo(tmp_path / "r", {"AGENTS.md": broken})
    done = prgate(root, "init", "--agents")
    assert done.returncode == 2
    assert "AGENTS.md was left as it is" in done.stderr and "prgate:end" in done.stderr
    assert (root / "AGENTS.md").read_text() == broken


def test_feature_flag_calls_pick_the_pack_and_its_settings(tmp_path: Path) -> None:
    code = (
        "from app import flags\n\n\ndef pay(order):\n"
        '    if flags.enabled("new-pay"):\n        return 1\n'
        '    if unleash.is_enabled("beta-pay"):\n        return 2\n    return 0\n'
    )
    root = repo(
        tmp_path / "r",
        {"app/payments/pay.py": code, "config/feature-flags.yml": "flags: [new-pay, beta-pay]\n"},
    )
    done = prgate(root, "init")
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load((root / CONFIG).read_text())
    assert "feature-flags" in data["packs"]
    registered = data["rules"]["flags/registered"]
    assert registered["registry"] == "config/feature-flags.yml"
    assert "unleash.is_enabled" in registered["functions"]
    assert "flags.enabled" in registered["functions"]
    assert data["rules"]["flags/guarded"]["paths"] == []
    assert '"app/payments/**"' in (root / CONFIG).read_text()  # the example to follow
    assert "checks nothing" in done.stdout  # the validator's notice, passed on


def test_flags_without_a_registry_turn_the_name_check_off_with_a_reason(tmp_path: Path) -> None:
    code = 'import flags\n\n\ndef f():\n    if flags.enabled("x"):\n        return 1\n'
    root = repo(tmp_path / "r", {"app/f.py": code})
    assert prgate(root, "init").returncode == 0
    text = (root / CONFIG).read_text()
    assert yaml.safe_load(text)["rules"]["flags/registered"] == {"level": "off"}
    assert "no flag registry was found" in text


def test_outside_a_git_repository_init_says_so_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    done = prgate(tmp_path / "plain", "init")
    assert done.returncode == 2
    assert "is not inside a git repository" in done.stderr
    assert not (tmp_path / "plain" / ".github").exists()


def test_file_names_cannot_write_settings_through_the_comments(tmp_path: Path) -> None:
    odd = "x\nrules:\n  content/secrets: {level: 'off'}\n#/migrations/0001.py"
    root = repo(tmp_path / "r", {odd: "x = 1\n", "app.py": "x = 1\n"})
    done = prgate(root, "init")
    assert done.returncode == 0, done.stderr
    text = (root / CONFIG).read_text()
    assert "content/secrets" not in yaml.safe_load(text)["rules"]
    assert "rules:\n  content" not in text and "x\\nrules" not in text
    assert prgate(root, "config", "validate").returncode == 0
