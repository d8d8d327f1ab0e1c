"""Reference data use cases: funds, share classes, business-day calendars, NAVs and exchange rates.

Every function takes a SQLAlchemy ``Session``; the caller owns the transaction (``ctx.transaction()``).
The rules themselves live in :mod:`spiko.domain.calendar` and :mod:`spiko.domain.nav`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Context, Decimal

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spiko.db.models.funds import ExchangeRate, Fund, NetAssetValue, NonOperatingDay, ShareClass
from spiko.domain import calendar
from spiko.domain import nav as nav_rules
from spiko.domain.money import CURRENCIES, quantum
from spiko.errors import ApplicationError, ConflictError, InvariantError, NotFoundError

EXCHANGE_RATE_KINDS = ("indicative", "execution")


# --- funds and share classes -------------------------------------------------------------------


def list_funds(session: Session) -> list[Fund]:
    return list(session.scalars(select(Fund).order_by(Fund.launch_day, Fund.slug)))


def get_fund(session: Session, fund_id: str) -> Fund:
    fund = session.get(Fund, fund_id)
    if fund is None:
        raise NotFoundError("Fund not found")
    return fund


def get_fund_by_slug(session: Session, slug: str) -> Fund:
    fund = session.scalar(select(Fund).where(Fund.slug == slug))
    if fund is None:
        raise NotFoundError(f"Fund {slug} not found")
    return fund


def list_share_classes(session: Session) -> list[ShareClass]:
    return list(session.scalars(select(ShareClass).order_by(ShareClass.symbol)))


def get_share_class(session: Session, share_class_id: str) -> ShareClass:
    share_class = session.get(ShareClass, share_class_id)
    if share_class is None:
        raise NotFoundError("Share class not found")
    return share_class


def get_share_class_by_symbol(session: Session, symbol: str) -> ShareClass:
    share_class = session.scalar(select(ShareClass).where(ShareClass.symbol == symbol))
    if share_class is None:
        raise NotFoundError(f"Share class {symbol} not found")
    return share_class


# --- calendars -----------------------------------------------------------------------------------


def holidays(session: Session, fund_id: str) -> frozenset[date]:
    """The fund's listed non-operating days (weekends are implied, not listed)."""
    return frozenset(session.scalars(select(NonOperatingDay.day).where(NonOperatingDay.fund_id == fund_id)))


def list_non_operating_days(session: Session, fund_id: str) -> list[NonOperatingDay]:
    return list(
        session.scalars(
            select(NonOperatingDay).where(NonOperatingDay.fund_id == fund_id).order_by(NonOperatingDay.day)
        )
    )


def is_business_day(session: Session, fund_id: str, day: date) -> bool:
    return calendar.is_business_day(day, holidays(session, fund_id))


def next_business_day(session: Session, fund_id: str, day: date) -> date:
    """The first business day of the fund strictly after ``day``."""
    return calendar.next_business_day(day, holidays(session, fund_id))


def previous_business_day(session: Session, fund_id: str, day: date) -> date:
    """The last business day of the fund strictly before ``day``."""
    return calendar.previous_business_day(day, holidays(session, fund_id))


def add_non_operating_day(session: Session, fund_id: str, day: date, label: str = "") -> NonOperatingDay:
    """List a holiday; refused on weekends (always closed) and on days that already have a NAV."""
    get_fund(session, fund_id)
    if calendar.is_weekend(day):
        raise ApplicationError(
            f"{day.isoformat()} is a weekend day, which is always non-operating", "NonBusinessDay"
        )
    existing = session.get(NonOperatingDay, (fund_id, day))
    if existing is not None:
        return existing
    published = session.scalar(
        select(NetAssetValue.id)
        .join(ShareClass, ShareClass.id == NetAssetValue.share_class_id)
        .where(ShareClass.fund_id == fund_id, NetAssetValue.day == day)
        .limit(1)
    )
    if published is not None:
        raise ConflictError(f"a NAV is already published on {day.isoformat()}; it cannot become a holiday")
    row = NonOperatingDay(fund_id=fund_id, day=day, label=label[:100])
    session.add(row)
    session.flush()
    return row


def remove_non_operating_day(session: Session, fund_id: str, day: date) -> bool:
    row = session.get(NonOperatingDay, (fund_id, day))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


# --- net asset values ----------------------------------------------------------------------------


def nav_on(session: Session, share_class_id: str, day: date) -> NetAssetValue | None:
    """The NAV published for exactly ``day`` (None on non-business days and unpublished days)."""
    return session.scalar(
        select(NetAssetValue).where(NetAssetValue.share_class_id == share_class_id, NetAssetValue.day == day)
    )


