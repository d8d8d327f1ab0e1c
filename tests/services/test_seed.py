"""Seeding: idempotent, realistic identifiers, the public EUTBL path, a demo history up to today."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from spiko.context import AppContext
from spiko.db.models.funds import ExchangeRate, Fund, NetAssetValue, NonOperatingDay, ShareClass
from spiko.domain import calendar
from spiko.services import clock, reference, seed
from tests.conftest import create_investor


def _isin_is_valid(isin: str) -> bool:
    digits = "".join(str(int(char, 36)) for char in isin[:-1])
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return len(isin) == 12 and (10 - total % 10) % 10 == int(isin[-1])


def _iban_is_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _counts(ctx: AppContext) -> tuple[int, ...]:
    with ctx.transaction(write=False) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Fund, ShareClass, NonOperatingDay, NetAssetValue, ExchangeRate)
        )


def test_seed_reference_data_is_idempotent(ctx: AppContext) -> None:
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 6, 2))
        first = seed.seed_reference_data(session)
    before = _counts(ctx)
    with ctx.transaction() as session:
        second = seed.seed_reference_data(session)
    assert _counts(ctx) == before
    assert {s: sc.id for s, sc in first.items()} == {s: sc.id for s, sc in second.items()}
    assert before[:2] == (3, 3) and before[2] > 20 and before[3:] == (0, 0)


def test_seeded_share_classes_are_realistic(ctx: AppContext) -> None:
    with ctx.transaction() as session:
        share_classes = seed.seed_reference_data(session)
        assert {s: sc.currency for s, sc in share_classes.items()} == {
            "EUTBL": "EUR",
            "USTBL": "USD",
            "UKTBL": "GBP",
        }
        for share_class in share_classes.values():
            assert _isin_is_valid(share_class.isin), share_class.isin
            assert _iban_is_valid(share_class.bank_account_number)
            assert (share_class.nav_decimals, share_class.share_decimals) == (6, 5)
            assert share_class.minimum_initial_deposit >= share_class.minimum_subsequent_deposit > 0
            assert set(share_class.data) == {"en", "fr", "es", "it", "de"}
        assert share_classes["EUTBL"].isin == "FR001400OHF4"


def test_holidays_are_weekdays_and_match_the_calendars(ctx: AppContext) -> None:
    with ctx.transaction() as session:
        seed.seed_reference_data(session, until_year=2026)
        days = {
            fund.slug: {row.day for row in reference.list_non_operating_days(session, fund.id)}
            for fund in reference.list_funds(session)
        }
    assert all(not calendar.is_weekend(day) for listed in days.values() for day in listed)
    assert date(2025, 4, 18) in days["EUTBL"] and date(2025, 4, 21) in days["EUTBL"]
    assert date(2025, 7, 4) in days["USTBL"] and date(2025, 7, 4) not in days["EUTBL"]
    assert date(2025, 11, 27) in days["USTBL"]  # Thanksgiving
    assert date(2025, 5, 26) in days["UKTBL"] and date(2025, 8, 25) in days["UKTBL"]
    # Observed and substitute days of the official calendars.
    assert date(2026, 7, 3) in days["USTBL"]  # Independence Day falls on a Saturday
    assert date(2026, 12, 28) in days["UKTBL"]  # Boxing Day falls on a Saturday
    assert date(2026, 12, 28) not in days["EUTBL"]  # TARGET2 has no substitute days


def test_demo_history_reproduces_the_public_eutbl_path(ctx: AppContext) -> None:
    with ctx.transaction() as session:
        clock.set_today(session, date(2024, 12, 31))
        seed.seed_history(session, date(2024, 12, 31))
        eutbl = reference.get_share_class_by_symbol(session, "EUTBL")
        launch = reference.nav_on(session, eutbl.id, date(2024, 4, 30))
        assert launch is not None and launch.value == Decimal("1.000000")
        year_end = reference.latest_nav(session, eutbl.id, date(2024, 12, 31))
        assert year_end.day == date(2024, 12, 31)
        assert abs(year_end.value - Decimal("1.0236")) < Decimal("0.0005")
        # One NAV per business day and none on closed days.
        navs = reference.navs_between(session, eutbl.id, date(2024, 4, 30))
        holidays = reference.holidays(session, eutbl.fund_id)
        assert [n.day for n in navs] == list(
            calendar.business_days(date(2024, 4, 30), date(2024, 12, 31), holidays)
        )
        assert all(later.value >= earlier.value for earlier, later in zip(navs, navs[1:], strict=False))


def test_demo_funds_fill_up_to_today_and_only_the_gap_when_rerun(ctx: AppContext) -> None:
    investor = create_investor(ctx)
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 2, 14))
        seed.seed_demo_funds(session, investor_id=investor.investor_id)
        uktbl = reference.get_share_class_by_symbol(session, "UKTBL")
        assert reference.nav_on(session, uktbl.id, date(2025, 1, 6)).value == Decimal("1.000000")
        assert reference.latest_nav(session, uktbl.id).day == date(2025, 2, 14)
        assert reference.fx_rate(session, "EUR", "USD").day == date(2025, 2, 14)
    counts = _counts(ctx)
    with ctx.transaction() as session:
        seed.seed_demo_funds(session, investor_id=investor.investor_id)
    assert _counts(ctx) == counts
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 2, 19))
        seed.seed_demo_funds(session, investor_id=investor.investor_id)
    after = _counts(ctx)
    # Three new business days (Mon 17 to Wed 19) for three share classes, less USTBL's close on
    # Presidents' Day (Mon 17), and rates for each fund and pair.
    assert after[3] - counts[3] == 8
    assert after[4] - counts[4] == 3 * 3 * len(seed.FX_PAIRS)


def test_demo_fx_rates_are_deterministic_and_bounded() -> None:
    for base, quote, level, places in seed.FX_PAIRS:
        for offset in range(0, 800, 37):
            day = date(2024, 5, 1) + timedelta(days=offset)
            rate = seed.demo_fx_rate(base, quote, level, places, day)
            assert rate == seed.demo_fx_rate(base, quote, level, places, day)
            assert abs(rate / level - 1) < Decimal("0.033")
            assert rate.as_tuple().exponent == -places


def test_demo_funds_hand_over_to_the_demo_activity_hook(ctx: AppContext, monkeypatch: Any) -> None:
    import importlib.machinery
    import sys
    import types

    calls: list[tuple[Any, str]] = []
    module = types.ModuleType(seed.DEMO_ACTIVITY_MODULE)
    module.__spec__ = importlib.machinery.ModuleSpec(seed.DEMO_ACTIVITY_MODULE, None)
    module.seed_demo_activity = lambda session, *, investor_id: calls.append((session, investor_id))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, seed.DEMO_ACTIVITY_MODULE, module)
    investor = create_investor(ctx)
    with ctx.transaction() as session:
        clock.set_today(session, date(2024, 5, 31))
        seed.seed_demo_funds(session, investor_id=investor.investor_id)
        # The hook runs after the history, in the same transaction.
        assert calls == [(session, investor.investor_id)]
        assert (
            reference.latest_nav(session, reference.get_share_class_by_symbol(session, "EUTBL").id)
            is not None
        )
