"""The App's settings, from the environment variables the contract names."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prgate.errors import PrgateError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DATABASE_URL = "sqlite:///prgate.db"
#: Where the setup page saves the credentials GitHub returns (read back at start-up).
CREDENTIALS_FILE = "prgate-app.json"


class SettingsError(PrgateError):
    """A setting is present but cannot be used."""


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
    directory, readable only by its owner) are used when present.
    """
    env = os.environ if env is None else env
    base = cwd or Path.cwd()
    creds_file = base / CREDENTIALS_FILE
    app_id = env.get("PRGATE_APP_ID") or None
    key = env.get("PRGATE_PRIVATE_KEY") or None
    key_path = env.get("PRGATE_PRIVATE_KEY_PATH") or None
    secret = env.get("PRGATE_WEBHOOK_SECRET") or None
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
    workers = env.get("PRGATE_WORKERS", "2")
    try:
        n_workers = max(1, min(16, int(workers)))
    except ValueError:
        raise SettingsError("PRGATE_WORKERS must be a whole number") from None
    return Settings(
        app_id=app_id,
        private_key=key,
        webhook_secret=secret,
        api_url=(env.get("PRGATE_GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        database_url=env.get("PRGATE_DATABASE_URL") or DEFAULT_DATABASE_URL,
        credentials_file=creds_file,
        workers=n_workers,
        app_slug=slug,
    )


def _saved(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SettingsError(f"{path} holds no readable App credentials") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} holds no readable App credentials")
    return {k: str(v) for k, v in data.items() if k in ("id", "pem", "webhook_secret", "slug")}
