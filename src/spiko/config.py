"""Settings, read once from the SPIKO_* environment variables (and a .env file)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///./spiko.db"


def normalize_database_url(url: str) -> str:
    """Map a plain ``postgresql://`` URL to the psycopg 3 driver; leave others as they are."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key_file(database_url: str) -> Path:
    """Where a generated secret key is kept: next to the SQLite file, else in the current folder."""
    if database_url.startswith("sqlite:///") and not database_url.endswith(":memory:"):
        db_path = Path(database_url[len("sqlite:///") :])
        return db_path.parent / (db_path.name + ".secret-key")
    return Path(".spiko-secret-key")


def load_or_create_secret_key(database_url: str) -> str:
    path = _secret_key_file(database_url)
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    issuer: str = "http://127.0.0.1:8000"
    secret_key: str = field(default="", repr=False)
    redis_url: str | None = None
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 90 * 24 * 3600
    authorization_code_ttl_seconds: int = 600
    api_key_cache_ttl_seconds: float = 1.0
    api_key_last_used_flush_seconds: float = 5.0
    max_api_keys_per_investor: int = 20
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    login_window_seconds: int = 900
    token_requests_per_client: int = 60
    token_requests_per_address: int = 120
    token_window_seconds: int = 60
    sandbox_annual_rate: Decimal = Decimal("0.035")
    log_level: str = "INFO"

    @property
    def sqlalchemy_url(self) -> str:
        return normalize_database_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, *, port: int | None = None, load_dotenv_file: bool = True) -> Settings:
        if load_dotenv_file:
            from dotenv import load_dotenv

            load_dotenv(override=False)
        env = os.environ
        database_url = env.get("SPIKO_DATABASE_URL", DEFAULT_DATABASE_URL)
        issuer = env.get("SPIKO_ISSUER") or f"http://127.0.0.1:{port or 8000}"
        secret_key = env.get("SPIKO_SECRET_KEY") or load_or_create_secret_key(database_url)
        kwargs: dict[str, object] = {}
        for name, caster in (
            ("access_token_ttl_seconds", int),
            ("refresh_token_ttl_seconds", int),
            ("api_key_cache_ttl_seconds", float),
            ("token_requests_per_client", int),
            ("token_requests_per_address", int),
            ("login_attempts_per_account", int),
            ("login_attempts_per_address", int),
            ("sandbox_annual_rate", Decimal),
        ):
            raw = env.get("SPIKO_" + name.upper())
            if raw:
                kwargs[name] = caster(raw)
        return cls(
            database_url=database_url,
            issuer=issuer.rstrip("/"),
            secret_key=secret_key,
            redis_url=env.get("SPIKO_REDIS_URL") or None,
            log_level=env.get("SPIKO_LOG_LEVEL", "INFO"),
            **kwargs,  # type: ignore[arg-type]
        )
