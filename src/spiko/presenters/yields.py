"""Yields (reference tag "Yields"): the daily yields of an account in a share class."""

from __future__ import annotations

from typing import TypedDict

from spiko.db.models.funds import ShareClass
from spiko.errors import InvariantError
from spiko.presenters.formats import Money, money
from spiko.services.reporting.positions import AccountPosition

# The functional form: "yield" is a Python keyword.
DailyYieldBody = TypedDict(
    "DailyYieldBody",
    {
        "day": str,
        "shareClassId": str,
        "investorId": str,
        "accountId": str,
        "yield": Money,
        "navId": str,
        "navUpdateDate": str,
    },
)


def daily_yield(investor_id: str, share_class: ShareClass, entry: AccountPosition) -> DailyYieldBody:
    nav = entry.position.nav
    if nav is None or nav.nav_id is None:
        raise InvariantError(f"the yield of {entry.position.day} has no published NAV")
    return {
        "day": entry.position.day.isoformat(),
        "shareClassId": share_class.id,
        "investorId": investor_id,
        "accountId": entry.account_id,
        "yield": money(entry.position.yield_, share_class.currency),
        "navId": nav.nav_id,
        "navUpdateDate": nav.day.isoformat(),
    }
