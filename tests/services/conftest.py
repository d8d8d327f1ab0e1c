"""Fixtures for the service tests: the reference data of the shared test world."""

from __future__ import annotations

from datetime import date

import pytest

from spiko.context import AppContext
from tests.reference.conftest import SEEDED_TODAY, seeded  # noqa: F401 - fixtures, shared with the public API's tests
from tests.world import World, build_world


@pytest.fixture
def reference_only(ctx: AppContext) -> World:
    """Funds, share classes and calendars, no NAV, with the clock on the Friday of the week after
    ``SEEDED_TODAY``: the NAVs these tests publish that week are for days that have come."""
    world = build_world(ctx, SEEDED_TODAY)
    world.set_today(date(2024, 7, 5))
    return world
