"""Reference data and demo history for ``spiko serve --demo`` (filled in by the fund engine)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_demo_funds(session: Session, *, investor_id: str) -> None:
    return None