def latest_nav(
    session: Session, share_class_id: str, on_or_before: date | None = None
) -> NetAssetValue | None:
    """The most recent NAV, optionally the most recent one published for a day ``<= on_or_before``.

    On a weekend or holiday this is the previous business day's NAV, which carries over.
    """
    query = select(NetAssetValue).where(NetAssetValue.share_class_id == share_class_id)
    if on_or_before is not None:
        query = query.where(NetAssetValue.day <= on_or_before)
    return session.scalar(query.order_by(NetAssetValue.day.desc()).limit(1))


def navs_between(
    session: Session, share_class_id: str, start_day: date, end_day: date | None = None
) -> list[NetAssetValue]:
    """Published NAVs from ``start_day`` to ``end_day`` (both included; open when None), oldest first."""
    query = select(NetAssetValue).where(
        NetAssetValue.share_class_id == share_class_id, NetAssetValue.day >= start_day
    )
    if end_day is not None:
        query = query.where(NetAssetValue.day <= end_day)
    return list(session.scalars(query.order_by(NetAssetValue.day)))


def nav_display(share_class: ShareClass, value: Decimal) -> str:
    """The wire form of a NAV: exactly ``navDecimals`` decimals."""
    return format(value.quantize(quantum(share_class.nav_decimals)), "f")


def publish_nav(session: Session, share_class_id: str, day: date, value: Decimal) -> NetAssetValue:
    """Publish the NAV of a business day.

    Refused: a weekend or holiday of the fund, a non-positive value, more decimals than the share
    class's ``navDecimals``. Publishing the same value again for the same day returns the existing
    NAV; a different value for a day already published is a conflict (NAVs are immutable once
    orders may have executed at them).
    """
    from spiko.domain import orders as order_rules
    from spiko.services import clock, register

    share_class = get_share_class(session, share_class_id)
    if not is_business_day(session, share_class.fund_id, day):
        raise ApplicationError(
            f"{day.isoformat()} is not a business day of {share_class.symbol}'s fund", "NonBusinessDay"
        )
    existing = nav_on(session, share_class_id, day)
    if existing is None:
        with register.enforced():
            order_rules.check_nav_day(
                day, clock.today(session), register.closed_through(session, share_class.fund_id)
            )
    try:
        quantized = nav_rules.check_nav_value(value, share_class.nav_decimals)
    except nav_rules.InvalidValueError as error:
        raise ApplicationError(str(error), "InvalidNetAssetValue") from error

    def same_or_conflict(existing: NetAssetValue) -> NetAssetValue:
        if existing.value == quantized:
            return existing
        raise ConflictError(
            f"the NAV of {share_class.symbol} for {day.isoformat()} is already published as "
            f"{nav_display(share_class, existing.value)}"
        )

    if existing is not None:
        return same_or_conflict(existing)
    row = NetAssetValue(
        share_class_id=share_class_id, day=day, value=quantized, created_at=clock.now(session)
    )
    if _insert_unless_duplicate(session, row):
        from spiko.outbox import snapshots

        snapshots.nav_published(session, share_class, row)
        return row
    # Another transaction published the same day meanwhile (its row is now committed).
    raced = nav_on(session, share_class_id, day)
    if raced is None:
        raise ConflictError("the NAV of this day changed while it was being published; retry")
    return same_or_conflict(raced)


