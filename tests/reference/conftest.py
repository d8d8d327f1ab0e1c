"""Fixtures for reference data: seeded funds and share classes with a short NAV and FX history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from spiko.context import AppContext
from spiko.services import clock, seed

# A fixed sandbox day keeps every figure reproducible: Friday 2024-06-28, two months after launch.
SEEDED_TODAY = date(2024, 6, 28)


@dataclass
class Seeded:
    today: date
    share_class_ids: dict[str, str]
    fund_ids: dict[str, str]


@pytest.fixture
def reference_only(ctx: AppContext) -> Seeded:
    """Funds, share classes and calendars, no NAV."""
    with ctx.transaction() as session:
        clock.set_today(session, SEEDED_TODAY)
        share_classes = seed.seed_reference_data(session)
        return Seeded(
            SEEDED_TODAY,
            {symbol: sc.id for symbol, sc in share_classes.items()},
            {symbol: sc.fund_id for symbol, sc in share_classes.items()},
        )


@pytest.fixture
def seeded(ctx: AppContext, reference_only: Seeded) -> Seeded:
    """Reference data plus NAV and FX history up to ``SEEDED_TODAY``."""
    with ctx.transaction() as session:
        seed.seed_history(session, SEEDED_TODAY)
    return reference_only
