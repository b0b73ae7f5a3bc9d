"""Agreement of the web kind with oxlint and oxfmt run by hand, on real repositories' history.

    python bench/web_agreement.py [--commits N] GIT_DIR...

For each repository, HEAD~N (default 40) is the base and HEAD the head of a change. prgate
judges it (`prgate check --base --head --format json`, packs web-style). The reference runs the
tools on the whole head tree, with the base's settings files put in place of the head's, and
keeps what falls on added lines: oxlint's diagnostics of the changed script files, and the
blocks oxfmt would rewrite that overlap added lines. Prints, per repository and rule, the
findings each side has and how many agree ((path, line, code) for lint, (path, line) for
layout). Nothing of the repositories is kept.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from prgate.checks.web.hunks import hunks
from prgate.checks.web.settings import (
    FORMAT_SUFFIXES,
    LINT_SUFFIXES,
    SETTINGS_NAMES,
    prettier_as_oxfmt,
)

BIN = Path(sys.executable).parent
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)
_CODE = re.compile(r"\(oxlint (.+)\)$")
ENV = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b",
    "PATH": f"{BIN}:/usr/bin:/bin",
    "HOME": "/tmp",
}


def sh(*args: str, cwd: Path, data: bytes | None = None) -> bytes:
    return subprocess.run(
        args, cwd=cwd, input=data, capture_output=True, env=ENV, check=False
    ).stdout


def build(source: str, commits: int, into: Path) -> tuple[Path, Path]:
    """A two-commit repository (base, head) and a plain copy of the head tree."""
    repo, tree = into / "repo", into / "tree"
    repo.mkdir(parents=True)
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    for ref, branch in ((f"HEAD~{commits}", None), ("HEAD", "head")):
        archive = subprocess.run(
            ["git", f"--git-dir={source}", "archive", ref], capture_output=True, check=True
        ).stdout
        for p in repo.iterdir():
            if p.name != ".git":
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
        if branch:
            sh("git", "checkout", "-qb", branch, cwd=repo)
        sh("git", "add", "-A", cwd=repo)
        sh("git", "commit", "-qm", ref, "--no-verify", cwd=repo)
        if branch:
            tree.mkdir()
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return repo, tree


def added_lines(repo: Path) -> dict[str, set[int]]:
    """Added line numbers of each file at head, renames followed as prgate follows them."""
    out: dict[str, set[int]] = {}
    diff = sh("git", "diff", "-U0", "-M", "--diff-filter=AMR", "main", "head", cwd=repo)
    current: set[int] | None = None
    for row in diff.decode("utf-8", "replace").splitlines():
        if row.startswith("+++ "):
            current = out.setdefault(row[6:], set()) if row.startswith("+++ b/") else None
        elif current is not None and (m := _HUNK.match(row)):
            start, count = int(m.group(1)), int(m.group(2) or 1)
            current.update(range(start, start + count))
    return out


def base_settings_into(repo: Path, tree: Path) -> None:
    """Put the base's settings files in place of the head's in ``tree``."""
    for p in tree.rglob("*"):
        if p.name in SETTINGS_NAMES and p.name != "package.json":
            p.unlink()
    found: dict[str, bytes | None] = {}
    listing = sh("git", "ls-tree", "-r", "--name-only", "main", cwd=repo).decode().splitlines()
    for path in listing:
        if path.rsplit("/", 1)[-1] in SETTINGS_NAMES:
            found[path] = sh("git", "show", f"main:{path}", cwd=repo)
            if not path.endswith("package.json"):
                (tree / path).parent.mkdir(parents=True, exist_ok=True)
                (tree / path).write_bytes(found[path] or b"")
    for path, data in prettier_as_oxfmt(found).items():
        (tree / path).write_bytes(data)


def reference(repo: Path, tree: Path, added: dict[str, set[int]]) -> tuple[set, set]:
    head_settings = {
        p: (tree / p).read_bytes()
        for p in added
        if p.rsplit("/", 1)[-1] in SETTINGS_NAMES and (tree / p).is_file()
    }
    base_settings_into(repo, tree)
    size_ok = {
        p
        for p in added
        if (p in head_settings and len(head_settings[p]) <= 1 << 20)
        or ((tree / p).is_file() and (tree / p).stat().st_size <= 1 << 20)
    }
    lint_files = sorted(p for p in size_ok if p.lower().endswith(LINT_SUFFIXES) and added[p])
    fmt_files = sorted(p for p in size_ok if p.lower().endswith(FORMAT_SUFFIXES) and added[p])
    lint: set[tuple[str, int, str]] = set()
    for i in range(0, len(lint_files), 200):
        out = sh(str(BIN / "oxlint"), "--format", "json", *lint_files[i : i + 200], cwd=tree)
        for d in json.loads(out or b'{"diagnostics": []}')["diagnostics"]:
            span = d["labels"][0]["span"] if d.get("labels") else {"line": 1}
            if span["line"] in added.get(d["filename"], ()):
                lint.add((d["filename"], span["line"], d.get("code") or "parse"))
    # A settings file the change touches is laid out as it is at head, in a folder of its own
    # (its base version stays in place as the settings of the files around it).
    where = {p: p for p in fmt_files}
    for p, data in head_settings.items():
        folder, name = p.rsplit("/", 1) if "/" in p else ("", p)
        where[p] = f"{folder}/prgate-ref/{name}".lstrip("/")
        (tree / where[p]).parent.mkdir(parents=True, exist_ok=True)
        (tree / where[p]).write_bytes(data)
    heads = {p: (tree / where[p]).read_text("utf-8", "replace") for p in fmt_files}
    targets = sorted(where[p] for p in fmt_files)
    for i in range(0, len(targets), 200):
        sh(
            str(BIN / "oxfmt"),
            "--write",
            "--no-error-on-unmatched-pattern",
            *targets[i : i + 200],
            cwd=tree,
        )
    fmt: set[tuple[str, int]] = set()
    for p, head in heads.items():
        for h in hunks(head, (tree / where[p]).read_text("utf-8", "replace")):
            if any(n in added[p] for n in range(h.start, h.end + 1)):
                fmt.add((p, h.start))
    return lint, fmt


def prgate_findings(repo: Path, config: Path) -> tuple[set, set]:
    out = sh(
        str(BIN / "prgate"),
        "check",
        "--base",
        "main",
        "--head",
        "head",
        "--config",
        str(config),
        "--format",
        "json",
        cwd=repo,
    )
    lint, fmt = set(), set()
    for f in json.loads(out)["findings"]:
        if f["message"].startswith("This change adds a comment"):
            continue  # prgate's own note of an added oxlint-disable comment: no tool finding
        if f["rule"] == "style/web-lint":
            m = _CODE.search(f["message"])
            lint.add((f["path"], f["line"], m.group(1) if m else "parse"))
        elif f["rule"] == "style/web-format":
            fmt.add((f["path"], f["line"]))
    return lint, fmt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=40)
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args()
    totals = {"lint": [0, 0, 0], "format": [0, 0, 0]}
    with tempfile.TemporaryDirectory(prefix="webagree-") as tmp:
        config = Path(tmp) / "prgate.yml"
        config.write_text("packs: [web-style]\n")
        for i, source in enumerate(args.sources):
            repo, tree = build(source, args.commits, Path(tmp) / f"r{i}")
            added = added_lines(repo)
            mine = prgate_findings(repo, config)
            ref = reference(repo, tree, added)
            print(f"{source} (HEAD~{args.commits}..HEAD, {len(added)} files changed)")
            for name, a, b in (("lint", mine[0], ref[0]), ("format", mine[1], ref[1])):
                both = len(a & b)
                print(
                    f"  {name:6} prgate {len(a):4}  tool {len(b):4}  agree {both:4}  "
                    f"only prgate {sorted(a - b)[:3]}  only tool {sorted(b - a)[:3]}"
                )
                for j, v in enumerate((len(a), len(b), both)):
                    totals[name][j] += v
    for name, (a, b, both) in totals.items():
        share = 100 * both / max(a, b, 1)
        print(f"total {name}: prgate {a}, tool {b}, agree {both} ({share:.1f}% of the larger)")


if __name__ == "__main__":
    main()