def _insert_unless_duplicate(session: Session, row: object) -> bool:
    """Insert in a savepoint; False when a unique constraint says the row already exists."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def publish_growth_navs(session: Session, day: date, annual_rate: Decimal) -> list[NetAssetValue]:
    """Publish, for every share class without a NAV on ``day``, its previous NAV grown at ``annual_rate``.

    The rule (see ``docs/money.md``): ``previous × (1 + annual_rate) ^ (calendar days elapsed / 365)``,
    rounded half-even to the share class's ``navDecimals``. Share classes whose fund is closed on
    ``day``, and share classes without any earlier NAV (nothing to grow from), are skipped.
    Returns the NAVs published, in symbol order.
    """
    published: list[NetAssetValue] = []
    closed: dict[str, bool] = {}
    for share_class in list_share_classes(session):
        if share_class.fund_id not in closed:
            closed[share_class.fund_id] = not is_business_day(session, share_class.fund_id, day)
        if closed[share_class.fund_id] or nav_on(session, share_class.id, day) is not None:
            continue
        previous = latest_nav(session, share_class.id, on_or_before=day - timedelta(days=1))
        if previous is None:
            continue
        value = nav_rules.grow_nav(
            previous.value, annual_rate, (day - previous.day).days, share_class.nav_decimals
        )
        published.append(publish_nav(session, share_class.id, day, value))
    return published


# --- exchange rates ------------------------------------------------------------------------------


def _check_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ApplicationError(f"unknown currency {code!r}; expected one of {', '.join(CURRENCIES)}")
    return code


def publish_fx_rate(
    session: Session,
    *,
    base: str,
    quote: str,
    day: date,
    rate: Decimal,
    fund_id: str | None = None,
    kind: str = "indicative",
) -> ExchangeRate:
    """Publish ``1 base = rate quote`` for ``day`` (for one fund, or a market rate when ``fund_id`` is None).

    The same rate again is a no-op returning the existing row; a different rate for the same
    fund, day and pair is a conflict.
    """
    _check_currency(base)
    _check_currency(quote)
    if base == quote:
        raise ApplicationError("an exchange rate needs two different currencies", "InvalidExchangeRate")
    if kind not in EXCHANGE_RATE_KINDS:
        raise ApplicationError(f"unknown exchange rate kind {kind!r}", "InvalidExchangeRate")
    try:
        checked = nav_rules.check_fx_rate(rate)
    except nav_rules.InvalidValueError as error:
        raise ApplicationError(str(error), "InvalidExchangeRate") from error
    if fund_id is not None:
        get_fund(session, fund_id)
    fund_clause = ExchangeRate.fund_id.is_(None) if fund_id is None else ExchangeRate.fund_id == fund_id
    lookup = select(ExchangeRate).where(
        fund_clause,
        ExchangeRate.day == day,
        ExchangeRate.base_currency == base,
        ExchangeRate.quote_currency == quote,
    )

    def same_or_conflict(existing: ExchangeRate) -> ExchangeRate:
        if existing.rate == checked:
            return existing
        raise ConflictError(
            f"the {base}/{quote} rate for {day.isoformat()} is already published "
            f"as {rate_display(existing.rate)}"
        )

    existing = session.scalar(lookup)
    if existing is not None:
        return same_or_conflict(existing)
    row = ExchangeRate(
        fund_id=fund_id, day=day, base_currency=base, quote_currency=quote, rate=checked, kind=kind
    )
    if _insert_unless_duplicate(session, row):
        return row
    raced = session.scalar(lookup)
    if raced is None:
        raise ConflictError("the rate of this day changed while it was being published; retry")
    return same_or_conflict(raced)


def rate_display(rate: Decimal) -> str:
    """The wire form of a rate: plain decimal notation, no trailing zeros."""
    return format(rate.normalize(), "f")


def get_exchange_rate(session: Session, exchange_rate_id: str) -> ExchangeRate:
    row = session.get(ExchangeRate, exchange_rate_id)
    if row is None:
        raise NotFoundError("Exchange rate not found")
    return row


def fx_rate(
    session: Session,
    base: str,
    quote: str,
    on_or_before: date | None = None,
    *,
    fund_id: str | None = None,
) -> ExchangeRate | None:
    """The latest published ``base → quote`` rate for a day ``<= on_or_before`` (any day when None).

    With ``fund_id``, only that fund's rates; without, any fund's or market rate (the latest day
    wins; on the same day a market rate, then the fund with the smallest id, for determinism).
    """
    query = select(ExchangeRate).where(
        ExchangeRate.base_currency == base, ExchangeRate.quote_currency == quote
    )
    if on_or_before is not None:
        query = query.where(ExchangeRate.day <= on_or_before)
    if fund_id is not None:
        query = query.where(ExchangeRate.fund_id == fund_id)
    query = query.order_by(ExchangeRate.day.desc(), ExchangeRate.fund_id.is_not(None), ExchangeRate.fund_id)
    return session.scalar(query.limit(1))


# Every cross rate goes through this currency, so that all the rates in force agree with each
# other: rate(A -> B) = rate(BASE -> B) / rate(BASE -> A), and rate(B -> A) = 1 / rate(A -> B).
FX_BASE = "EUR"
_RATE_CONTEXT = Context(prec=34)


@dataclass(frozen=True)
class FxQuote:
    """How many ``quote`` units one ``base`` unit buys, and the day of the oldest published rate
    it comes from (None for a currency to itself). ``legs`` names the published rates used, as
    ``"EUR/USD"`` (direct) or ``"1/USD/EUR"`` (inverted)."""

    base: str
    quote: str
    rate: Decimal
    day: date | None
    legs: tuple[str, ...] = ()

    def inverse(self) -> FxQuote:
        """``quote -> base``: the same rates, inverted."""
        if self.base == self.quote:
            return self
        return FxQuote(
            self.quote, self.base, _RATE_CONTEXT.divide(Decimal(1), self.rate), self.day, self.legs
        )

    def then(self, other: FxQuote) -> FxQuote:
        """``self.base -> other.quote`` through ``self.quote`` (the older of the two days)."""
        if self.quote != other.base:
            raise ValueError(f"cannot chain {self.base}/{self.quote} with {other.base}/{other.quote}")
        days = [day for day in (self.day, other.day) if day is not None]
        return FxQuote(
            self.base,
            other.quote,
            _RATE_CONTEXT.multiply(self.rate, other.rate),
            min(days) if days else None,
            self.legs + other.legs,
        )

    def age_days(self, on: date) -> int:
        return 0 if self.day is None else (on - self.day).days


class StaleRateError(ApplicationError):
    """The rate in force is older than the configured bound (``SPIKO_FX_MAX_AGE_DAYS``)."""

    def __init__(self, quote: FxQuote, on: date, max_age_days: int) -> None:
        if quote.day is None:
            raise InvariantError("quote.day is missing")
        super().__init__(
            f"the latest {quote.base}/{quote.quote} rate is of {quote.day.isoformat()}, "
            f"{quote.age_days(on)} days before {on.isoformat()}: older than the {max_age_days} days "
            "allowed (SPIKO_FX_MAX_AGE_DAYS)"
        )
        self.quote = quote
        self.on = on


def published_pair(
    session: Session, base: str, quote: str, on_or_before: date | None, fund_id: str | None = None
) -> tuple[ExchangeRate, bool] | None:
    """The latest published rate of the pair either way round (direct on the same day), and
    whether it is the opposite pair's rate."""
    direct = fx_rate(session, base, quote, on_or_before, fund_id=fund_id)
    inverse = fx_rate(session, quote, base, on_or_before, fund_id=fund_id)
    if direct is not None and (inverse is None or direct.day >= inverse.day):
        return direct, False
    return (inverse, True) if inverse is not None else None


