"""Settings, read once from the SPIKO_* environment variables (and a .env file)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///./spiko.db"


def normalize_database_url(url: str) -> str:
    """Map a plain ``postgresql://`` URL to the psycopg 3 driver; leave others as they are."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_env_file() -> None:
    """Read ``.env`` in the current folder, if any; variables already set win over it."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def _secret_key_file(database_url: str) -> Path:
    """Where a generated secret key is kept: next to the SQLite file, else in the current folder."""
    if database_url.startswith("sqlite:///") and not database_url.endswith(":memory:"):
        db_path = Path(database_url[len("sqlite:///") :])
        return db_path.parent / (db_path.name + ".secret-key")
    return Path(".spiko-secret-key")


def load_or_create_secret_key(database_url: str) -> str:
    """Read the generated key, or create it once (0600); concurrent starters all read the same key."""
    path = _secret_key_file(database_url)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write a complete temporary file, then link it into place: link fails if another process
    # won the race, and nobody ever reads a half-written key.
    scratch = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    try:
        os.link(scratch, path)
    except FileExistsError:
        pass
    finally:
        scratch.unlink(missing_ok=True)
    return path.read_text().strip()


MAX_REFRESH_REUSE_GRACE_SECONDS = 300

_CASTERS: dict[str, Callable[[str], object]] = {
    "int": int,
    "float": float,
    "Decimal": Decimal,
    "str": str,
    "str | None": lambda raw: raw or None,
    "bool": lambda raw: raw.strip().lower() in ("1", "true", "yes", "on"),
}


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    issuer: str = "http://127.0.0.1:8000"
    secret_key: str = field(default="", repr=False)
    redis_url: str | None = None
    # Every Redis key and channel starts with it, so several deployments can share one Redis.
    redis_prefix: str = "spiko:"
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 90 * 24 * 3600
    authorization_code_ttl_seconds: int = 600
    # A rotated-out refresh token may be exchanged again this long after its first use (0: never).
    refresh_token_reuse_grace_seconds: int = 0
    api_key_cache_ttl_seconds: float = 1.0
    api_key_last_used_flush_seconds: float = 5.0
    investor_cache_ttl_seconds: float = 1.0
    max_api_keys_per_investor: int = 20
    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    # After the free failures above, a sign-in waits this long, doubling after each failure.
    login_delay_seconds: int = 60
    login_max_delay_seconds: int = 900
    # Failed second-step codes of one user before each further try must wait (doubling, as sign-in).
    second_factor_attempts: int = 5
    # Sensitive changes (keys, apps, bank accounts, members, security settings) ask for the second
    # factor (or the password, for users without one) again when the last check is older than this.
    step_up_seconds: int = 300
    token_requests_per_client: int = 60
    token_requests_per_address: int = 120
    # Failed client authentications at the token endpoint, per (client named, address).
    token_failures_per_client_and_address: int = 10
    token_window_seconds: int = 60
    sandbox_annual_rate: Decimal = Decimal("0.035")
    # An exchange rate older than this many days (before the day it converts for) is never used
    # silently: conversions that would need it are refused, naming its date.
    fx_max_age_days: int = 7
    # Hours before a bank account an investor added in the app may receive withdrawals.
    bank_account_cooling_off_hours: int = 24
    # Browser origins allowed to call the APIs and the token endpoint (comma-separated); see spiko.core.cors.
    cors_allowed_origins: str = ""
    # FAPI 2.0 (docs/oauth.md): every client must push its authorization requests (RFC 9126) when on.
    require_pushed_authorization_requests: bool = False
    par_request_uri_ttl_seconds: int = 60
    # Pushed authorization requests per address and per authenticated client, per token window.
    par_requests_per_address: int = 120
    par_requests_per_client: int = 60
    # DPoP (RFC 9449): how old a proof's iat may be, and whether proofs must carry a server nonce.
    dpop_proof_max_age_seconds: int = 60
    dpop_nonce_required: bool = True
    dpop_nonce_lifetime_seconds: int = 300
    log_level: str = "INFO"
    # Sandbox simulations over HTTP (/sandbox/*); `spiko serve --demo` turns them on.
    sandbox_mode: bool = False
    # Webhook URLs on private, loopback, link-local or metadata addresses (refused unless on).
    webhook_allow_private_networks: bool = False
    # Seconds between a delivery's attempts; after the last one fails the endpoint is disabled.
    webhook_retry_seconds: str = "5,300,1800,7200,18000,36000,36000"
    webhook_timeout_seconds: float = 10.0
    # Deliver from a thread of each server process (`spiko serve` turns it on with SQLite).
    webhook_in_process_worker: bool = False
    webhook_worker_concurrency: int = 16
    # /metrics is refused unless one of these is set: a Bearer token, or client addresses and
    # networks (comma-separated, e.g. "127.0.0.1, 10.0.0.0/8") it is served to.
    metrics_token: str | None = field(default=None, repr=False)
    metrics_allowed_addresses: str = ""
    # Mail (spiko.mail): the SMTP server (smtp://host:port, smtps://user:pass@host:port); unset,
    # messages are written as .eml files to mail_outbox. mail_from is the sender.
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str = "Spiko <no-reply@spiko.localhost>"
    mail_outbox: str = ""  # empty: ./outbox (spiko.mail.DEFAULT_OUTBOX)
    # How long the links sent by mail work: an invitation, a password reset, an email verification.
    invitation_ttl_seconds: int = 7 * 24 * 3600
    password_reset_ttl_seconds: int = 3600
    email_verification_ttl_seconds: int = 3 * 24 * 3600

    def __post_init__(self) -> None:
        from spiko.core.cors import parse_origins

        parse_origins(self.cors_allowed_origins)  # a malformed list stops the start, with its reason
        self.metrics_networks  # noqa: B018 - a malformed list of addresses stops the start too
        if self.smtp_url:
            from spiko.mail import parse_smtp_url

            parse_smtp_url(self.smtp_url)  # a malformed SMTP URL stops the start, with its reason
        if not 0 <= self.refresh_token_reuse_grace_seconds <= MAX_REFRESH_REUSE_GRACE_SECONDS:
            raise ValueError(
                "SPIKO_REFRESH_TOKEN_REUSE_GRACE_SECONDS must be between 0 and "
                f"{MAX_REFRESH_REUSE_GRACE_SECONDS}"
            )

    @property
    def cors_origins(self) -> list[str]:
        from spiko.core.cors import parse_origins

        return parse_origins(self.cors_allowed_origins)

    @property
    def metrics_networks(self) -> list[IPv4Network | IPv6Network]:
        networks = []
        for item in self.metrics_allowed_addresses.split(","):
            if item.strip():
                try:
                    networks.append(ip_network(item.strip(), strict=False))
                except ValueError:
                    raise ValueError(
                        f"SPIKO_METRICS_ALLOWED_ADDRESSES: {item.strip()!r} is not an address or network"
                    ) from None
        return networks

    @property
    def sqlalchemy_url(self) -> str:
        return normalize_database_url(self.database_url)

    @property
    def secure_cookies(self) -> bool:
        return self.issuer.startswith("https://")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, *, port: int | None = None, load_dotenv_file: bool = True) -> Settings:
        if load_dotenv_file:
            load_env_file()
        env = os.environ
        database_url = env.get("SPIKO_DATABASE_URL") or DEFAULT_DATABASE_URL
        issuer = env.get("SPIKO_ISSUER") or f"http://127.0.0.1:{port or 8000}"
        secret_key = env.get("SPIKO_SECRET_KEY") or load_or_create_secret_key(database_url)
        # Every other field is read from SPIKO_<FIELD_NAME> when set, cast by its annotation.
        kwargs: dict[str, Any] = {}
        for setting in fields(cls):
            if setting.name in ("database_url", "issuer", "secret_key"):
                continue
            raw = env.get("SPIKO_" + setting.name.upper())
            if raw is None or (raw == "" and setting.type != "str | None"):
                continue
            caster = _CASTERS.get(str(setting.type))
            if caster is None:
                continue
            try:
                kwargs[setting.name] = caster(raw)
            except (ValueError, ArithmeticError):
                raise ValueError(f"SPIKO_{setting.name.upper()} is not a valid {setting.type}") from None
        return cls(
            database_url=database_url,
            issuer=issuer.rstrip("/"),
            secret_key=secret_key,
            **kwargs,
        )
