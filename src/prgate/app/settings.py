"""The App's settings, from the environment variables the contract names."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from prgate.errors import PrgateError
from prgate.github.budget import DEFAULT_LOW_WATER
from prgate.sources.fetchplan import DEFAULT_MAX_FETCH_BYTES

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DATABASE_URL = "sqlite:///prgate.db"
#: Where the setup page saves the credentials GitHub returns (read back at start-up).
CREDENTIALS_FILE = "prgate-app.json"
#: The most US dollars (estimated) the AI reviewer spends for one installation in a UTC day.
DEFAULT_LLM_MAX_USD_PER_DAY = 20.0
#: The App's secrets: taken out of the process environment once read (see ``from_env``).
SECRET_VARIABLES = ("PRGATE_PRIVATE_KEY", "PRGATE_WEBHOOK_SECRET", "PRGATE_OPERATOR_TOKEN")
#: The shortest operator token accepted (``PRGATE_OPERATOR_TOKEN``), in characters.
MIN_OPERATOR_TOKEN = 32


class SettingsError(PrgateError):
    """A setting is present but cannot be used."""


@dataclass(frozen=True)
class BacktestLimits:
    """How far the backtest of a pull request that changes prgate's rules looks back."""

    #: Merged pull requests of the base branch replayed (``PRGATE_BACKTEST_PRS``); 0: none.
    prs: int = 30
    #: Calls to GitHub one backtest makes at most (``PRGATE_BACKTEST_MAX_CALLS``).
    max_calls: int = 200


@dataclass(frozen=True)
class Settings:
    app_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    #: Where the setup page writes the App's credentials.
    credentials_file: Path = Path(CREDENTIALS_FILE)
    workers: int = 2
    #: Seconds GitHub calls may take.
    api_timeout: float = 15.0
    #: The App's public page on GitHub (``https://github.com/apps/<slug>``), when known.
    app_slug: str | None = None
    #: Queued jobs past which new deliveries are refused with 503 (GitHub records them as
    #: failed, and they can be redelivered).
    queue_limit: int = 1000
    #: Seconds running jobs get to finish after SIGTERM before they are released to the queue.
    shutdown_grace: float = 20.0
    #: Seconds a worker's claim on a job lasts without a heartbeat.
    job_lease: float = 60.0
    #: Seconds between passes of the reconcilers (missed webhooks); 0 turns them off.
    reconcile_interval: float = 600.0
    #: How a job that failed on a transient GitHub error is put back in the queue: the pause
    #: before its second run, doubled after each run up to ``retry_max_pause``, with jitter.
    retry_base_pause: float = 2.0
    retry_max_pause: float = 300.0
    #: Pause before a GitHub call is tried again within a job (reads, writes safe to repeat).
    api_retry_pause: float = 0.5
    #: Bytes of file contents read for one pull request at most; a larger PR fails closed.
    max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES
    #: The address GitHub and browsers reach this server at (``PRGATE_PUBLIC_URL``): the setup
    #: page puts it in the App's manifest. ``None``: the operator types it on the setup page.
    public_url: str | None = None
    #: ``PRGATE_ALLOW_INSECURE_HTTP``: accept an ``http://`` public address, for local
    #: development only (the webhook secret and the setup would then travel in clear).
    allow_http: bool = False
    #: The most US dollars (estimated) the AI reviewer spends for one installation in a UTC
    #: day, all its repositories and pull requests together (``PRGATE_LLM_MAX_USD_PER_DAY``).
    llm_max_usd_per_day: float = DEFAULT_LLM_MAX_USD_PER_DAY
    #: The operator's secret (``PRGATE_OPERATOR_TOKEN``): it opens the insights page and signs
    #: its sign-in links. ``None``: the insights page is off.
    operator_token: str | None = field(default=None, repr=False)
    #: The backtest of pull requests that change prgate's rules.
    backtest: BacktestLimits = field(default_factory=BacktestLimits)
    #: Calls of GitHub's hourly rate limit each installation keeps in reserve
    #: (``PRGATE_RATE_LIMIT_LOW_WATER``): with fewer left, jobs wait in the queue for the reset.
    rate_low_water: int = DEFAULT_LOW_WATER

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.private_key and self.webhook_secret)

    @property
    def graphql_url(self) -> str:
        return self.api_url.rstrip("/") + "/graphql"

    def __repr__(self) -> str:
        return (
            f"Settings(app_id={self.app_id!r}, api_url={self.api_url!r}, "
            f"database_url={self.database_url!r}, configured={self.configured})"
        )


