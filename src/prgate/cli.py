"""The command line: check, fix, rules test, config validate, serve.

Exit codes (the contract): ``check`` 0 nothing blocks, 1 a finding at level error, 2 could not judge;
``config validate`` 0 valid, 2 invalid; ``rules test`` 0 all pass, 1 a case fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from prgate import __version__
from prgate.errors import ConfigError, PrgateError

if TYPE_CHECKING:
    from prgate.checks import Reviewer
    from prgate.config import Config
    from prgate.sources.git import LocalChange

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_CANNOT_JUDGE = 2

FORMATS = ("text", "json", "markdown", "sarif")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prgate",
        description="A standards-as-code gate for pull requests.",
    )
    parser.add_argument("--version", action="version", version=f"prgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check", help="gate the change from BASE to HEAD (or the working tree)")
    _add_change_arguments(check)
    check.add_argument(
        "--head", metavar="REF", help="judge this commit instead of the working tree"
    )
    check.add_argument(
        "--label",
        metavar="NAME",
        action="append",
        default=[],
        help="a pull-request label (accepted for older scripts; no label lifts a rule)",
    )
    check.add_argument("--llm", action="store_true", help="also run the LLM reviewer's rules")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--output", metavar="FILE", help="write the report here instead of stdout")

    fix = sub.add_parser("fix", help="apply every automatic fix to the working tree")
    _add_change_arguments(fix)

    rules = sub.add_parser("rules", help="work with rule packs")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="SUBCOMMAND")
    rules_sub.required = True
    rules_test = rules_sub.add_parser("test", help="run the test cases that ship with packs")
    rules_test.add_argument("packs", nargs="*", metavar="PACK_OR_DIR")

    config = sub.add_parser("config", help="work with the config file")
    config_sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    config_sub.required = True
    validate = config_sub.add_parser("validate", help="check a config file and its packs")
    validate.add_argument("file", nargs="?", default=".github/prgate.yml", metavar="FILE")

    serve = sub.add_parser("serve", help="run the GitHub App")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    return parser


def _add_change_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", metavar="PATH")
    parser.add_argument("--base", metavar="REF", help="the branch to compare with")
    parser.add_argument("--config", metavar="FILE", help="use this config instead of BASE's")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "fix":
            return _fix(args)
        if args.command == "rules":
            return _rules_test(args.packs)
        if args.command == "config":
            return _config_validate(Path(args.file))
        if args.command == "serve":
            from prgate.app.server import serve

            serve(args.host, args.port)
            return EXIT_OK
    except PrgateError as exc:
        _error(str(exc))
        return EXIT_CANNOT_JUDGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug must not read as a verdict (1 means "blocked")
        # The type only: an exception's text may quote the change, which may hold secrets.
        _error(
            f"an internal error stopped prgate ({type(exc).__name__}), so the change was not "
            "judged. Please report it to whoever maintains prgate for your team."
        )
        return EXIT_CANNOT_JUDGE
    raise AssertionError(f"unhandled command {args.command}")


def _error(message: str) -> None:
    print(f"prgate: {_redact(message)}", file=sys.stderr)


def _redact(message: str) -> str:
    """A message with any credential it quotes hidden (an error may quote a change or a config)."""
    from prgate.render.redact import redact

    return redact(message)


def _check(args: argparse.Namespace) -> int:
    from prgate.engine import evaluate
    from prgate.model import Conclusion
    from prgate.render import render
    from prgate.sources.codeowners import with_codeowners

    change, config = _load(args, head=args.head, labels=args.label)
    reviewer = _llm_reviewer(config) if args.llm else None
    changeset = with_codeowners(change.changeset, config.rules)
    report = evaluate(changeset, config, reviewer=reviewer)
    out = render(report, args.format, color=args.output is None and _wants_color(sys.stdout))
    if args.output:
        try:
            Path(args.output).write_text(out, encoding="utf-8")
        except OSError as exc:
            raise PrgateError(
                f"could not write the report to {args.output}: {exc.strerror or exc}"
            ) from None
    else:
        sys.stdout.write(out)
    return EXIT_BLOCKED if report.conclusion is Conclusion.FAILURE else EXIT_OK


def _llm_reviewer(config: Config) -> Reviewer | None:
    """The AI reviewer for ``--llm``: with ``ANTHROPIC_API_KEY``, else ``None`` (and a note)."""
    if not any(r.enabled and r.check == "llm" for r in config.rules):
        return None
    # The SDK takes most of a second to import: only when there is something to review.
    from prgate.llm.cache import FileCache, default_cache_dir
    from prgate.llm.client import KEY_VARIABLE, service_from_env
    from prgate.llm.session import ReviewSession

    service = service_from_env(os.environ)  # takes the key out: no child process inherits it
    if service is None:
        _error(f"the AI review rules were skipped: {KEY_VARIABLE} is not set. Set it to run them.")
        return None
    cache = FileCache(default_cache_dir(os.environ))
    return ReviewSession(service, settings=config.llm_settings, cache=cache)


def _load(
    args: argparse.Namespace, *, head: str | None, labels: Sequence[str]
) -> tuple[LocalChange, Config]:
    """The change in the repository at PATH, and the config it is judged by (BASE's)."""
    from prgate.config.loader import (
        GitRefFetcher,
        LocalFetcher,
        load_config_file,
        resolve_config,
    )
    from prgate.sources.git import open_change

    change = open_change(Path(args.path), base=args.base, head=head, labels=labels)
    if args.config:
        config_file = Path(args.config)
        if not config_file.is_file():
            raise ConfigError("this config file does not exist.", file=str(config_file))
        config = load_config_file(config_file)
    elif change.base_commit is None:
        config = resolve_config(LocalFetcher.empty())
    else:
        config = resolve_config(GitRefFetcher(change.root, change.base_commit))
    return change, config


def _wants_color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _fix(args: argparse.Namespace) -> int:
    from prgate.engine import evaluate
    from prgate.fixes import apply_fixes, compute_fixes

    change, config = _load(args, head=None, labels=())
    report = evaluate(change.changeset, config)
    fixes = compute_fixes(change.changeset, config, report)
    changed = apply_fixes(change.root, fixes)
    if not changed:
        print("prgate: nothing to fix automatically.")
        return EXIT_OK
    for line in changed:
        print(f"fixed {_redact(line)}")
    print(f"prgate: fixed {len(changed)} file(s). Run `prgate check` to see what is left.")
    return EXIT_OK


def _rules_test(targets: Sequence[str]) -> int:
    from prgate.packs import format_case_results, run_pack_targets

    results = run_pack_targets(targets)
    sys.stdout.write(format_case_results(results))
    return EXIT_OK if all(r.passed for r in results) else EXIT_BLOCKED


def _config_validate(path: Path) -> int:
    from prgate.config.deprecations import deprecations
    from prgate.config.flagnotice import inactive_flag_notices
    from prgate.config.loader import repository_root, validate_file

    errors = validate_file(path)
    if errors:
        for err in errors:
            _error(err.describe())
        return EXIT_CANNOT_JUDGE
    for warning in deprecations(path, repository_root(path)):
        _error(f"warning: {warning.describe()}")
    for notice in inactive_flag_notices(path):
        _error(f"notice: {notice}")
    print(f"{path}: valid.")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
