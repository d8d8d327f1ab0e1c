"""Rate-limit counters shared by every worker through the database (when there is no Redis)."""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from spiko.db.base import Base


class RateLimitWindow(Base):
    """One fixed window of one counter: the SHA-256 of its key (the key names what is counted: an
    account, an address, a client id), when the window began (epoch seconds, the clock every
    process shares) and its count."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started: Mapped[float] = mapped_column(Float, index=True)
    count: Mapped[int] = mapped_column(Integer)
