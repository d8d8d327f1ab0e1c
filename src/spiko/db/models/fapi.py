"""Tables of the FAPI 2.0 parts of the authorization server: pushed authorization requests
(RFC 9126) and the single-use identifiers of DPoP proofs and client assertions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base, uuid_pk
from spiko.db.types import UTCDateTime, utcnow


class OAuthPushedRequest(Base):
    """An authorization request a client pushed; the browser brings only its ``request_uri``."""

    __tablename__ = "oauth_pushed_requests"

    id: Mapped[str] = uuid_pk()
    request_uri_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[str] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    parameters: Mapped[str] = mapped_column(Text)  # JSON list of [name, value] pairs
    dpop_jkt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UsedJti(Base):
    """A ``jti`` already seen (a DPoP proof's, a client assertion's), kept until it would be stale
    anyway: the SHA-256 of its purpose, its issuer and the value, and when it may be forgotten."""

    __tablename__ = "oauth_used_jtis"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds


class ResourceProofJti(Base):
    """A DPoP proof already presented on /v1, kept while its ``iat`` is within the accepted window.

    Keyed by the proof's ``iat`` first and then the SHA-256 of its key's thumbprint, URL and
    ``jti`` (``replay_key``): the rows of one second sit together, so a batch of new proofs
    writes to the end of one index (one or two pages) instead of a random page per proof, and
    expired rows are one range at its start. A replayed proof carries the same signed ``iat``,
    so it finds its row. Without a rowid on SQLite: the primary key is the table.
    """

    __tablename__ = "oauth_resource_jtis"
    __table_args__ = {"sqlite_with_rowid": False}

    issued_at: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