def _leg(
    session: Session, base: str, quote: str, on_or_before: date | None, fund_id: str | None
) -> FxQuote | None:
    """One published pair, direct or inverted."""
    found = published_pair(session, base, quote, on_or_before, fund_id)
    if found is None:
        return None
    row, inverted = found
    if not inverted:
        return FxQuote(base, quote, row.rate, row.day, (f"{base}/{quote}",))
    return FxQuote(quote, base, row.rate, row.day, (f"1/{quote}/{base}",)).inverse()


def fx_quote(
    session: Session,
    base: str,
    quote: str,
    on_or_before: date | None = None,
    *,
    fund_id: str | None = None,
    max_age_days: int | None = None,
) -> FxQuote | None:
    """The rate in force for ``on_or_before`` (latest otherwise), with the day it dates from.

    Pairs with the base currency (EUR) use the published rate or the inverse of the opposite
    one; any other pair is crossed through EUR, so that every rate agrees with every other. A
    pair without a path through EUR falls back to its own published rate. None when nothing is
    published; :class:`StaleRateError` when ``max_age_days`` is given and the rate is older.
    """
    if base == quote:
        return FxQuote(base, quote, Decimal(1), None)
    if FX_BASE in (base, quote):
        found = _leg(session, base, quote, on_or_before, fund_id)
    else:
        base_leg = _leg(session, FX_BASE, base, on_or_before, fund_id)
        quote_leg = _leg(session, FX_BASE, quote, on_or_before, fund_id)
        if base_leg is not None and quote_leg is not None:
            # One division of the two legs from EUR: rate(A -> B) = rate(EUR -> B) / rate(EUR -> A).
            crossed = base_leg.inverse().then(quote_leg)
            found = replace(crossed, rate=_RATE_CONTEXT.divide(quote_leg.rate, base_leg.rate))
        else:
            found = _leg(session, base, quote, on_or_before, fund_id)
    stale = (
        found is not None
        and max_age_days is not None
        and on_or_before is not None
        and found.age_days(on_or_before) > max_age_days
    )
    if stale:
        if not (found is not None and on_or_before is not None and max_age_days is not None):
            raise InvariantError(
                "expected found is not None and on_or_before is not None and max_age_days is not None"
            )
        raise StaleRateError(found, on_or_before, max_age_days)
    return found


def exchange_rate_value(
    session: Session,
    base: str,
    quote: str,
    on_or_before: date | None = None,
    *,
    fund_id: str | None = None,
) -> Decimal | None:
    """How many ``quote`` units one ``base`` unit buys (:func:`fx_quote`'s rate; the caller rounds)."""
    found = fx_quote(session, base, quote, on_or_before, fund_id=fund_id)
    return None if found is None else found.rate


def list_exchange_rates(
    session: Session,
    *,
    fund_id: str | None = None,
    base: str | None = None,
    quote: str | None = None,
    start_day: date | None = None,
) -> Sequence[ExchangeRate]:
    clauses = []
    if fund_id is not None:
        clauses.append(ExchangeRate.fund_id == fund_id)
    if base is not None:
        clauses.append(ExchangeRate.base_currency == base)
    if quote is not None:
        clauses.append(ExchangeRate.quote_currency == quote)
    if start_day is not None:
        clauses.append(ExchangeRate.day >= start_day)
    query = select(ExchangeRate).where(and_(*clauses)) if clauses else select(ExchangeRate)
    return list(session.scalars(query.order_by(ExchangeRate.day, ExchangeRate.base_currency)))
