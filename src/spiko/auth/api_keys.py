"""API keys: creation, the keyed hash of their secret, and per-request verification.

A key is a public ``client_id`` and a 256-bit random ``client_secret``. The database keeps only
HMAC-SHA256(server subkey, secret): a high-entropy secret needs no slow hash, so checking one
costs microseconds, and a copy of the table is useless without the server's secret key.

Verification cache (per process): ``client_id`` -> (key id, investor, secret hash, live).
Invalidated by: ``invalidate(client_id)``, which every revocation calls once its transaction has
committed (so the revoking process refuses the key at once, and with Redis every listening
worker as soon as the message arrives: ``spiko.core.invalidation``), and by expiry,
``api_key_cache_ttl_seconds`` (1 s, never more) counted from *before* the row was read (so
another worker, or a revocation from the CLI, is seen within that TTL even without Redis).
Unknown client ids are cached too, as dead entries, so a flood of guesses costs one query per
id per TTL.

Verified credentials (per process): the SHA-256 of a Basic credential string that passed the
check -> the ``Principal`` it gave and the cache entry it was checked against. It answers only
while that very entry is still the cached one: an invalidation or the entry's expiry (at most a
second) replaces it, and the next request is checked again in full. Only the digest of the
credentials is kept, never the secret.

Last use: each successful check records the time in memory; a background task writes the
latest time per key every ``api_key_last_used_flush_seconds`` with one UPDATE per key used in
that interval, never one per request.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, or_, select, update

from spiko.auth.secrets import constant_time_equals, derive_key, random_token
from spiko.core.cache import TTLCache
from spiko.db.models.identity import ApiKey, User

if TYPE_CHECKING:
    from spiko.auth.credentials import Principal
    from spiko.context import AppContext

CLIENT_ID_PREFIX = "spk_"
SECRET_PREFIX = "sks_"  # noqa: S105 - a public prefix, not a secret
_NO_HASH = "0" * 64


@dataclass(frozen=True)
class CachedKey:
    key_id: str
    investor_id: str
    secret_hash: str
    live: bool
    scopes: str | None = None  # as stored with the key: None for full access
    # The creating member's role now (spiko.auth.roles.clamp); has_creator False: an operator's key.
    has_creator: bool = False
    creator_role: str | None = None


_UNKNOWN = CachedKey("", "", _NO_HASH, False)
MAX_VERIFIED = 10_000


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + random_token(12)


def new_client_secret() -> str:
    return SECRET_PREFIX + random_token(32)  # 256 bits of randomness


class ApiKeyVerifier:
    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._hash_key = derive_key(ctx.settings.secret_key, "api-key-secret")
        # ``keyed_hash`` with this key: the keyed state is computed once and copied per secret.
        self._hmac = hmac.new(self._hash_key, digestmod=hashlib.sha256)
        # SHA-256 of verified Basic credentials -> (client_id, the entry checked, the principal).
        self._verified: dict[bytes, tuple[str, CachedKey, Principal]] = {}
        # Never above 1 s: that bound is the promise made about revocations seen by other workers.
        self._cache: TTLCache[CachedKey] = TTLCache(min(ctx.settings.api_key_cache_ttl_seconds, 1.0))
        ctx.invalidations.on("api_keys", self._cache.invalidate, self._cache.clear)
        # key id -> epoch seconds of the latest successful use not yet written.
        self._last_used: dict[str, float] = {}
        self._last_used_lock = threading.Lock()

    def hash_secret(self, secret: str) -> str:
        """``secrets.keyed_hash(subkey, secret)``, from the precomputed keyed state."""
        digest = self._hmac.copy()
        digest.update(secret.encode())
        return digest.hexdigest()

    @staticmethod
    def credentials_digest(credentials: str) -> bytes:
        return hashlib.sha256(credentials.encode()).digest()

    def verified(self, digest: bytes) -> Principal | None:
        """The principal of credentials already checked against the key's current cache entry."""
        known = self._verified.get(digest)
        if known is None:
            return None
        client_id, entry, principal = known
        if self._cache.get(client_id) is not entry:  # revoked, changed or expired since: check again
            self._verified.pop(digest, None)
            return None
        return principal

    def remember(self, digest: bytes, client_id: str, entry: CachedKey, principal: Principal) -> None:
        """Credentials that passed ``check`` against ``entry``, for ``verified``."""
        if len(self._verified) >= MAX_VERIFIED:
            self._verified.clear()
        self._verified[digest] = (client_id, entry, principal)

    def cached(self, client_id: str) -> CachedKey | None:
        return self._cache.get(client_id)

    def read(self, client_id: str) -> CachedKey:
        """The key as the database has it now (a dead entry when there is no such key)."""
        with self._ctx.transaction(write=False) as session:
            row = session.execute(
                select(
                    ApiKey.id,
                    ApiKey.investor_id,
                    ApiKey.secret_hash,
                    ApiKey.revoked_at,
                    ApiKey.scopes,
                    ApiKey.created_by_user_id,
                    User.role,
                )
                .outerjoin(User, User.id == ApiKey.created_by_user_id)
                .where(ApiKey.client_id == client_id)
            ).first()
        if row is None:
            return _UNKNOWN
        return CachedKey(
            row.id,
            row.investor_id,
            row.secret_hash,
            row.revoked_at is None,
            row.scopes,
            has_creator=row.created_by_user_id is not None,
            creator_role=row.role,
        )

    def load(self, client_id: str) -> CachedKey:
        """Read the key from the database and cache what was read, found or not."""
        ticket = self._cache.ticket()
        entry = self.read(client_id)
        self._cache.set_if_current(client_id, entry, ticket)
        return entry

    async def lookup(self, client_id: str) -> CachedKey:
        """From the cache on the event loop, else one shared read in the threadpool."""
        return await self._cache.get_or_load(client_id, lambda: self.read(client_id))

    def check(self, entry: CachedKey, secret: str) -> bool:
        # Always hash and compare, so an unknown or revoked key costs the same as a wrong secret.
        matches = constant_time_equals(self.hash_secret(secret), entry.secret_hash or _NO_HASH)
        return matches and entry.live

    def invalidate(self, client_id: str) -> None:
        """Forget ``client_id`` here at once, and in every server process listening through Redis."""
        self._ctx.invalidations.publish("api_keys", client_id)

    def record_use(self, key_id: str) -> None:
        with self._last_used_lock:  # uncontended almost always: the flush holds it for a swap
            self._last_used[key_id] = time.time()

    def flush_last_used(self) -> int:
        """Write buffered last-use times (one UPDATE per key); return how many keys were written."""
        with self._last_used_lock:
            pending, self._last_used = self._last_used, {}
        if not pending:
            return 0
        rows = [
            {"key_id": key_id, "used_at": datetime.fromtimestamp(stamp, UTC)}
            for key_id, stamp in pending.items()
        ]
        # Several workers flush independently: never move a key's last use backwards.
        statement = (
            update(ApiKey)
            .where(ApiKey.id == bindparam("key_id"))
            .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < bindparam("used_at")))
            .values(last_used_at=bindparam("used_at"))
            .execution_options(synchronize_session=False)
        )
        try:
            with self._ctx.transaction() as session:
                session.connection().execute(statement, rows)
        except Exception:
            # Keep the uses for the next flush rather than lose them.
            with self._last_used_lock:
                for key_id, stamp in pending.items():
                    if stamp > self._last_used.get(key_id, 0.0):
                        self._last_used[key_id] = stamp
            raise
        return len(rows)
