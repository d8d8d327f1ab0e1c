"""Reference services on a real database: NAV publishing and its refusals, growth, FX, calendars, clock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Context, Decimal

import pytest
from sqlalchemy import func, select

from spiko.context import AppContext
from spiko.db.models.funds import ExchangeRate, NetAssetValue
from spiko.errors import ApplicationError, ConflictError, NotFoundError
from spiko.services import clock, reference
from tests.world import World

MONDAY = date(2024, 7, 1)
SATURDAY = date(2024, 6, 29)


def _count_navs(ctx: AppContext, share_class_id: str) -> int:
    with ctx.transaction(write=False) as session:
        return session.scalar(
            select(func.count())
            .select_from(NetAssetValue)
            .where(NetAssetValue.share_class_id == share_class_id)
        )


def test_share_class_lookups(ctx: AppContext, reference_only: World) -> None:
    with ctx.transaction(write=False) as session:
        eutbl = reference.get_share_class_by_symbol(session, "EUTBL")
        assert reference.get_share_class(session, eutbl.id).symbol == "EUTBL"
        assert (eutbl.currency, eutbl.nav_decimals, eutbl.share_decimals) == ("EUR", 6, 5)
        assert [sc.symbol for sc in reference.list_share_classes(session)] == ["EUTBL", "UKTBL", "USTBL"]
        with pytest.raises(NotFoundError):
            reference.get_share_class(session, "00000000-0000-0000-0000-000000000000")
        with pytest.raises(NotFoundError):
            reference.get_share_class_by_symbol(session, "SAFO")


def test_publish_nav_and_read_it_back(ctx: AppContext, reference_only: World) -> None:
    eutbl = reference_only.share_classes["EUTBL"]
    with ctx.transaction() as session:
        published = reference.publish_nav(session, eutbl, MONDAY, Decimal("1.0123"))
        assert published.value == Decimal("1.012300")
    with ctx.transaction(write=False) as session:
        assert reference.nav_on(session, eutbl, MONDAY).value == Decimal("1.0123")
        assert reference.nav_on(session, eutbl, MONDAY + timedelta(days=1)) is None
        assert reference.latest_nav(session, eutbl).day == MONDAY
        assert reference.latest_nav(session, eutbl, MONDAY - timedelta(days=1)) is None
        assert reference.nav_display(reference.get_share_class(session, eutbl), published.value) == "1.012300"


def test_republishing_the_same_value_is_a_no_op(ctx: AppContext, reference_only: World) -> None:
    eutbl = reference_only.share_classes["EUTBL"]
    with ctx.transaction() as session:
        first = reference.publish_nav(session, eutbl, MONDAY, Decimal("1.01"))
    with ctx.transaction() as session:
        again = reference.publish_nav(session, eutbl, MONDAY, Decimal("1.010000"))
    assert again.id == first.id
    assert _count_navs(ctx, eutbl) == 1


@pytest.mark.parametrize(
    ("day", "value", "error", "code"),
    [
        (SATURDAY, "1.01", ApplicationError, "NonBusinessDay"),
        (date(2024, 12, 25), "1.01", ApplicationError, "NonBusinessDay"),
        (MONDAY, "0", ApplicationError, "InvalidNetAssetValue"),
        (MONDAY, "-1.01", ApplicationError, "InvalidNetAssetValue"),
        (MONDAY, "1.0100001", ApplicationError, "InvalidNetAssetValue"),
    ],
)
def test_nav_refusals_write_nothing(
    ctx: AppContext, reference_only: World, day: date, value: str, error: type, code: str
) -> None:
    eutbl = reference_only.share_classes["EUTBL"]
    with pytest.raises(error) as raised, ctx.transaction() as session:
        reference.publish_nav(session, eutbl, day, Decimal(value))
    assert raised.value.fields.get("customErrorCode") == code
    assert _count_navs(ctx, eutbl) == 0


def test_a_published_nav_cannot_be_changed(ctx: AppContext, reference_only: World) -> None:
    eutbl = reference_only.share_classes["EUTBL"]
    with ctx.transaction() as session:
        reference.publish_nav(session, eutbl, MONDAY, Decimal("1.01"))
    with pytest.raises(ConflictError, match="already published as 1.010000"), ctx.transaction() as session:
        reference.publish_nav(session, eutbl, MONDAY, Decimal("1.02"))
    with ctx.transaction(write=False) as session:
        assert reference.nav_on(session, eutbl, MONDAY).value == Decimal("1.01")


def test_unknown_share_class_is_not_found(ctx: AppContext, reference_only: World) -> None:
    with pytest.raises(NotFoundError), ctx.transaction() as session:
        reference.publish_nav(session, "00000000-0000-0000-0000-000000000000", MONDAY, Decimal("1"))


def test_growth_navs_follow_the_rule_and_skip_what_cannot_grow(ctx: AppContext, seeded: World) -> None:
    eutbl, ustbl, uktbl = (seeded.share_classes[s] for s in ("EUTBL", "USTBL", "UKTBL"))
    seeded_today = seeded.today
    seeded.set_today(date(2024, 7, 5))  # the days grown below have come
    with ctx.transaction() as session:
        friday = reference.latest_nav(session, eutbl)
        assert friday.day == seeded_today
        published = reference.publish_growth_navs(session, MONDAY, Decimal("0.035"))
        # UKTBL has no NAV yet (launches in 2025): nothing to grow from.
        assert sorted(n.share_class_id for n in published) == sorted([eutbl, ustbl])
        monday = reference.nav_on(session, eutbl, MONDAY)
        expected = (friday.value * Decimal("1.035") ** (Decimal(3) / Decimal(365))).quantize(
            Decimal("0.000001")
        )
        assert monday.value == expected
        assert reference.nav_on(session, uktbl, MONDAY) is None
        # Already published: a second run publishes nothing; a weekend publishes nothing.
        assert reference.publish_growth_navs(session, MONDAY, Decimal("0.035")) == []
        assert reference.publish_growth_navs(session, date(2024, 7, 6), Decimal("0.035")) == []


def test_growth_respects_each_funds_holidays(ctx: AppContext, seeded: World) -> None:
    independence_day = date(2024, 7, 4)  # a USTBL holiday, a business day for EUTBL
    seeded.set_today(date(2024, 7, 5))
    with ctx.transaction() as session:
        for day in (MONDAY, date(2024, 7, 2), date(2024, 7, 3)):
            reference.publish_growth_navs(session, day, Decimal("0.03"))
        published = reference.publish_growth_navs(session, independence_day, Decimal("0.03"))
        assert [reference.get_share_class(session, n.share_class_id).symbol for n in published] == ["EUTBL"]


def test_calendar_services(ctx: AppContext, reference_only: World) -> None:
    fund = reference_only.fund_ids["EUTBL"]
    with ctx.transaction() as session:
        assert reference.is_business_day(session, fund, MONDAY)
        assert not reference.is_business_day(session, fund, SATURDAY)
        assert not reference.is_business_day(session, fund, date(2024, 12, 25))
        assert reference.next_business_day(session, fund, date(2024, 12, 24)) == date(2024, 12, 27)
        assert reference.previous_business_day(session, fund, date(2024, 12, 27)) == date(2024, 12, 24)
        reference.add_non_operating_day(session, fund, MONDAY, "Closure")
        assert not reference.is_business_day(session, fund, MONDAY)
        assert reference.next_business_day(session, fund, SATURDAY) == date(2024, 7, 2)
        with pytest.raises(ApplicationError):
            reference.add_non_operating_day(session, fund, SATURDAY)
        assert reference.remove_non_operating_day(session, fund, MONDAY)
        assert not reference.remove_non_operating_day(session, fund, MONDAY)
        assert reference.is_business_day(session, fund, MONDAY)


def test_a_day_with_a_nav_cannot_become_a_holiday(ctx: AppContext, reference_only: World) -> None:
    with ctx.transaction() as session:
        reference.publish_nav(session, reference_only.share_classes["EUTBL"], MONDAY, Decimal("1"))
    with pytest.raises(ConflictError), ctx.transaction() as session:
        reference.add_non_operating_day(session, reference_only.fund_ids["EUTBL"], MONDAY)


def test_fx_rates(ctx: AppContext, reference_only: World) -> None:
    fund = reference_only.fund_ids["EUTBL"]
    with ctx.transaction() as session:
        first = reference.publish_fx_rate(
            session, base="EUR", quote="USD", day=date(2024, 6, 27), rate=Decimal("1.0712"), fund_id=fund
        )
        reference.publish_fx_rate(
            session, base="EUR", quote="USD", day=date(2024, 6, 28), rate=Decimal("1.0705"), fund_id=fund
        )
        again = reference.publish_fx_rate(
            session, base="EUR", quote="USD", day=date(2024, 6, 27), rate=Decimal("1.07120"), fund_id=fund
        )
        assert again.id == first.id
        market = reference.publish_fx_rate(
            session, base="EUR", quote="GBP", day=date(2024, 6, 28), rate=Decimal("0.8461")
        )
        assert market.fund_id is None
    with ctx.transaction(write=False) as session:
        assert reference.fx_rate(session, "EUR", "USD", date(2024, 6, 27)).rate == Decimal("1.0712")
        assert reference.fx_rate(session, "EUR", "USD", SATURDAY).rate == Decimal("1.0705")
        assert reference.fx_rate(session, "EUR", "USD", date(2024, 6, 26)) is None
        assert reference.fx_rate(session, "EUR", "USD", fund_id=fund).day == date(2024, 6, 28)
        assert reference.fx_rate(session, "EUR", "GBP", fund_id=fund) is None
        assert reference.fx_rate(session, "EUR", "GBP").rate == Decimal("0.8461")
        assert reference.exchange_rate_value(session, "EUR", "EUR") == Decimal(1)
        assert reference.exchange_rate_value(session, "EUR", "USD") == Decimal("1.0705")
        inverse = reference.exchange_rate_value(session, "USD", "EUR")
        assert abs(inverse * Decimal("1.0705") - 1) < Decimal("1e-30")
        # No USD/GBP rate is published: it is crossed through EUR, and dates from its older leg.
        cross = reference.fx_quote(session, "USD", "GBP", date(2024, 6, 28))
        assert cross is not None and cross.day == date(2024, 6, 28)
        assert cross.rate == Context(prec=34).divide(Decimal("0.8461"), Decimal("1.0705"))
        assert cross.legs == ("EUR/USD", "EUR/GBP")
        assert reference.fx_quote(session, "USD", "GBP", date(2024, 6, 27)) is None  # no EUR/GBP yet
        assert reference.get_exchange_rate(session, first.id).rate == Decimal("1.0712")
        assert reference.rate_display(Decimal("1.071200000000")) == "1.0712"


@pytest.mark.parametrize(
    ("base", "quote", "rate"),
    [
        ("EUR", "EUR", "1"),
        ("EUR", "XXX", "1.1"),
        ("EUR", "USD", "0"),
        ("EUR", "USD", "-1.1"),
        ("EUR", "USD", "1.1234567890123"),
    ],
)
def test_fx_refusals(ctx: AppContext, reference_only: World, base: str, quote: str, rate: str) -> None:
    with pytest.raises(ApplicationError), ctx.transaction() as session:
        reference.publish_fx_rate(session, base=base, quote=quote, day=MONDAY, rate=Decimal(rate))
    with ctx.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(ExchangeRate)) == 0


def test_conflicting_fx_rate_is_refused(ctx: AppContext, reference_only: World) -> None:
    for fund_id in (None, reference_only.fund_ids["USTBL"]):
        with ctx.transaction() as session:
            reference.publish_fx_rate(
                session, base="EUR", quote="USD", day=MONDAY, rate=Decimal("1.07"), fund_id=fund_id
            )
        with pytest.raises(ConflictError), ctx.transaction() as session:
            reference.publish_fx_rate(
                session, base="EUR", quote="USD", day=MONDAY, rate=Decimal("1.08"), fund_id=fund_id
            )


def test_sandbox_clock(ctx: AppContext) -> None:
    with ctx.transaction(write=False) as session:
        assert clock.sandbox_day(session) is None
        assert clock.today(session) == clock.real_today()
    with ctx.transaction() as session:
        assert clock.set_today(session, date(2025, 3, 14)) == date(2025, 3, 14)
    with ctx.transaction(write=False) as session:
        assert clock.today(session) == date(2025, 3, 14)
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 3, 17))
    with ctx.transaction() as session:
        assert clock.today(session) == date(2025, 3, 17)
        clock.set_today(session, None)
    with ctx.transaction(write=False) as session:
        assert clock.today(session) == clock.real_today()
