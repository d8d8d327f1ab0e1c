"""The sandbox clock moving forward: a whole fund cycle in seconds.

Each step goes to the next business day (of any fund), publishes that day's NAVs grown at the
configured annual rate from the previous ones and that day's exchange rates, lets every pending
unfunded deposit arrive in full (the sandbox's bank pays everything), executes what is
executable at the new NAVs, and sets the clock to that day. Near the end of a year it lists the
official closing days of the years ahead.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from spiko.domain import calendar
from spiko.services import clock, deposits, execution, idempotency, reference, seed


def next_business_day(session: Session, day: date) -> date:
    """The first day after ``day`` that is a business day of at least one fund."""
    funds = reference.list_funds(session)
    if not funds:
        return calendar.next_business_day(day)
    return min(reference.next_business_day(session, fund.id, day) for fund in funds)


def advance_one_day(session: Session, annual_rate: Decimal) -> dict[str, Any]:
    today = clock.today(session)
    if today.year != (today + timedelta(days=7)).year:
        seed.extend_official_holidays(session, today.year + 2)
    day = next_business_day(session, today)
    navs = reference.publish_growth_navs(session, day, annual_rate)
    rates = seed.publish_demo_rates(session, day)
    share_classes = {sc.id: sc for sc in reference.list_share_classes(session)}
    funded = deposits.fund_all_pending(session, day)
    clock.set_today(session, day)
    summary = execution.execute_orders(session, day)
    idempotency.purge_expired(session)
    return {
        "day": day.isoformat(),
        "navsPublished": [
            {
                "shareClass": share_classes[row.share_class_id].symbol,
                "value": reference.nav_display(share_classes[row.share_class_id], row.value),
            }
            for row in navs
        ],
        "ratesPublished": rates,
        "depositsFunded": [order.wire_reference for order in funded],
        "execution": summary.as_json(),
    }


def summarize(days: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "today": days[-1]["day"] if days else None,
        "days": len(days),
        "navsPublished": sum(len(day["navsPublished"]) for day in days),
        "depositsFunded": sum(len(day["depositsFunded"]) for day in days),
        "ordersExecuted": sum(
            day["execution"]["depositsExecuted"] + day["execution"]["withdrawalsExecuted"] for day in days
        ),
        "steps": days,
    }
