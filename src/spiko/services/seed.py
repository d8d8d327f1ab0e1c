"""Reference data every installation needs, and the demo history ``spiko serve --demo`` shows.

:func:`seed_reference_data` creates the funds, their share classes and their calendars (idempotent:
it only adds what is missing). :func:`seed_demo_funds` adds a NAV history from each share class's
launch up to the current day (sandbox clock), growing at a rate schedule close to the public
record (EUTBL: 1.000000 on 2024-04-30, about 1.0236 at the end of 2024), and daily exchange rates.
Running it again later only fills the days that are missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from spiko.db.models.funds import ExchangeRate, Fund, NetAssetValue, NonOperatingDay, ShareClass
from spiko.db.types import new_id, utcnow
from spiko.domain import calendar
from spiko.domain import nav as nav_rules
from spiko.domain.money import quantum
from spiko.services import clock, reference

DEMO_ACTIVITY_MODULE = "spiko.services.demo_activity"


@dataclass(frozen=True)
class FundSeed:
    slug: str
    name: str
    timezone: str
    launch_day: date
    holiday_sets: tuple[str, ...]
    # The demo has a fund of each method: forward pricing (unknownNAVs) for the UK fund.
    execution_method: str = "knownNAVs"
    cut_off: str = "16:00"


@dataclass(frozen=True)
class ShareClassSeed:
    symbol: str
    fund_slug: str
    isin: str
    currency: str
    minimum_initial: Decimal
    minimum_subsequent: Decimal
    minimum_withdrawal: Decimal
    management_fees: Decimal
    bank_account_number: str
    bank_account_bic: str
    bank_account_intermediary_bic: str | None
    names: dict[str, str]
    reference_index: dict[str, str]
    # (from day, annual rate): the growth of the demo NAV history, piecewise constant.
    rate_schedule: tuple[tuple[date, Decimal], ...] = field(default=())


FUNDS: tuple[FundSeed, ...] = (
    FundSeed("EUTBL", "Spiko EU T-Bills Money Market Fund", "Europe/Paris", date(2024, 4, 30), ("target",)),
    FundSeed(
        "USTBL", "Spiko US T-Bills Money Market Fund", "Europe/Paris", date(2024, 4, 30), ("target", "us")
    ),
    FundSeed(
        "UKTBL",
        "Spiko UK T-Bills Money Market Fund",
        "Europe/London",
        date(2025, 1, 6),
        ("uk",),
        execution_method="unknownNAVs",
        cut_off="14:00",
    ),
)

_AMF = {
    "en": "Short-term variable net asset value money market fund",
    "fr": "Fonds monétaire à valeur liquidative variable court terme",
    "es": "Fondo del mercado monetario a corto plazo de valor liquidativo variable",
    "it": "Fondo comune monetario a breve termine a valore patrimoniale netto variabile",
    "de": "Kurzfristiger Geldmarktfonds mit variablem Nettoinventarwert",
}
LOCALES = ("en", "es", "fr", "it", "de")

SHARE_CLASSES: tuple[ShareClassSeed, ...] = (
    ShareClassSeed(
        symbol="EUTBL",
        fund_slug="EUTBL",
        isin="FR001400OHF4",
        currency="EUR",
        minimum_initial=Decimal("1000.00"),
        minimum_subsequent=Decimal("100.00"),
        minimum_withdrawal=Decimal("100.00"),
        management_fees=Decimal("0.0025"),
        bank_account_number="FR7630004000031234567890143",
        bank_account_bic="BNPAFRPPXXX",
        bank_account_intermediary_bic=None,
        names={
            "en": "Spiko EU T-Bills Money Market Fund - EUR share class",
            "fr": "Spiko EU T-Bills Money Market Fund - part EUR",
            "es": "Spiko EU T-Bills Money Market Fund - clase EUR",
            "it": "Spiko EU T-Bills Money Market Fund - classe EUR",
            "de": "Spiko EU T-Bills Money Market Fund - Anteilsklasse EUR",
        },
        reference_index={locale: "€STR" for locale in LOCALES},
        rate_schedule=(
            (date(2024, 1, 1), Decimal("0.0350")),
            (date(2025, 1, 1), Decimal("0.0245")),
            (date(2025, 7, 1), Decimal("0.0195")),
        ),
    ),
    ShareClassSeed(
        symbol="USTBL",
        fund_slug="USTBL",
        isin="FR001400PLF3",
        currency="USD",
        minimum_initial=Decimal("1000.00"),
        minimum_subsequent=Decimal("100.00"),
        minimum_withdrawal=Decimal("100.00"),
        management_fees=Decimal("0.0025"),
        bank_account_number="FR5430004000031234567890151",
        bank_account_bic="BNPAFRPPXXX",
        bank_account_intermediary_bic="BNPAUS3NXXX",
        names={
            "en": "Spiko US T-Bills Money Market Fund - USD share class",
            "fr": "Spiko US T-Bills Money Market Fund - part USD",
            "es": "Spiko US T-Bills Money Market Fund - clase USD",
            "it": "Spiko US T-Bills Money Market Fund - classe USD",
            "de": "Spiko US T-Bills Money Market Fund - Anteilsklasse USD",
        },
        reference_index={locale: "SOFR" for locale in LOCALES},
        rate_schedule=(
            (date(2024, 1, 1), Decimal("0.0510")),
            (date(2025, 1, 1), Decimal("0.0420")),
            (date(2025, 10, 1), Decimal("0.0390")),
        ),
    ),
    ShareClassSeed(
        symbol="UKTBL",
        fund_slug="UKTBL",
        isin="FR001400VBM8",
        currency="GBP",
        minimum_initial=Decimal("1000.00"),
        minimum_subsequent=Decimal("100.00"),
        minimum_withdrawal=Decimal("100.00"),
        management_fees=Decimal("0.0025"),
        bank_account_number="FR0530004000031234567890160",
        bank_account_bic="BNPAFRPPXXX",
        bank_account_intermediary_bic="BNPAGB22XXX",
        names={
            "en": "Spiko UK T-Bills Money Market Fund - GBP share class",
            "fr": "Spiko UK T-Bills Money Market Fund - part GBP",
            "es": "Spiko UK T-Bills Money Market Fund - clase GBP",
            "it": "Spiko UK T-Bills Money Market Fund - classe GBP",
            "de": "Spiko UK T-Bills Money Market Fund - Anteilsklasse GBP",
        },
        reference_index={locale: "SONIA" for locale in LOCALES},
        rate_schedule=(
            (date(2024, 1, 1), Decimal("0.0470")),
            (date(2025, 5, 8), Decimal("0.0425")),
            (date(2025, 8, 7), Decimal("0.0400")),
        ),
    ),
)

NAV_DECIMALS = 6
SHARE_DECIMALS = 5
INITIAL_NAV = Decimal("1.000000")

# Demo exchange rates: a deterministic walk around these levels (1 base = rate quote). Only rates
# from the one base currency are published; every other pair is crossed through it
# (``reference.fx_quote``), so the rates in force always agree with each other.
FX_PAIRS: tuple[tuple[str, str, Decimal, int], ...] = (
    ("EUR", "USD", Decimal("1.0800"), 5),
    ("EUR", "GBP", Decimal("0.8500"), 5),
)
FX_HISTORY_START = date(2024, 4, 30)


# --- holidays ------------------------------------------------------------------------------------


# --- reference data ------------------------------------------------------------------------------


def _share_class_data(seed: ShareClassSeed) -> dict[str, Any]:
    return {
        locale: {
            "name": seed.names[locale],
            "amfClassification": _AMF[locale],
            "referenceIndex": seed.reference_index[locale],
        }
        for locale in LOCALES
    }


def list_official_holidays(session: Session, fund: Fund, holiday_sets: Iterable[str], last_year: int) -> int:
    """List the fund's official closing days from its launch year to ``last_year`` that are not
    listed yet; returns how many were added. Days the operator added stay; a day that already has
    a NAV stays a business day (history is never rewritten)."""
    listed = set(session.scalars(select(NonOperatingDay.day).where(NonOperatingDay.fund_id == fund.id)))
    published = set(
        session.scalars(
            select(NetAssetValue.day)
            .join(ShareClass, ShareClass.id == NetAssetValue.share_class_id)
            .where(ShareClass.fund_id == fund.id)
        )
    )
    wanted: dict[date, str] = {}
    for holiday_set in holiday_sets:
        for day, label in calendar.official_holidays(
            holiday_set, range(fund.launch_day.year, last_year + 1)
        ).items():
            wanted.setdefault(day, label)
    added = 0
    for day, label in sorted(wanted.items()):
        if day not in listed and day not in published:
            session.add(NonOperatingDay(fund_id=fund.id, day=day, label=label[:100]))
            added += 1
    session.flush()
    return added


def extend_official_holidays(session: Session, last_year: int) -> int:
    """List the official closing days up to ``last_year`` for every fund of this installation
    that follows a known calendar (the sandbox calls it as its clock enters a new year)."""
    sets = {fund_seed.slug: fund_seed.holiday_sets for fund_seed in FUNDS}
    return sum(
        list_official_holidays(session, fund, sets[fund.slug], last_year)
        for fund in session.scalars(select(Fund).order_by(Fund.slug))
        if fund.slug in sets
    )


def seed_reference_data(session: Session, *, until_year: int | None = None) -> dict[str, ShareClass]:
    """Create the missing funds, share classes and holiday calendars; returns share classes by symbol.

    Holidays are listed from each fund's launch year to ``until_year`` (default: next year of
    the current day). Safe to run any number of times.
    """
    last_year = until_year if until_year is not None else clock.today(session).year + 1
    funds = {fund.slug: fund for fund in session.scalars(select(Fund))}
    for fund_seed in FUNDS:
        fund = funds.get(fund_seed.slug)
        if fund is None:
            fund = Fund(
                slug=fund_seed.slug,
                name=fund_seed.name,
                timezone=fund_seed.timezone,
                execution_method=fund_seed.execution_method,
                cut_off=fund_seed.cut_off,
                launch_day=fund_seed.launch_day,
            )
            session.add(fund)
            session.flush()
            funds[fund.slug] = fund
        list_official_holidays(session, fund, fund_seed.holiday_sets, last_year)
    session.flush()

    share_classes = {sc.symbol: sc for sc in session.scalars(select(ShareClass))}
    for seed in SHARE_CLASSES:
        if seed.symbol in share_classes:
            continue
        share_class = ShareClass(
            fund_id=funds[seed.fund_slug].id,
            symbol=seed.symbol,
            isin=seed.isin,
            currency=seed.currency,
            nav_decimals=NAV_DECIMALS,
            share_decimals=SHARE_DECIMALS,
            use_of_income="accumulating",
            minimum_initial_deposit=seed.minimum_initial,
            minimum_subsequent_deposit=seed.minimum_subsequent,
            minimum_withdrawal=seed.minimum_withdrawal,
            subscription_fees=Decimal("0"),
            redemption_fees=Decimal("0"),
            management_fees=seed.management_fees,
            data=_share_class_data(seed),
            tokens=[],
            bank_account_number=seed.bank_account_number,
            bank_account_bic=seed.bank_account_bic,
            bank_account_intermediary_bic=seed.bank_account_intermediary_bic,
        )
        session.add(share_class)
        share_classes[seed.symbol] = share_class
    session.flush()
    return share_classes


# --- demo history --------------------------------------------------------------------------------


def _rate_on(schedule: Iterable[tuple[date, Decimal]], day: date) -> Decimal:
    rate = Decimal("0.03")
    for start, value in schedule:
        if start <= day:
            rate = value
    return rate


def seed_nav_history(session: Session, share_class: ShareClass, until: date, schedule: Any = ()) -> int:
    """Publish the growth NAVs of every business day from the last published NAV (or the fund's
    launch, at 1.000000) up to ``until``; returns how many were added."""
    fund = reference.get_fund(session, share_class.fund_id)
    holidays = frozenset(
        session.scalars(select(NonOperatingDay.day).where(NonOperatingDay.fund_id == fund.id))
    )
    last = session.scalar(
        select(NetAssetValue)
        .where(NetAssetValue.share_class_id == share_class.id)
        .order_by(NetAssetValue.day.desc())
        .limit(1)
    )
    rows: list[dict[str, Any]] = []
    now = utcnow()
    if last is None:
        first = calendar.on_or_after(fund.launch_day, holidays)
        if first > until:
            return 0
        previous_day, previous_value = (
            first,
            INITIAL_NAV.quantize(quantum(share_class.nav_decimals)),
        )
        rows.append(_nav_row(share_class.id, previous_day, previous_value, now))
    else:
        previous_day, previous_value = last.day, last.value
    for day in calendar.business_days(previous_day + timedelta(days=1), until, holidays):
        rate = _rate_on(schedule, day)
        previous_value = nav_rules.grow_nav(
            previous_value, rate, (day - previous_day).days, share_class.nav_decimals
        )
        previous_day = day
        rows.append(_nav_row(share_class.id, day, previous_value, now))
    if rows:
        session.execute(insert(NetAssetValue), rows)
    return len(rows)


def _nav_row(share_class_id: str, day: date, value: Decimal, now: Any) -> dict[str, Any]:
    return {"id": new_id(), "share_class_id": share_class_id, "day": day, "value": value, "created_at": now}


def seed_fx_history(session: Session, until: date, start: date = FX_HISTORY_START) -> int:
    """Daily (weekday) demo rates for every fund and pair, continuing after the last published day."""
    added = 0
    now = utcnow()
    for fund in session.scalars(select(Fund).order_by(Fund.slug)):
        for base, quote, level, decimals in FX_PAIRS:
            last_day = session.scalar(
                select(ExchangeRate.day)
                .where(
                    ExchangeRate.fund_id == fund.id,
                    ExchangeRate.base_currency == base,
                    ExchangeRate.quote_currency == quote,
                )
                .order_by(ExchangeRate.day.desc())
                .limit(1)
            )
            first = max(start, fund.launch_day) if last_day is None else last_day + timedelta(days=1)
            rows = [
                {
                    "id": new_id(),
                    "fund_id": fund.id,
                    "day": day,
                    "base_currency": base,
                    "quote_currency": quote,
                    "rate": demo_fx_rate(base, quote, level, decimals, day),
                    "kind": "indicative",
                    "created_at": now,
                }
                for day in calendar.business_days(first, until)
            ]
            if rows:
                session.execute(insert(ExchangeRate), rows)
                added += len(rows)
    return added


def publish_demo_rates(session: Session, day: date) -> int:
    """The sandbox's rates of one business day: every fund's demo pairs not yet published for it."""
    if calendar.is_weekend(day):
        return 0
    added = 0
    for fund in session.scalars(select(Fund).order_by(Fund.slug)):
        for base, quote, level, decimals in FX_PAIRS:
            exists = session.scalar(
                select(ExchangeRate.id).where(
                    ExchangeRate.fund_id == fund.id,
                    ExchangeRate.day == day,
                    ExchangeRate.base_currency == base,
                    ExchangeRate.quote_currency == quote,
                )
            )
            if exists is None:
                session.add(
                    ExchangeRate(
                        fund_id=fund.id,
                        day=day,
                        base_currency=base,
                        quote_currency=quote,
                        rate=demo_fx_rate(base, quote, level, decimals, day),
                        kind="indicative",
                    )
                )
                added += 1
    session.flush()
    return added


def demo_fx_rate(base: str, quote: str, level: Decimal, decimals: int, day: date) -> Decimal:
    """A deterministic demo rate: the level moved by a slow wave (±3 %) plus a small daily jitter.

    Floats only shape demo data here; the published rate is a Decimal rounded half-even.
    """
    elapsed = (day - FX_HISTORY_START).days
    phase = sum(map(ord, base + quote)) % 360
    wave = 0.03 * math.sin(2 * math.pi * (elapsed + phase) / 400)
    jitter = random.Random(f"{base}{quote}{day.isoformat()}").uniform(-0.002, 0.002)  # noqa: S311
    moved = level * (Decimal(1) + Decimal(f"{wave + jitter:.6f}"))
    return moved.quantize(quantum(decimals), rounding=ROUND_HALF_EVEN)


def seed_history(session: Session, until: date) -> tuple[int, int]:
    """Reference data, then NAV and FX history up to ``until``; returns (NAVs added, rates added)."""
    share_classes = seed_reference_data(session)
    schedules = {seed.symbol: seed.rate_schedule for seed in SHARE_CLASSES}
    navs = sum(
        seed_nav_history(session, share_class, until, schedules.get(symbol, ()))
        for symbol, share_class in sorted(share_classes.items())
    )
    rates = seed_fx_history(session, until)
    session.flush()
    return navs, rates


def seed_demo_funds(session: Session, *, investor_id: str) -> None:
    """Reference data, NAV and FX history up to today, then the demo investor's activity when the
    orders area provides it (``spiko.services.demo_activity.seed_demo_activity``)."""
    seed_history(session, clock.today(session))
    if importlib.util.find_spec(DEMO_ACTIVITY_MODULE) is not None:
        module = importlib.import_module(DEMO_ACTIVITY_MODULE)
        module.seed_demo_activity(session, investor_id=investor_id)
