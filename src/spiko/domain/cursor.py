"""Opaque, tamper-evident page cursors over a (timestamp, id) sort key.

A cursor names the last item of a page: its timestamp (microseconds since the epoch, UTC) and
its id, plus the sort direction it was issued for. It is base64url-encoded UTF-8 text (the
reference's ``StringFromBase64Url``) ending in a truncated hex HMAC-SHA256, so a client can pass
it back but not forge or edit one; anything else is refused with ``InvalidCursor``. Keyset
pagination on this key is stable while new items arrive: an item inserted after a page was
served sorts before it (newest first) or after everything already served (oldest first), and
never shifts the pages in between.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_VERSION = "c1"
_MAC_BYTES = 12
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_LENGTH = 512


class InvalidCursor(ValueError):
    """The cursor was not issued by this server, was altered, or belongs to another listing."""


@dataclass(frozen=True)
class Cursor:
    timestamp: datetime
    item_id: str
    direction: str  # "asc" | "desc"


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("cursor timestamps must be timezone-aware")
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _mac(key: bytes, scope: str, payload: str) -> str:
    return hmac.new(key, f"{scope}\x00{payload}".encode(), hashlib.sha256).hexdigest()[: 2 * _MAC_BYTES]


def encode_cursor(cursor: Cursor, *, key: bytes, scope: str) -> str:
    """Encode ``cursor``; ``scope`` binds it to one listing (e.g. the account and filters)."""
    if cursor.direction not in ("asc", "desc"):
        raise ValueError("direction must be asc or desc")
    if "|" in cursor.item_id:
        raise ValueError("item ids cannot contain '|'")
    payload = f"{_VERSION}|{_micros(cursor.timestamp)}|{cursor.item_id}|{cursor.direction}"
    raw = f"{payload}|{_mac(key, scope, payload)}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(text: str, *, key: bytes, scope: str) -> Cursor:
    """Decode a cursor made by ``encode_cursor`` with the same key and scope, or raise ``InvalidCursor``."""
    if not text or len(text) > _MAX_LENGTH:
        raise InvalidCursor("the cursor is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidCursor("the cursor is not base64url") from error
    try:
        text_value = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidCursor("the cursor is malformed") from error
    payload, separator, mac = text_value.rpartition("|")
    if not separator or len(mac) != 2 * _MAC_BYTES:
        raise InvalidCursor("the cursor is malformed")
    if not hmac.compare_digest(mac.encode(), _mac(key, scope, payload).encode()):
        raise InvalidCursor("the cursor was not issued for this listing")
    parts = payload.split("|")
    if len(parts) != 4 or parts[0] != _VERSION or parts[3] not in ("asc", "desc"):
        raise InvalidCursor("the cursor is malformed")
    try:
        micros = int(parts[1])
    except ValueError as error:
        raise InvalidCursor("the cursor is malformed") from error
    try:
        timestamp = _EPOCH + timedelta(microseconds=micros)
    except OverflowError as error:
        raise InvalidCursor("the cursor is malformed") from error
    return Cursor(timestamp=timestamp, item_id=parts[2], direction=parts[3])