def from_env(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> Settings:
    """Settings from ``env`` (default: the process environment).

    Without ``PRGATE_APP_ID``, credentials saved by the setup page (a file in the working
    directory, readable only by its owner) are used when present. Read from the process
    environment, the private key and the webhook secret are taken out of it: nothing started
    later (a child process, a library that dumps the environment) finds them there.
    """
    env = os.environ if env is None else env
    base = cwd or Path.cwd()
    creds_file = base / CREDENTIALS_FILE
    app_id = env.get("PRGATE_APP_ID") or None
    key = env.get("PRGATE_PRIVATE_KEY") or None
    key_path = env.get("PRGATE_PRIVATE_KEY_PATH") or None
    secret = env.get("PRGATE_WEBHOOK_SECRET") or None
    operator = (env.get("PRGATE_OPERATOR_TOKEN") or "").strip() or None
    if env is os.environ:
        for name in SECRET_VARIABLES:
            os.environ.pop(name, None)
    slug: str | None = None
    if key is None and key_path:
        try:
            key = Path(key_path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(
                f"PRGATE_PRIVATE_KEY_PATH names {key_path}, which cannot be read "
                f"({exc.strerror or type(exc).__name__})"
            ) from None
    if app_id is None and creds_file.is_file():
        saved = _saved(creds_file)
        app_id = saved.get("id")
        key = key or saved.get("pem")
        secret = secret or saved.get("webhook_secret")
        slug = saved.get("slug")
    if app_id is not None and (key is None or secret is None):
        missing = [
            name
            for name, value in (
                ("PRGATE_PRIVATE_KEY or PRGATE_PRIVATE_KEY_PATH", key),
                ("PRGATE_WEBHOOK_SECRET", secret),
            )
            if value is None
        ]
        raise SettingsError(
            "PRGATE_APP_ID is set but "
            + " and ".join(missing)
            + (" is" if len(missing) == 1 else " are")
            + " not, so the App could not "
            + ("verify GitHub's deliveries" if secret is None else "act on GitHub")
            + ". Set "
            + ("it" if len(missing) == 1 else "them")
            + " (from the App's settings on GitHub), or unset PRGATE_APP_ID to use the setup page."
        )
    workers = env.get("PRGATE_WORKERS", "2")
    try:
        n_workers = max(1, min(16, int(workers)))
    except ValueError:
        raise SettingsError("PRGATE_WORKERS must be a whole number") from None
    queue_limit = _whole(env, "PRGATE_QUEUE_LIMIT", 1000, low=1)
    max_fetch = _whole(env, "PRGATE_MAX_FETCH_BYTES", DEFAULT_MAX_FETCH_BYTES, low=1024 * 1024)
    low_water = _whole(env, "PRGATE_RATE_LIMIT_LOW_WATER", DEFAULT_LOW_WATER, low=0)
    grace = _seconds(env, "PRGATE_SHUTDOWN_GRACE", 20.0, low=0.0)
    lease = _seconds(env, "PRGATE_JOB_LEASE", 60.0, low=5.0)
    interval = _seconds(env, "PRGATE_RECONCILE_INTERVAL", 600.0, low=0.0)
    if 0 < interval < 1:
        raise SettingsError(
            "PRGATE_RECONCILE_INTERVAL must be 0 (off) or at least 1 second, "
            f"not {env.get('PRGATE_RECONCILE_INTERVAL')!r}"
        )
    allow_http = _switch(env, "PRGATE_ALLOW_INSECURE_HTTP")
    public_url = None
    if (env.get("PRGATE_PUBLIC_URL") or "").strip():
        try:
            public_url = public_address(env["PRGATE_PUBLIC_URL"], allow_http=allow_http)
        except ValueError as exc:
            raise SettingsError(f"PRGATE_PUBLIC_URL: {exc}") from None
    llm_day = _dollars(env, "PRGATE_LLM_MAX_USD_PER_DAY", DEFAULT_LLM_MAX_USD_PER_DAY)
    if operator is not None and len(operator) < MIN_OPERATOR_TOKEN:
        raise SettingsError(
            f"PRGATE_OPERATOR_TOKEN is shorter than {MIN_OPERATOR_TOKEN} characters, too easy "
            "to guess: make a new one with `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`"
        )
    backtest = BacktestLimits(
        prs=_whole(env, "PRGATE_BACKTEST_PRS", BacktestLimits.prs, low=0),
        max_calls=_whole(env, "PRGATE_BACKTEST_MAX_CALLS", BacktestLimits.max_calls, low=10),
    )
    return Settings(
        app_id=app_id,
        private_key=key,
        webhook_secret=secret,
        api_url=(env.get("PRGATE_GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        database_url=env.get("PRGATE_DATABASE_URL") or DEFAULT_DATABASE_URL,
        credentials_file=creds_file,
        workers=n_workers,
        app_slug=slug,
        queue_limit=queue_limit,
        shutdown_grace=grace,
        job_lease=lease,
        reconcile_interval=interval,
        max_fetch_bytes=max_fetch,
        public_url=public_url,
        allow_http=allow_http,
        llm_max_usd_per_day=llm_day,
        operator_token=operator,
        backtest=backtest,
        rate_low_water=low_water,
    )


#: The longest public address accepted (the manifest's URLs are built from it).
MAX_PUBLIC_URL = 300


def public_address(raw: str, *, allow_http: bool) -> str:
    """``raw`` as the server's public address (no trailing ``/``), or ``ValueError`` saying in
    plain words what is wrong. ``https://`` only, unless ``allow_http`` (local development);
    no user name, password, query or fragment, since GitHub's manifest must hold a plain
    address."""
    url = raw.strip()
    if len(url) > MAX_PUBLIC_URL:
        raise ValueError(f"the address is longer than {MAX_PUBLIC_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 or ch in "\"<>'`" for ch in url):
        raise ValueError("the address holds spaces or characters an address cannot have")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        raise ValueError("this is not a web address such as https://prgate.example.com") from None
    if parts.scheme == "http" and not allow_http:
        raise ValueError(
            "the address must start with https:// (GitHub sends the webhook secret to it); "
            "plain http:// is allowed only for local development, with "
            "PRGATE_ALLOW_INSECURE_HTTP=1"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("this is not a web address such as https://prgate.example.com")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the address must not hold a user name or password")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError("the address must not hold a query (?) or a fragment (#)")
    netloc = parts.hostname + (f":{port}" if port is not None else "")
    if ":" in parts.hostname:  # an IPv6 address keeps its brackets
        netloc = f"[{parts.hostname}]" + (f":{port}" if port is not None else "")
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def _switch(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 (on) or 0 (off), not {env.get(name)!r}")


def _whole(env: Mapping[str, str], name: str, default: int, *, low: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low:
        raise SettingsError(f"{name} must be at least {low}, not {value}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float, *, low: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}")
    if value < low:
        raise SettingsError(f"{name} must be at least {low:g} seconds, not {raw.strip()}")
    return value


def _dollars(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw.strip().removeprefix("$"))
    except ValueError:
        raise SettingsError(f"{name} must be an amount in US dollars, not {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise SettingsError(f"{name} must be an amount of 0 or more US dollars, not {raw!r}")
    return value


def _saved(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SettingsError(f"{path} holds no readable App credentials") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} holds no readable App credentials")
    return {k: str(v) for k, v in data.items() if k in ("id", "pem", "webhook_secret", "slug")}
