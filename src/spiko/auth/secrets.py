"""Random credentials and the keyed hashes under which they are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random string carrying ``nbytes`` bytes of entropy (32 bytes = 256 bits)."""
    return secrets.token_urlsafe(nbytes)


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A subkey of the server secret for one purpose, so no two uses share a key."""
    return hmac.new(secret_key.encode(), b"spiko:" + purpose.encode(), hashlib.sha256).digest()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a high-entropy secret: fast enough to check on every request, useless to a thief."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())
