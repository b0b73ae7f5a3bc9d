"""The command line: check, fix, rules test|backtest, config validate, serve, init, mcp, insights.

Exit codes (the contract): ``check`` 0 nothing blocks, 1 a finding at level error, 2 could not judge;
``config validate`` 0 valid, 2 invalid; ``rules test`` 0 all pass, 1 a case fails; ``init`` 0 set
up (or already set up), 2 could not.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from prgate import __version__
from prgate.app import insightscli
from prgate.errors import ConfigError, PrgateError

if TYPE_CHECKING:
    from prgate.checks import Reviewer
    from prgate.config import Config
    from prgate.config.fetchers import ConfigFetcher
    from prgate.model import Report
    from prgate.sources.git import LocalChange

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_CANNOT_JUDGE = 2

FORMATS = ("text", "json", "markdown", "sarif")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prgate",
        description="A standards-as-code gate for pull requests.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"prgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser(
        "check",
        help="gate the change from BASE to HEAD (or the working tree)",
        description="Judge the change from where it left BASE to HEAD (default: the working "
        "tree, with uncommitted and untracked files) by the rules on BASE.",
        epilog=_CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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

    fix = sub.add_parser(
        "fix",
        help="apply every automatic fix to the working tree",
        epilog="example:\n  prgate fix && prgate check\n\nexit codes: 0 done (or nothing to "
        "fix), 2 could not read the change or the config",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_change_arguments(fix)

    rules = sub.add_parser("rules", help="work with rule packs")
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="SUBCOMMAND")
    rules_sub.required = True
    rules_test = rules_sub.add_parser(
        "test",
        help="run the test cases that ship with packs",
        epilog="examples:\n  prgate rules test                 the built-in packs\n"
        "  prgate rules test .github/prgate  your own packs\n\nexit codes: 0 every case "
        "passes, 1 a case fails",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rules_test.add_argument("packs", nargs="*", metavar="PACK_OR_DIR")
    _add_backtest_parser(rules_sub)

    config = sub.add_parser("config", help="work with the config file")
    config_sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    config_sub.required = True
    validate = config_sub.add_parser(
        "validate",
        help="check a config file and its packs",
        epilog="example:\n  prgate config validate .github/prgate.yml\n\nexit codes: 0 valid, "
        "2 invalid (each problem with file, line and column on stderr)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("file", nargs="?", default=".github/prgate.yml", metavar="FILE")

    serve = sub.add_parser("serve", help="run the GitHub App")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)

    init = sub.add_parser("init", help="write .github/prgate.yml for this repository")
    init.add_argument("path", nargs="?", default=".", metavar="PATH")
    init.add_argument(
        "--agents", action="store_true", help="also write prgate's section of AGENTS.md"
    )
    init.add_argument("--force", action="store_true", help="replace files that already exist")

    sub.add_parser("mcp", help="serve prgate's tools to AI agents (Model Context Protocol, stdio)")
    insightscli.add_parser(sub)
    return parser


_CHECK_EPILOG = """\
examples:
  prgate check                          what you changed, against the default branch
  prgate check --base origin/main       in CI: name the branch the change goes into
  prgate check --format json            one JSON object, for scripts and agents
  prgate check --format sarif --output prgate.sarif

exit codes:
  0  nothing blocks the change
  1  at least one finding at level error blocks it
  2  prgate could not judge it (not a git repository, unknown branch, broken config,
     or, when CI=true, no change between BASE and HEAD); the reason is on stderr
"""

_MAIN_EPILOG = """\
start here:
  prgate check            judge your change before you open a pull request
  prgate fix              apply the automatic fixes, then check again
  prgate COMMAND --help   examples and exit codes of a command
