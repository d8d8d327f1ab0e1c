"""The runtime context shared by the HTTP app and the CLI: settings, database and shared helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from spiko.config import Settings
from spiko.core.cache import TTLCache
from spiko.core.invalidation import Invalidations
from spiko.core.ratelimit import RateLimiter, make_rate_limiter
from spiko.db.engine import make_engine, make_session_factory, transaction

if TYPE_CHECKING:
    from spiko.auth.api_keys import ApiKeyVerifier
    from spiko.auth.throttle import SignInThrottle
    from spiko.mail import Mailer


@dataclass
class AppContext:
    settings: Settings
    engine: Engine = field(init=False)
    session_factory: sessionmaker[Session] = field(init=False)
    # The time TOTP codes are judged at (epoch seconds); injectable, for tests, like the throttle's clock.
    factor_clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.database_url)
        self.session_factory = make_session_factory(self.engine)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return make_rate_limiter(self, self.settings.redis_url, self.settings.redis_prefix)

    @cached_property
    def sign_in_throttle(self) -> SignInThrottle:
        """Delays after failed sign-ins, shared by every worker (see ``spiko.auth.throttle``)."""
        from spiko.auth.throttle import SignInThrottle, make_store

        store = make_store(self, self.settings.redis_url, self.settings.redis_prefix)
        return SignInThrottle(
            store,
            delay_seconds=self.settings.login_delay_seconds,
            max_delay_seconds=self.settings.login_max_delay_seconds,
        )

    @cached_property
    def mailer(self) -> Mailer:
        """Where mail goes: ``SPIKO_SMTP_URL``, or the outbox folder (``spiko.mail``)."""
        from spiko.mail import Mailer

        return Mailer(
            self.settings.smtp_url,
            self.settings.mail_from,
            self.settings.mail_outbox,
            base_url=self.settings.issuer,
        )

    @cached_property
    def invalidations(self) -> Invalidations:
        """Revocations told to every process through Redis (when configured); see the module."""
        return Invalidations(self.settings.redis_url, channel=self.settings.redis_prefix + "invalidations")

    @cached_property
    def api_keys(self) -> ApiKeyVerifier:
        from spiko.auth.api_keys import ApiKeyVerifier

        return ApiKeyVerifier(self)

    @cached_property
    def investor_cache(self) -> TTLCache[bytes]:
        """``GET /v1/investors/me`` JSON bodies by investor id, so a hot API key costs no query.

        Invalidated by expiry only: entries live ``investor_cache_ttl_seconds`` (at most 1 s)
        from before their row was read. Investor rows are written when an investor is created
        and otherwise only by operators, so a change is visible everywhere within that second.
        """
        return TTLCache(min(self.settings.investor_cache_ttl_seconds, 1.0))

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        with transaction(self.session_factory, write=write) as session:
            yield session

    def close(self) -> None:
        if "api_keys" in self.__dict__:
            self.api_keys.flush_last_used()
        if "invalidations" in self.__dict__:
            self.invalidations.close()
        self.engine.dispose()
