"""Receiving webhooks: check a message's Standard Webhooks signature and read its event.

Built on the ``standardwebhooks`` package. Pass the raw request body (bytes, exactly as
received), the request headers and the endpoint's secret (``whsec_…``)::

    from spiko.client import webhooks

    event = webhooks.verify(body, request.headers, secret)
    print(event.type, event.data["id"])

``WebhookVerificationError`` is raised when the signature does not match, a header is missing,
or the timestamp is more than five minutes away from now (a replayed message).
"""

from __future__ import annotations

from collections.abc import Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from spiko.client.models import Event

__all__ = ["WebhookVerificationError", "verify"]


def verify(payload: bytes | str, headers: Mapping[str, str], secret: str) -> Event:
    """The event of a verified message; raises ``WebhookVerificationError`` otherwise."""
    body = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    Webhook(secret).verify(body, dict(headers.items()), json_parse=False)
    return Event.model_validate_json(body)