"""


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
        if args.command == "rules" and args.rules_command == "backtest":
            return _rules_backtest(args)
        if args.command == "rules":
            return _rules_test(args.packs)
        if args.command == "config":
            return _config_validate(Path(args.file))
        if args.command == "serve":
            return _serve(args.host, args.port)
        if args.command == "init":
            from prgate.init import run_init

            return run_init(Path(args.path), agents=args.agents, force=args.force)
        if args.command == "mcp":
            return _mcp()
        if args.command == "insights":
            return insightscli.main(args)
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


#: The modules of the App's extra dependencies (``prgate[app]``), and what provides each.
APP_MODULES = {
    "fastapi": "fastapi",
    "uvicorn": "uvicorn",
    "githubkit": "githubkit",
    "psycopg": "psycopg",
    "prometheus_client": "prometheus-client",
}


def _serve(host: str, port: int) -> int:
    import importlib

    missing = []
    for module, dist in APP_MODULES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(dist)
    if missing:
        _error(
            "the GitHub App needs dependencies the command line does not: "
            + ", ".join(missing)
            + ' are not installed. Install prgate with its App extra: pip install ".[app]" from '
            "a clone of prgate (or use its Docker image)."
        )
        return EXIT_CANNOT_JUDGE
    from prgate.app.server import serve

    serve(host, port)
    return EXIT_OK


def _mcp() -> int:
    try:
        import mcp  # noqa: F401  (the SDK is the `mcp` extra)
    except ImportError:
        _error(
            "the MCP server needs the official MCP SDK, which is not installed. Install prgate "
            'with its MCP extra: pip install ".[mcp]" from a clone of prgate.'
        )
        return EXIT_CANNOT_JUDGE
    from prgate.mcp_server import serve_stdio

    serve_stdio()
    return EXIT_OK


def _error(message: str) -> None:
    print(f"prgate: {_redact(message)}", file=sys.stderr)


def _redact(message: str) -> str:
    """A message with any credential it quotes hidden (an error may quote a change or a config)."""
    from prgate.render.redact import redact

    return redact(message)


def _check(args: argparse.Namespace) -> int:
    from prgate.model import Conclusion
    from prgate.render import render

    change, config = _load(args, head=args.head, labels=args.label)
    empty, base_is_head = _nothing_to_judge(change) if not change.changeset.files else (None, False)
    if empty is not None and base_is_head and _in_ci():
        raise PrgateError(
            f"nothing was judged: {empty} In CI this usually means the base is wrong: name the "
            "branch the change goes into with --base (for example --base origin/main), and "
            "fetch enough history to find where the change started (with actions/checkout, "
            "fetch-depth: 0)."
        )
    report = judge(change, config, llm=args.llm)
    if empty is not None and args.format == "text":
        out = f"prgate: nothing was judged: {empty}\n"
    else:
        if empty is not None:
            _error(f"nothing was judged: {empty}")
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


def _nothing_to_judge(change: LocalChange) -> tuple[str, bool]:
    """Why a change with no changed file has nothing to judge, in words, and whether that is
    because the head commit is the base or already part of it (a wrong base, in CI)."""
    from prgate.sources.git import resolve_commit

    base = change.changeset.base_name
    tip = change.head_commit or resolve_commit(change.root, "HEAD")
    if change.base_commit is not None and tip == change.base_commit:
        return f"the head is the same commit as the base ({base}), so there is no change.", True
    if change.base_commit is not None and tip == change.diff_base and change.head_commit:
        return f"the head is already part of the base ({base}), so there is no change.", True
    if change.head_commit is None:
        return f"no file differs from the base ({base}).", False
    return f"no file differs between the base ({base}) and {change.changeset.head_name}.", False


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def judge(change: LocalChange, config: Config, *, llm: bool = False) -> Report:
    """The verdict on a local change: what ``prgate check`` prints (also the MCP ``check`` tool)."""
    from prgate.engine import evaluate
    from prgate.sources.codeowners import with_codeowners

    reviewer = _llm_reviewer(config) if llm else None
    changeset = with_codeowners(change.changeset, config.rules)
    return evaluate(changeset, config, reviewer=reviewer)


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
    return load_change(
        Path(args.path), base=args.base, head=head, config_file=args.config, labels=labels
    )


def load_change(
    path: Path,
    *,
    base: str | None = None,
    head: str | None = None,
    config_file: str | None = None,
    labels: Sequence[str] = (),
) -> tuple[LocalChange, Config]:
    """The change in the repository at PATH, and the config it is judged by (BASE's)."""
    from prgate.config.loader import (
        GitRefFetcher,
        LocalFetcher,
        load_config_file,
        resolve_config,
    )
    from prgate.sources.git import open_change

    change = open_change(path, base=base, head=head, labels=labels)
    if config_file:
        file = Path(config_file)
        if not file.is_file():
            raise ConfigError("this config file does not exist.", file=str(file))
        config = load_config_file(file)
    elif change.base_commit is None:
        config = resolve_config(LocalFetcher.empty())
    else:
        config = _base_config(change.root, GitRefFetcher(change.root, change.base_commit))
    return change, config


def _base_config(root: Path, local: ConfigFetcher) -> Config:
    from prgate.sources.remoteconfig import take_token

    return base_config(root, local, token=take_token(os.environ))


def base_config(root: Path, local: ConfigFetcher, *, token: str | None) -> Config:
    """BASE's config; other repositories' (``extends``, the organisation's ``.github``) through
    GitHub's API when the user has a token, as the App reads them. (``rules backtest`` reads
    many bases, so the token is taken from the environment once, by the caller.)"""
    from dataclasses import replace

    from prgate.config.loader import resolve_config
    from prgate.sources.remoteconfig import (
        NEEDS_TOKEN,
        GitHubReposFetcher,
        github_repo_of,
        opener,
    )

    repo = github_repo_of(root, os.environ)
    org = repo.split("/", 1)[0] if repo else None
    if token is None:
        config = resolve_config(local)
        if org and config.source.startswith("defaults"):
            note = (
                f"On GitHub, prgate would also look for a config in {org}/.github, which this "
                "check cannot read. " + NEEDS_TOKEN
            )
            config = replace(config, notices=(*config.notices, note))
        return config
    return resolve_config(GitHubReposFetcher(local, opener(token, os.environ)), org=org)


def _wants_color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _fix(args: argparse.Namespace) -> int:
    change, config = _load(args, head=None, labels=())
    changed = fix_change(change, config)
    if not changed:
        print("prgate: nothing to fix automatically.")
        return EXIT_OK
    for line in changed:
        print(f"fixed {_redact(line)}")
    print(f"prgate: fixed {len(changed)} file(s). Run `prgate check` to see what is left.")
    return EXIT_OK


def fix_change(change: LocalChange, config: Config) -> list[str]:
    """Apply every automatic fix to the working tree; what changed, one line per file."""
    from prgate.engine import evaluate
    from prgate.fixes import apply_fixes, compute_fixes

    report = evaluate(change.changeset, config)
    fixes = compute_fixes(change.changeset, config, report)
    return list(apply_fixes(change.root, fixes))


def _rules_test(targets: Sequence[str]) -> int:
    from prgate.packs import format_case_results, run_pack_targets

    results = run_pack_targets(targets)
    sys.stdout.write(format_case_results(results))
    return EXIT_OK if all(r.passed for r in results) else EXIT_BLOCKED


def _add_backtest_parser(rules_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backtest = rules_sub.add_parser(
        "backtest",
        help="replay a proposed config over the changes already merged",
        description="Judge the last merged changes of this branch by a proposed config and by "
        "the config each was judged by (the one on its base), and say what would change.",
        epilog="examples:\n  prgate rules backtest                       .github/prgate.yml "
        "of the working tree, last 30 changes\n  prgate rules backtest --config new.yml "
        "--since 2024-01-01 --format markdown\n\nexit codes: 0 done, 2 could not (not a git "
        "repository, a broken config, no merged change)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backtest.add_argument("path", nargs="?", default=".", metavar="PATH")
    backtest.add_argument(
        "--config", metavar="FILE", help="the proposed config (default: .github/prgate.yml)"
    )
    window = backtest.add_mutually_exclusive_group()
    window.add_argument(
        "--last", type=_positive, metavar="N", help="replay the last N changes (default 30)"
    )
    window.add_argument("--since", metavar="DATE", help="replay the changes made since DATE")
    backtest.add_argument("--format", choices=("text", "json", "markdown"), default="text")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("N must be a whole number of at least 1")
    return int(text)


def _rules_backtest(args: argparse.Namespace) -> int:
    from prgate.backtest import run

    out = run(
        Path(args.path), config_file=args.config, last=args.last, since=args.since, fmt=args.format
    )
    sys.stdout.write(out)
    return EXIT_OK


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
