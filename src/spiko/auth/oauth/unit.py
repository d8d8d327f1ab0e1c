"""The unit of work an OAuth request runs in, reachable from Authlib's callbacks.

Authlib calls back into the server (``query_client``, ``save_token``, the grants' storage
methods) without passing a database session; the endpoint opens one transaction per request
and publishes it here, in a context variable local to the thread that serves the request.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class UnitOfWork:
    session: Session
    http: Any = None  # the HttpRequest being served
    revoked: bool = False  # something was revoked: verification caches must forget after commit
    clients: dict[str, Any] = field(default_factory=dict)  # looked up once per request
    ended_session: bool = False  # RP-initiated logout accepted: the route signs the browser out
    pushed_request: Any = None  # the pushed authorization request being served (RFC 9126)
    pushing: bool = False  # validating a request at the PAR endpoint
    dpop_jkt: str | None = None  # the DPoP key the tokens issued in this request are bound to
    # The token endpoint's client authentication, counted by its rate limits after the commit.
    authenticated_client_id: str | None = None
    client_authentication_failed: bool = False
    # The token endpoint takes clients from the server's one-second cache (``LiveClients``); one
    # so taken is confirmed against its row in this transaction before the request's outcome
    # stands (``AuthorizationServer.confirm_client``). By primary key, those not yet confirmed.
    client_cache: bool = False
    unconfirmed_clients: dict[str, Any] = field(default_factory=dict)


_current: ContextVar[UnitOfWork | None] = ContextVar("oauth_unit_of_work", default=None)


def current() -> UnitOfWork:
    unit = _current.get()
    if unit is None:
        raise RuntimeError("no OAuth unit of work is open")
    return unit


def db() -> Session:
    return current().session


def note_revocation() -> None:
    current().revoked = True


def bind(unit: UnitOfWork) -> Any:
    return _current.set(unit)


def unbind(token: Any) -> None:
    _current.reset(token)
