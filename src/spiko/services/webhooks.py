"""Webhook endpoints: where an investor's events are delivered, and the rules on their URLs.

Secrets. Each endpoint has a Standard Webhooks secret (``whsec_`` + base64 of 24 random bytes).
The server must sign with it, so it cannot be kept only as a hash: it is stored encrypted with
Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` package) under a key derived by
HKDF-SHA256 from ``SPIKO_SECRET_KEY``. The secret is shown once, when the endpoint is created or
its secret rotated. After a rotation the previous secret keeps signing (both signatures are
sent) for ``ROTATION_OVERLAP``.

URLs. ``https`` only, except plain ``http`` to a loopback address; hosts that are or resolve to
private, loopback, link-local (cloud metadata), multicast or reserved addresses are refused
unless the operator sets ``SPIKO_WEBHOOK_ALLOW_PRIVATE_NETWORKS``. The check runs when the
endpoint is saved and again before every delivery (a name may resolve elsewhere later).
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from spiko.db.models.webhooks import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from spiko.db.types import utcnow
from spiko.domain.cursor import Cursor
from spiko.errors import ApplicationError, NotFoundError
from spiko.services.events import EVENT_TYPES

ROTATION_OVERLAP = timedelta(days=1)
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 500
MAX_ENDPOINTS_PER_INVESTOR = 20
SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)
# Cloud metadata services that are not link-local addresses.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254")})


# --- secrets -----------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"spiko webhook endpoint secrets"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def encrypt_secret(secret_key: str, secret: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode("ascii")


def decrypt_secret(secret_key: str, token: str) -> str:
    return _fernet(secret_key).decrypt(token.encode()).decode()


def signing_secrets(secret_key: str, endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one for a day."""
    found = [decrypt_secret(secret_key, endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires is not None and expires > now:
        found.append(decrypt_secret(secret_key, endpoint.previous_secret_encrypted))
    return found


# --- URLs ----------------------------------------------------------------------------------------


class UnsafeUrl(ValueError):
    """A URL webhooks may not be sent to; the message says why."""


class Unresolvable(UnsafeUrl):
    """The URL is well formed but its host name does not resolve."""


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _refused_address(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "a reserved address"
    return None


def _is_loopback_literal(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Unresolvable(f"the host {host} cannot be resolved") from error
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def checked_target(
    url: str, *, allow_private: bool
) -> tuple[str, int, list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """Check ``url`` and resolve its host: (host, port, addresses), or raise ``UnsafeUrl``."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise UnsafeUrl("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl("the URL is malformed") from error
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeUrl("the URL must start with https://")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL may not contain credentials")
    if parts.fragment:
        raise UnsafeUrl("the URL may not contain a fragment")
    port = port or (443 if scheme == "https" else 80)
    if scheme == "http" and host.lower() != "localhost" and not _is_loopback_literal(host):
        raise UnsafeUrl("the URL must use https:// (plain http:// is accepted for loopback receivers only)")
    addresses = resolve(host, port)
    if not addresses:
        raise Unresolvable(f"the host {host} cannot be resolved")
    if scheme == "http" and not all(address.is_loopback for address in addresses):
        raise UnsafeUrl("the URL must use https:// (plain http:// is accepted for loopback receivers only)")
    if not allow_private:
        for address in addresses:
            reason = _refused_address(address)
            if reason is not None:
                raise UnsafeUrl(
                    f"the host {host} is {reason}; webhooks go to public addresses only "
                    "(an operator can allow private networks)"
                )
    return host, port, addresses


def check_url(url: str, *, allow_private: bool) -> str:
    """The check when an endpoint is saved: a host that does not resolve (yet) is accepted, since
    every delivery resolves and checks it again before connecting."""
    try:
        checked_target(url, allow_private=allow_private)
    except Unresolvable:
        pass
    except UnsafeUrl as error:
        raise ApplicationError(f"invalid webhook URL: {error}", "InvalidWebhookUrl") from None
    return url


def check_event_types(event_types: list[str] | None) -> list[str] | None:
    if event_types is None:
        return None
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ApplicationError(
            f"unknown event type(s): {', '.join(unknown)}; known types: {', '.join(EVENT_TYPES)}",
            "UnknownEventType",
        )
    if not event_types:
        raise ApplicationError(
            "eventTypes may not be empty (omit it to receive every type)", "UnknownEventType"
        )
    return sorted(set(event_types), key=EVENT_TYPES.index)


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise ApplicationError(
            f"the description is at most {MAX_DESCRIPTION_LENGTH} characters", "DescriptionTooLong"
        )
    return description


# --- endpoints ---------------------------------------------------------------------------------


def create_endpoint(
    session: Session,
    *,
    secret_key: str,
    investor_id: str,
    url: str,
    event_types: list[str] | None,
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the only time the secret is returned).

    The caller has checked ``url`` with ``check_url`` before opening the transaction (it resolves
    the host, which should not hold a write lock).
    """
    check_description(description)
    types = check_event_types(event_types)
    count = len(
        session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.investor_id == investor_id)).all()
    )
    if count >= MAX_ENDPOINTS_PER_INVESTOR:
        raise ApplicationError(
            f"an investor has at most {MAX_ENDPOINTS_PER_INVESTOR} webhook endpoints",
            "TooManyWebhookEndpoints",
        )
    secret = new_secret()
    now = utcnow()
    endpoint = WebhookEndpoint(
        investor_id=investor_id,
        url=url,
        description=description,
        event_types=types,
        secret_encrypted=encrypt_secret(secret_key, secret),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, secret


def list_endpoints(session: Session, investor_id: str) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.investor_id == investor_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def get_endpoint(session: Session, investor_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.investor_id != investor_id:
        raise NotFoundError("Webhook endpoint not found")
    return endpoint


_UNSET: list[str] = []


def update_endpoint(
    session: Session,
    *,
    investor_id: str,
    endpoint_id: str,
    url: str | None = None,
    event_types: list[str] | None = _UNSET,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (a ``url`` checked with ``check_url`` beforehand); ``event_types=None``
    subscribes to every type; re-enabling clears the reason."""
    endpoint = get_endpoint(session, investor_id, endpoint_id)
    if description is not None:
        endpoint.description = check_description(description)
    if event_types is not _UNSET:
        endpoint.event_types = check_event_types(event_types)
    if url is not None:
        endpoint.url = url
    if enabled is not None:
        endpoint.enabled = enabled
        endpoint.disabled_reason = None if enabled else "disabled by the investor"
    endpoint.updated_at = utcnow()
    session.flush()
    return endpoint


def delete_endpoint(session: Session, investor_id: str, endpoint_id: str) -> None:
    endpoint = get_endpoint(session, investor_id, endpoint_id)
    session.delete(endpoint)
    session.flush()


def rotate_secret(
    session: Session, *, secret_key: str, investor_id: str, endpoint_id: str
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the one it replaces keeps signing for ``ROTATION_OVERLAP``."""
    endpoint = get_endpoint(session, investor_id, endpoint_id)
    secret = new_secret()
    now = utcnow()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret_encrypted = encrypt_secret(secret_key, secret)
    endpoint.updated_at = now
    session.flush()
    return endpoint, secret


# --- deliveries ----------------------------------------------------------------------------------


def redeliver(
    session: Session,
    *,
    investor_id: str,
    endpoint_id: str,
    event_id: str | None = None,
    since: datetime | None = None,
) -> int:
    """Queue the event again (or every event of the investor since ``since`` the endpoint takes).

    A redelivery carries the event's id in ``webhook-id`` like the first one, so receivers that
    deduplicate on it see the same message.
    """
    endpoint = get_endpoint(session, investor_id, endpoint_id)
    if (event_id is None) == (since is None):
        raise ApplicationError("give either eventId or since", "InvalidRedelivery")
    if event_id is not None:
        event = session.get(Event, event_id)
        if event is None or event.investor_id != investor_id:
            raise NotFoundError("Event not found")
        chosen = [event]
    else:
        query = select(Event).where(Event.investor_id == investor_id, Event.created_at >= since)
        if endpoint.event_types is not None:
            query = query.where(Event.type.in_(endpoint.event_types))
        chosen = list(session.scalars(query.order_by(Event.sequence)))
    now = utcnow()
    for event in chosen:
        session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, next_attempt_at=now))
    session.flush()
    return len(chosen)


def list_deliveries(
    session: Session,
    *,
    investor_id: str,
    endpoint_id: str,
    cursor: Cursor | None,
    limit: int,
) -> tuple[list[tuple[WebhookDelivery, str, list[WebhookAttempt]]], Cursor | None]:
    """The endpoint's deliveries, newest first, each with its event type and attempts."""
    get_endpoint(session, investor_id, endpoint_id)
    query = (
        select(WebhookDelivery, Event.type)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
    )
    if cursor is not None:
        query = query.where(
            or_(
                WebhookDelivery.created_at < cursor.timestamp,
                and_(WebhookDelivery.created_at == cursor.timestamp, WebhookDelivery.id < cursor.item_id),
            )
        )
    rows: list[tuple[WebhookDelivery, str]] = [
        (row, type_)
        for row, type_ in session.execute(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit + 1)
        )
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    attempts: dict[str, list[WebhookAttempt]] = {row.id: [] for row, _ in rows}
    if attempts:
        for item in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
        ):
            attempts[item.delivery_id].append(item)
    last = Cursor(rows[-1][0].created_at, rows[-1][0].id, "desc") if more and rows else None
    return [(row, type_, attempts[row.id]) for row, type_ in rows], last
