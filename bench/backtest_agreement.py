"""Whether `prgate rules backtest` gives each replayed change the verdict `prgate check` gives it.

    python bench/backtest_agreement.py GIT_DIR [--last 30]

Clones GIT_DIR (a fetched repository such as pallets/flask) into a temporary folder, runs
`prgate rules backtest --last N --format json` with a proposed config (the three deterministic
packs, stricter levels), then for every change it replayed runs `prgate check --base B --head H
--format json` twice: with the config of its base (the backtest's "current") and with the
proposal (its "proposed"). Prints how many of the verdicts, and of the blocking rule lists,
are equal, and the changes where they are not. Nothing of the repository is kept.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PROPOSAL = """\
packs: [python-style, safe-zones, hygiene]
rules:
  content/debug:
    level: error
  tests/required:
    level: error
"""


def check(repo: Path, base: str, head: str, config: Path | None) -> tuple[str, list[str]]:
    args = [str(BIN / "prgate"), "check", "--base", base, "--head", head, "--format", "json"]
    if config is not None:
        args += ["--config", str(config)]
    out = subprocess.run(args, cwd=repo, capture_output=True, check=False).stdout
    report = json.loads(out)
    blocking = sorted({f["rule"] for f in report.get("findings", []) if f.get("level") == "error"})
    return report["conclusion"], blocking


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("git_dir")
    parser.add_argument("--last", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="btagree-") as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", args.git_dir, str(repo)], check=True)
        proposal = Path(tmp) / "proposal.yml"
        proposal.write_text(PROPOSAL)
        start = time.perf_counter()
        done = subprocess.run(
            [
                *(str(BIN / "prgate"), "rules", "backtest", "--config", str(proposal)),
                *("--last", str(args.last), "--format", "json"),
            ],
            cwd=repo,
            capture_output=True,
            check=True,
        )
        took = time.perf_counter() - start
        report = json.loads(done.stdout)
        changes = report["changes"]
        same = same_blocking = 0
        differ: list[str] = []
        for change in changes:
            for side, config in (("current", None), ("proposed", proposal)):
                verdict, blocking = check(repo, change["base"], change["head"], config)
                ok = verdict == change[side]
                same += ok
                same_blocking += blocking == sorted(change["blocking"][side])
                if not ok:
                    differ.append(
                        f"{change['head'][:10]} {side}: check {verdict}, backtest {change[side]}"
                    )
        total = 2 * len(changes)
        print(f"{args.git_dir}: {len(changes)} changes replayed in {took:.1f}s")
        print(f"verdicts equal: {same}/{total}; blocking rules equal: {same_blocking}/{total}")
        for line in differ:
            print("  differs:", line)


if __name__ == "__main__":
    main()
