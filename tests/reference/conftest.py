"""Fixtures for reference data: the shared test world with funds and share classes, and a short NAV
and FX history."""

from __future__ import annotations

from datetime import date

import pytest

from spiko.context import AppContext
from tests.world import World, build_world

# A fixed sandbox day keeps every figure reproducible: Friday 2024-06-28, two months after launch.
SEEDED_TODAY = date(2024, 6, 28)


@pytest.fixture
def reference_only(ctx: AppContext) -> World:
    """Funds, share classes and calendars, no NAV."""
    return build_world(ctx, SEEDED_TODAY)


@pytest.fixture
def seeded(ctx: AppContext) -> World:
    """Reference data plus NAV and FX history up to ``SEEDED_TODAY``."""
    return build_world(ctx, SEEDED_TODAY, history=True)
