"""ID token signing keys (RFC 7517 JWKs: RS256, and ES256 and PS256 for FAPI 2.0 clients): kept
in the database, rotatable; one signing key per algorithm (an RSA key is never shared by RS256
and PS256, so each published key names the one algorithm it signs with).

The private JWK is stored as a JWE (``dir`` + A256GCM, via joserfc) under a key derived from
``SPIKO_SECRET_KEY``. After ``spiko keys rotate`` the new key signs, and the retired one stays in the
JWKS until every ID token it signed has expired.

Cache: each process keeps the loaded keys for ``KEY_CACHE_SECONDS``; a rotation made by the CLI
reaches a running worker within that time, and until then it signs with a key that is still
published, so no token it issues fails to verify. A reload reads the rows again, but decrypts and
imports only a key it has not imported before (importing an RSA key costs milliseconds).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, KeyParameters, OctKey, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.auth.secrets import derive_key
from spiko.db.models.oauth import OAuthSigningKey
from spiko.db.types import utcnow
from spiko.errors import InvariantError

if TYPE_CHECKING:
    from spiko.config import Settings
    from spiko.context import AppContext

logger = logging.getLogger("spiko.oauth.keys")

ALGORITHM = "RS256"
EC_ALGORITHM = "ES256"  # P-256, for FAPI 2.0 clients (spiko.auth.oauth.fapi)
PSS_ALGORITHM = "PS256"  # RSASSA-PSS, for FAPI 2.0 clients that register it
SIGNING_ALGORITHMS = (ALGORITHM, EC_ALGORITHM, PSS_ALGORITHM)
RSA_KEY_BITS = 2048
SigningKey = RSAKey | ECKey
KEY_CACHE_SECONDS = 5.0
ENCRYPTION = {"alg": "dir", "enc": "A256GCM"}


@dataclass(frozen=True)
class LoadedKeys:
    signing: RSAKey | None
    published: list[dict[str, Any]]
    signers: dict[str, SigningKey] | None = None  # by algorithm

    def signer(self, algorithm: str) -> SigningKey | None:
        return (self.signers or {}).get(algorithm)

    @property
    def complete(self) -> bool:
        return all(self.signer(algorithm) is not None for algorithm in SIGNING_ALGORITHMS)


def id_token_lifetime(settings: Settings) -> int:
    return settings.access_token_ttl_seconds


class KeyRing:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._wrapping_key = OctKey.import_key(derive_key(settings.secret_key, "oauth-signing-key"))
        self._lock = threading.Lock()
        self._cached: tuple[float, LoadedKeys] | None = None
        # Private keys already decrypted and imported, by stored row (kid, JWE): importing an RSA
        # key validates it, which costs milliseconds, and every reload would otherwise pay it
        # again for every key (in every request thread that finds the cache expired).
        self._imported: dict[tuple[str, str], SigningKey] = {}

    def _encrypt(self, key: SigningKey) -> str:
        return jwe.encrypt_compact(ENCRYPTION, json.dumps(key.as_dict(private=True)), self._wrapping_key)

    def _decrypt(self, row: OAuthSigningKey) -> SigningKey | None:
        try:
            plaintext = jwe.decrypt_compact(row.private_jwk_encrypted, self._wrapping_key).plaintext
        except (JoseError, ValueError):
            logger.warning("signing key unreadable with this secret key", extra={"fields": {"kid": row.kid}})
            return None
        if plaintext is None:
            raise InvariantError(f"signing key {row.kid} decrypted to nothing")
        key = JWKRegistry.import_key(json.loads(plaintext))
        if not isinstance(key, RSAKey | ECKey):
            raise InvariantError(f"signing key {row.kid} is neither RSA nor EC")
        return key

    def create_key(self, session: Session, algorithm: str = ALGORITHM) -> OAuthSigningKey:
        generated: SigningKey
        if algorithm == EC_ALGORITHM:
            generated = ECKey.generate_key("P-256", private=True)
        else:
            generated = RSAKey.generate_key(RSA_KEY_BITS, private=True)
        kid = generated.thumbprint()
        parameters: KeyParameters = {"kid": kid, "use": "sig", "alg": algorithm}
        key = type(generated).import_key(generated.as_dict(private=True), parameters=parameters)
        row = OAuthSigningKey(
            kid=kid,
            algorithm=algorithm,
            public_jwk=json.dumps(key.as_dict(private=False)),
            private_jwk_encrypted=self._encrypt(key),
        )
        session.add(row)
        session.flush()
        self.invalidate()
        return row

    def rotate(self, session: Session) -> dict[str, Any]:
        """Sign with a new key from now on; the old ones are published until their tokens expire."""
        now = utcnow()
        current = session.scalars(select(OAuthSigningKey).where(OAuthSigningKey.retired_at.is_(None))).all()
        for row in current:
            row.retired_at = now
        session.flush()
        created = [self.create_key(session, algorithm) for algorithm in SIGNING_ALGORITHMS]
        return {
            "kid": created[0].kid,  # the RS256 key
            "kids": [row.kid for row in created],
            "retired": [row.kid for row in current],
        }

    def list_keys(self, session: Session) -> list[dict[str, Any]]:
        rows = session.scalars(select(OAuthSigningKey).order_by(OAuthSigningKey.created_at)).all()
        cutoff = utcnow() - self._retention()
        return [
            {
                "kid": row.kid,
                "algorithm": row.algorithm,
                "createdAt": row.created_at,
                "retiredAt": row.retired_at,
                "published": row.retired_at is None or row.retired_at > cutoff,
                "signing": row.retired_at is None,
            }
            for row in rows
        ]

    def _retention(self) -> timedelta:
        # A little margin for clock skew between the signer and whoever verifies.
        return timedelta(seconds=id_token_lifetime(self._settings) + 300)

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def load(self, session: Session) -> LoadedKeys:
        now = time.monotonic()
        with self._lock:
            if self._cached and self._cached[0] > now:
                return self._cached[1]
        cutoff = utcnow() - self._retention()
        rows = session.scalars(
            select(OAuthSigningKey)
            .where((OAuthSigningKey.retired_at.is_(None)) | (OAuthSigningKey.retired_at > cutoff))
            .order_by(OAuthSigningKey.created_at.desc())
        ).all()
        signers: dict[str, SigningKey] = {}
        imported: dict[tuple[str, str], SigningKey] = {}
        for row in rows:
            if row.retired_at is None and row.algorithm not in signers:
                stored = (row.kid, row.private_jwk_encrypted)
                decrypted = self._imported.get(stored) or self._decrypt(row)
                if decrypted is not None:
                    signers[row.algorithm] = imported[stored] = decrypted
        self._imported = imported  # only the keys still signing
        rsa = signers.get(ALGORITHM)
        signing = rsa if isinstance(rsa, RSAKey) else None
        loaded = LoadedKeys(signing, [json.loads(row.public_jwk) for row in rows], signers)
        with self._lock:
            self._cached = (now + KEY_CACHE_SECONDS, loaded)
        return loaded

    def ensure_signing_key(self, ctx: AppContext) -> None:
        """Make sure a committed signing key exists, before a request's own transaction needs one.

        A key created inside a request's transaction would be cached (and could sign) before it
        is committed; creating it up front, in a transaction of its own, avoids that.
        """
        now = time.monotonic()
        with self._lock:
            if self._cached and self._cached[0] > now and self._cached[1].complete:
                return
        with ctx.transaction(write=False) as session:
            loaded = self.load(session)
            if loaded.complete:
                return
        with ctx.transaction() as session:
            for algorithm in SIGNING_ALGORITHMS:
                if loaded.signer(algorithm) is None:
                    self.create_key(session, algorithm)
        self.invalidate()

    def signing_key(self, session: Session, algorithm: str = ALGORITHM) -> Any:
        """The newest usable key for ``algorithm``; created on first use, in the caller's (write)
        transaction."""
        loaded = self.load(session)
        if loaded.signer(algorithm) is None:
            self.create_key(session, algorithm)
            self.invalidate()
            loaded = self.load(session)
        key = loaded.signer(algorithm)
        if key is None:
            raise InvariantError("a signing key was created but cannot be loaded back")
        return key

    def jwks(self, session: Session) -> dict[str, Any]:
        return {"keys": self.load(session).published}
