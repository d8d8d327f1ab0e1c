"""API keys: creation, the keyed hash of their secret, and per-request verification.

Verification cache: a key's row (hash, investor, revocation) is cached in this process for
``api_key_cache_ttl_seconds`` (1 s by default). Revoking a key invalidates the entry in the
revoking process at once; other workers see the revocation when their entry expires, within
that TTL. Last use is buffered in memory and written at most every few seconds, never once
per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from spiko.auth.secrets import constant_time_equals, derive_key, keyed_hash, random_token
from spiko.core.cache import TTLCache
from spiko.db.models.identity import ApiKey
from spiko.db.types import utcnow

if TYPE_CHECKING:
    from spiko.context import AppContext

CLIENT_ID_PREFIX = "spk_"
SECRET_PREFIX = "sks_"  # noqa: S105 - a public prefix, not a secret


@dataclass(frozen=True)
class CachedKey:
    key_id: str
    investor_id: str
    secret_hash: str
    live: bool


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + random_token(12)


def new_client_secret() -> str:
    return SECRET_PREFIX + random_token(32)  # 256 bits


class ApiKeyVerifier:
    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._hash_key = derive_key(ctx.settings.secret_key, "api-key-secret")
        self._cache: TTLCache[CachedKey] = TTLCache(ctx.settings.api_key_cache_ttl_seconds)
        self._last_used: dict[str, datetime] = {}
        self._last_used_lock = threading.Lock()

    def hash_secret(self, secret: str) -> str:
        return keyed_hash(self._hash_key, secret)

    def cached(self, client_id: str) -> CachedKey | None:
        return self._cache.get(client_id)

    def load(self, client_id: str) -> CachedKey | None:
        """Read the key from the database (and cache what was read, found or not)."""
        with self._ctx.transaction(write=False) as session:
            row = session.execute(
                select(ApiKey.id, ApiKey.investor_id, ApiKey.secret_hash, ApiKey.revoked_at).where(
                    ApiKey.client_id == client_id
                )
            ).first()
        entry = (
            CachedKey(row.id, row.investor_id, row.secret_hash, row.revoked_at is None)
            if row
            else CachedKey("", "", "", False)
        )
        self._cache.set(client_id, entry)
        return entry

    def check(self, entry: CachedKey, secret: str) -> bool:
        # Always compute and compare, so an unknown client id costs the same as a wrong secret.
        candidate = self.hash_secret(secret)
        matches = constant_time_equals(candidate, entry.secret_hash or "0" * 64)
        return matches and entry.live

    def invalidate(self, client_id: str) -> None:
        self._cache.invalidate(client_id)

    def record_use(self, key_id: str) -> None:
        with self._last_used_lock:
            self._last_used[key_id] = utcnow()

    def flush_last_used(self) -> None:
        """Write buffered last-use times; the app calls this from a background task."""
        with self._last_used_lock:
            pending, self._last_used = self._last_used, {}
        if not pending:
            return
        with self._ctx.transaction() as session:
            for key_id, used_at in pending.items():
                session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=used_at))
