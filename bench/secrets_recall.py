"""Benchmark: recall and false alarms of `content/secrets`, and of detect-secrets, on one corpus.

The corpus is ``tests/fixtures/secrets/secretcorpus.py``: fake credentials of many providers
(``PLANTED``, one file each), look-alikes that are not credentials (``LOOKALIKES``), and fake
credentials under test folders (``TEST_DATA``). All of it is made up at run time.

- prgate: the built-in ``content/secrets`` rule (the hygiene pack's parameters) through
  ``evaluate``, each file judged as added by the change. A planted file counts as found when the
  rule reports any finding in it; a look-alike counts as a false alarm on any finding, whatever
  its level; a test-data file is listed with the level it got.
- detect-secrets (optional, never a dependency of prgate): ``detect-secrets scan --all-files``
  run on the same files written to a temporary folder, with its default plugins and filters,
  and once more without its filter of lines that assign a call (``is_indirect_reference``), which
  drops every key passed straight to a client (``Client("SG.…")``).
  Install it in a scratch environment and name its executable:

    python -m venv /tmp/ds && /tmp/ds/bin/pip install detect-secrets
    python bench/secrets_recall.py --detect-secrets /tmp/ds/bin/detect-secrets [--json FILE]

With ``--tree DIR`` (repeatable) it also measures noise on real code: every text file under DIR
(up to 1 MiB; ``.git`` and ``node_modules`` left out) judged as added, with the hygiene pack's
parameters, counting findings by level and listing the blocking ones (path, line, kind; never
the line). A tree of a project's HEAD, for example:

    mkdir -p /tmp/trees/flask && git --git-dir MIRROR archive HEAD | tar -x -C /tmp/trees/flask
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.secrets.secretcorpus import LOOKALIKES, PLANTED, TEST_DATA, Case  # noqa: E402

from prgate.config import Config  # noqa: E402
from prgate.engine import evaluate  # noqa: E402
from prgate.packs import load_builtin  # noqa: E402
from prgate.sources.memory import FileSides, changeset_from_files  # noqa: E402


def prgate_findings(cases: Sequence[Case]) -> dict[str, list[str]]:
    """Path -> the levels of ``content/secrets`` findings in it."""
    [pack_rule] = [r for r in load_builtin("hygiene").rules if r.rule.id == "content/secrets"]
    changeset = changeset_from_files({c.path: FileSides(base=None, head=c.text) for c in cases})
    report = evaluate(changeset, Config(rules=(pack_rule.rule,)))
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        if finding.rule == "content/secrets" and finding.path is not None:
            found.setdefault(finding.path, []).append(str(finding.level))
    return found


#: detect-secrets' filter that drops any line assigning a call (``sg = Client("SG.…")``).
INDIRECT = "detect_secrets.filters.heuristic.is_indirect_reference"


def tree_noise(root: Path) -> None:
    """Findings of ``content/secrets`` on every text file under ``root``, judged as added."""
    files: dict[str, FileSides] = {}
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if not path.is_file() or path.is_symlink() or {".git", "node_modules"} & set(parts):
            continue
        if path.stat().st_size > 1024 * 1024:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        files["/".join(parts)] = FileSides(base=None, head=text)
    [pack_rule] = [r for r in load_builtin("hygiene").rules if r.rule.id == "content/secrets"]
    report = evaluate(changeset_from_files(files), Config(rules=(pack_rule.rule,)))
    mine = [f for f in report.findings if f.rule == "content/secrets"]
    levels = Counter(str(f.level) for f in mine)
    print(f"{root.name}: {len(files)} text files, findings by level {dict(sorted(levels.items()))}")
    for f in mine:
        if str(f.level) == "error":
            kind = f.message.split("looks like ", 1)[-1].split(". The value", 1)[0]
            print(f"  error {f.path}:{f.line}: {kind}")


def detect_secrets_findings(
    executable: str, cases: Sequence[Case], *, extra: Sequence[str] = ()
) -> dict[str, list[str]]:
    """Path -> the detect-secrets plugins that reported something in it."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for case in cases:
            target = root / case.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(case.text, encoding="utf-8")
        done = subprocess.run(
            [executable, "scan", "--all-files", *extra, "."],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
    results = json.loads(done.stdout)["results"]
    return {path: [item["type"] for item in items] for path, items in results.items()}


def measure(found: dict[str, list[str]]) -> dict[str, object]:
    missed = [c.what for c in PLANTED if c.path not in found]
    alarms = [c.what for c in LOOKALIKES if c.path in found]
    return {
        "recall": f"{len(PLANTED) - len(missed)}/{len(PLANTED)}",
        "false_alarms": f"{len(alarms)}/{len(LOOKALIKES)}",
        "missed": missed,
        "flagged_lookalikes": alarms,
        "test_data": {c.what: found.get(c.path, []) for c in TEST_DATA},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/secrets_recall.py")
    parser.add_argument("--detect-secrets", metavar="EXE", help="detect-secrets executable")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--tree", metavar="DIR", action="append", default=[], type=Path)
    args = parser.parse_args(argv)
    cases = [*PLANTED, *LOOKALIKES, *TEST_DATA]
    figures = {"prgate": measure(prgate_findings(cases))}
    if args.detect_secrets:
        exe = args.detect_secrets
        figures["detect-secrets"] = measure(detect_secrets_findings(exe, cases))
        figures["detect-secrets without is_indirect_reference"] = measure(
            detect_secrets_findings(exe, cases, extra=("--disable-filter", INDIRECT))
        )
    for tool, data in figures.items():
        print(f"{tool}: recall {data['recall']}, false alarms {data['false_alarms']}")
        for key in ("missed", "flagged_lookalikes"):
            items = data[key]
            assert isinstance(items, list)
            if items:
                print(f"  {key.replace('_', ' ')} ({len(items)}): " + "; ".join(items))
        print(f"  test data: {data['test_data']}")
    for tree in args.tree:
        tree_noise(tree)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
