"""Two operators publishing the same NAV or rate at once: one row, and the loser gets the rule's answer."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from spiko.context import AppContext
from spiko.db.models.funds import ExchangeRate, NetAssetValue
from spiko.errors import ConflictError
from spiko.services import reference
from tests.world import World

MONDAY = date(2024, 7, 1)


def _race(ctx: AppContext, first: Any, second: Any) -> tuple[Any, Any]:
    """Run ``first`` in a transaction that stays open while ``second`` runs in another one."""
    flushed, results = threading.Event(), {}

    def run_first() -> None:
        with ctx.transaction() as session:
            results["first"] = first(session)
            flushed.set()
            time.sleep(0.5)  # keep the row uncommitted while the second writer arrives

    def run_second() -> None:
        flushed.wait(10)
        try:
            with ctx.transaction() as session:
                results["second"] = second(session)
        except Exception as error:  # the assertion is on what was raised
            results["second"] = error

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results["first"], results["second"]


@pytest.mark.parametrize(("second_value", "conflict"), [("1.01", False), ("1.02", True)])
def test_concurrent_nav_publications(
    ctx: AppContext, reference_only: World, second_value: str, conflict: bool
) -> None:
    eutbl = reference_only.share_classes["EUTBL"]
    first, second = _race(
        ctx,
        lambda s: reference.publish_nav(s, eutbl, MONDAY, Decimal("1.01")).id,
        lambda s: reference.publish_nav(s, eutbl, MONDAY, Decimal(second_value)).id,
    )
    if conflict:
        assert isinstance(second, ConflictError)
    else:
        assert second == first
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(NetAssetValue)) == 1
        assert reference.nav_on(session, eutbl, MONDAY).value == Decimal("1.01")


def test_concurrent_fx_publications(ctx: AppContext, reference_only: World) -> None:
    fund = reference_only.fund_ids["EUTBL"]

    def publish(rate: str) -> Any:
        return lambda s: (
            reference.publish_fx_rate(
                s, base="EUR", quote="USD", day=MONDAY, rate=Decimal(rate), fund_id=fund
            ).id
        )

    first, second = _race(ctx, publish("1.07"), publish("1.08"))
    assert isinstance(second, ConflictError)
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(ExchangeRate)) == 1
