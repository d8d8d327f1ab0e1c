"""Public API v0: funds, share classes, NAVs, yields, totals and exchange rates (no authentication).

Shapes follow the public specification exactly. Choices where the specification leaves room are
written down in ``docs/public-api.md``: NAVs exist for business days only (a weekend or holiday
asked by day answers the previous business day's NAV, which carries over), index values are the
share class's NAV rebased to 100 at its first NAV, fund assets are an empty list.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.api.deps import DbSession
from spiko.db.models.funds import ExchangeRate, Fund, NetAssetValue, ShareClass
from spiko.domain import calendar
from spiko.domain import nav as nav_rules
from spiko.errors import HttpApiDecodeError, NotFoundError
from spiko.services import reference
from spiko.services.reporting.totals import share_class_totals

router = APIRouter()

ShareClassSymbol = Literal[
    "EUTBL",
    "USTBL",
    "eurUSTBL",
    "SPKCC",
    "eurSPKCC",
    "UKTBL",
    "eurUKTBL",
    "SAFO",
    "SAFOd",
    "eurSAFO",
    "eurSAFOd",
    "gbpSAFO",
    "chfSAFO",
]
CurrencyCode = Literal["EUR", "USD", "GBP", "CHF", "JPY", "SGD"]

# ISO 4217 minor units, for the cash amounts of totals (assets are valued rounded down).
CURRENCY_DECIMALS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "SGD": 2}
YIELD_DECIMALS = 6
INDEX_BASE = Decimal(100)
INDEX_DECIMALS = 6
WEEK_DAYS = 7
MONTH_DAYS = 30

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# --- parameters ----------------------------------------------------------------------------------


def parse_day(value: str, name: str, location: str = "query") -> date:
    """A ``yyyy-MM-dd`` day, else a 400 decode error naming the parameter."""
    if _DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise HttpApiDecodeError.single(
        [location, name], f'Expected a day formatted as "yyyy-MM-dd", actual "{value[:40]}"', "Refinement"
    )


def parse_uuid(value: str, name: str, location: str = "query") -> str:
    if not _UUID.match(value):
        raise HttpApiDecodeError.single(
            [location, name], f'Expected a Universally Unique Identifier, actual "{value[:60]}"', "Refinement"
        )
    return value.lower()


# --- bodies --------------------------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as the reference emits (2024-04-30T17:00:00.000Z)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fund_body(session: Session, fund: Fund) -> dict[str, Any]:
    return {
        "id": fund.id,
        "slug": fund.slug,
        "timezone": fund.timezone,
        "executionMethod": fund.execution_method,
        "nonOperatingDays": [
            row.day.isoformat() for row in reference.list_non_operating_days(session, fund.id)
        ],
        "launchDay": fund.launch_day.isoformat(),
    }


def share_class_body(share_class: ShareClass) -> dict[str, Any]:
    return {
        "id": share_class.id,
        "fundId": share_class.fund_id,
        "isin": share_class.isin,
        "navDecimals": share_class.nav_decimals,
        "shareDecimals": share_class.share_decimals,
        "currency": share_class.currency,
        "tokens": list(share_class.tokens or []),
        "useOfIncome": share_class.use_of_income,
        "minimumInitialSubscription": _plain(share_class.minimum_initial_deposit),
        "minimumSubsequentSubscription": _plain(share_class.minimum_subsequent_deposit),
        "minimumRedemption": _plain(share_class.minimum_withdrawal),
        "subscriptionFees": _plain(share_class.subscription_fees),
        "redemptionFees": _plain(share_class.redemption_fees),
        "managementFees": _plain(share_class.management_fees),
        "intermediaryShareClasses": [],
        "data": share_class.data,
        "symbol": share_class.symbol,
        "bankAccountNumber": share_class.bank_account_number,
        "bankAccountBic": share_class.bank_account_bic,
        "bankAccountIntermediaryBic": share_class.bank_account_intermediary_bic,
    }


def nav_body(share_class: ShareClass, nav: NetAssetValue) -> dict[str, Any]:
    return {
        "id": nav.id,
        "shareClassId": share_class.id,
        "day": nav.day.isoformat(),
        "amount": {"value": reference.nav_display(share_class, nav.value), "currency": share_class.currency},
        "updatedAt": timestamp(nav.created_at),
    }


def exchange_rate_body(rate: ExchangeRate) -> dict[str, Any]:
    # Rates without a fund are market rates used internally; /v0 only serves fund rates.
    assert rate.fund_id is not None
    return {
        "id": rate.id,
        "fundId": rate.fund_id,
        "day": rate.day.isoformat(),
        "baseCurrency": rate.base_currency,
        "quoteCurrency": rate.quote_currency,
        "fxRate": reference.rate_display(rate.rate),
        "kind": rate.kind,
        "updatedAt": timestamp(rate.created_at),
    }


def _plain(value: Decimal) -> str:
    """A non-negative decimal without exponent or needless trailing zeros ("1000", "0.0025")."""
    return format(value.normalize(), "f")


def _cash(value: Decimal, currency: str) -> str:
    return format(value.quantize(nav_rules.quantum(CURRENCY_DECIMALS.get(currency, 2))), "f")


# --- funds ---------------------------------------------------------------------------------------


def _latest_nav(session: Session, share_class: ShareClass) -> NetAssetValue:
    latest = reference.latest_nav(session, share_class.id)
    if latest is None:
        raise NotFoundError(f"No NAV has been published for {share_class.symbol} yet")
    return latest


@router.get("/funds", operation_id="Get all Funds", summary="Get all Funds", tags=["Funds"])
def list_funds(session: DbSession) -> list[dict[str, Any]]:
    return [fund_body(session, fund) for fund in reference.list_funds(session)]


@router.get("/funds/{fundId}", operation_id="Get Fund", summary="Get Fund", tags=["Funds"])
def get_fund(fundId: str, session: DbSession) -> dict[str, Any]:  # noqa: N803 - the reference's name
    return fund_body(session, reference.get_fund(session, parse_uuid(fundId, "fundId", "path")))


@router.get(
    "/fund-assets", operation_id="Get all Fund Assets", summary="Get all Fund Assets", tags=["Fund Assets"]
)
def list_fund_assets(
    session: DbSession,
    fundId: str = Query(...),  # noqa: N803
    valuationDay: str | None = Query(None),  # noqa: N803
) -> list[dict[str, Any]]:
    """The fund's portfolio holdings; this installation publishes no asset inventory, so the list is empty."""
    fund_id = parse_uuid(fundId, "fundId")
    if valuationDay is not None:
        parse_day(valuationDay, "valuationDay")
    reference.get_fund(session, fund_id)
    return []


# --- share classes -------------------------------------------------------------------------------


@router.get(
    "/share-classes",
    operation_id="Get all Share Classes",
    summary="Get all Share Classes",
    tags=["Share Classes"],
)
def list_share_classes(session: DbSession) -> list[dict[str, Any]]:
    return [share_class_body(share_class) for share_class in reference.list_share_classes(session)]


@router.get(
    "/share-classes/{shareClassSymbol}",
    operation_id="Get Share Class",
    summary="Get Share Class",
    tags=["Share Classes"],
)
def get_share_class(shareClassSymbol: ShareClassSymbol, session: DbSession) -> dict[str, Any]:  # noqa: N803
    return share_class_body(reference.get_share_class_by_symbol(session, shareClassSymbol))


def _annualized(start: NetAssetValue, end: NetAssetValue) -> str:
    value = nav_rules.annualized_return(start.value, end.value, (end.day - start.day).days)
    return format(value.quantize(nav_rules.quantum(YIELD_DECIMALS), rounding=ROUND_HALF_EVEN), "f")


@router.get(
    "/share-classes/{shareClassSymbol}/yield",
    operation_id="Get Share Class Yield",
    summary="Get Share Class Yield",
    tags=["Share Classes"],
)
def get_share_class_yield(shareClassSymbol: ShareClassSymbol, session: DbSession) -> dict[str, Any]:  # noqa: N803
    """Annualized simple yields (0.035 = 3.5 %/year) of the latest NAV over the previous NAV, and over
    the NAVs of 7 and 30 calendar days earlier (null when the history is shorter)."""
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    latest = _latest_nav(session, share_class)
    previous = reference.latest_nav(session, share_class.id, latest.day - timedelta(days=1))

    def over(days: int) -> str | None:
        base = reference.latest_nav(session, share_class.id, latest.day - timedelta(days=days))
        return _annualized(base, latest) if base is not None else None

    holidays = reference.holidays(session, share_class.fund_id)
    next_day = calendar.next_business_day(latest.day, holidays)
    next_moment = datetime.combine(next_day, time(0, 0), tzinfo=UTC)
    return {
        "shareClassId": share_class.id,
        "dailyYield": _annualized(previous, latest) if previous is not None else "0",
        "weeklyYield": over(WEEK_DAYS),
        "monthlyYield": over(MONTH_DAYS),
        "updatedAt": timestamp(latest.created_at),
        "nextYieldTimestamp": str(int(next_moment.timestamp())),
        "previousYieldTimestamp": (
            {"_tag": "Some", "value": str(int(previous.created_at.timestamp()))}
            if previous is not None
            else {"_tag": "None"}
        ),
    }


def _totals(session: Session, share_class: ShareClass, navs: list[NetAssetValue]) -> list[dict[str, Any]]:
    """Totals of the share class at the close of each given NAV's day (``services.reporting.totals``)."""
    currency = share_class.currency
    return [
        {
            "totalShares": format(
                totals.total_shares.quantize(nav_rules.quantum(share_class.share_decimals)), "f"
            ),
            "totalAssets": {"value": _cash(totals.total_assets, currency), "currency": currency},
            "numberOfHolders": totals.holders,
            "netAssetValue": nav_body(share_class, totals.nav),
            "totalYield": {"value": _cash(totals.total_yield, currency), "currency": currency},
            "totalOrders": {"value": _cash(totals.total_orders, currency), "currency": currency},
        }
        for totals in share_class_totals(session, share_class, navs)
    ]


@router.get(
    "/share-classes/{shareClassSymbol}/totals",
    operation_id="Get Share Class Totals",
    summary="Get Share Class Totals",
    tags=["Share Classes"],
)
def get_share_class_totals(shareClassSymbol: ShareClassSymbol, session: DbSession) -> dict[str, Any]:  # noqa: N803
    """Totals at the latest published NAV."""
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    latest = _latest_nav(session, share_class)
    return _totals(session, share_class, [latest])[0]


@router.get(
    "/share-classes/{shareClassSymbol}/totals/from-day",
    operation_id="Get Share Class Totals From Day",
    summary="Get Share Class Totals From Day",
    tags=["Share Classes"],
)
def get_share_class_totals_from_day(
    shareClassSymbol: ShareClassSymbol,  # noqa: N803
    session: DbSession,
    startDay: str = Query(...),  # noqa: N803
) -> list[dict[str, Any]]:
    """Totals at each published NAV from ``startDay``, oldest first."""
    start = parse_day(startDay, "startDay")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    return _totals(session, share_class, reference.navs_between(session, share_class.id, start))


# --- net asset values ----------------------------------------------------------------------------


@router.get(
    "/net-asset-values/{shareClassSymbol}/latest",
    operation_id="Get Latest Net Asset Value",
    summary="Get Latest Net Asset Value",
    tags=["Net Asset Values"],
)
def get_latest_nav(shareClassSymbol: ShareClassSymbol, session: DbSession) -> dict[str, Any]:  # noqa: N803
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    latest = _latest_nav(session, share_class)
    return nav_body(share_class, latest)


@router.get(
    "/net-asset-values/{shareClassSymbol}/{day}",
    operation_id="Get Net Asset Value",
    summary="Get Net Asset Value",
    tags=["Net Asset Values"],
)
def get_nav(shareClassSymbol: ShareClassSymbol, day: str, session: DbSession) -> dict[str, Any]:  # noqa: N803
    """The NAV of a business day; on a weekend or holiday, the previous business day's NAV (which
    carries over), returned as published, with its own ``day``."""
    wanted = parse_day(day, "day", "path")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    holidays = reference.holidays(session, share_class.fund_id)
    priced_day = calendar.on_or_before(wanted, holidays)
    nav = reference.nav_on(session, share_class.id, priced_day)
    if nav is None:
        raise NotFoundError(f"No NAV of {share_class.symbol} for {wanted.isoformat()}")
    return nav_body(share_class, nav)


@router.get(
    "/net-asset-values/{shareClassSymbol}",
    operation_id="Get Net Asset Values",
    summary="Get Net Asset Values",
    tags=["Net Asset Values"],
)
def list_navs(
    shareClassSymbol: ShareClassSymbol,  # noqa: N803
    session: DbSession,
    startDay: str = Query(...),  # noqa: N803
) -> list[dict[str, Any]]:
    """Every published NAV (business days) from ``startDay``, oldest first."""
    start = parse_day(startDay, "startDay")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    return [nav_body(share_class, nav) for nav in reference.navs_between(session, share_class.id, start)]


# --- index values --------------------------------------------------------------------------------


@router.get(
    "/index-values/spkcc/with-allocation",
    operation_id="Get SPKCC Chart Data",
    summary="Get SPKCC Chart Data",
    tags=["Index Values"],
)
def get_spkcc_chart(session: DbSession, startDay: str = Query(...)) -> list[dict[str, Any]]:  # noqa: N803
    """SPKCC (a crypto-allocation share class) is not offered by this installation."""
    parse_day(startDay, "startDay")
    reference.get_share_class_by_symbol(session, "SPKCC")
    raise NotFoundError("SPKCC allocation data is not available")


@router.get(
    "/index-values/{shareClassSymbol}",
    operation_id="Get Index Values",
    summary="Get Index Values",
    tags=["Index Values"],
)
def list_index_values(
    shareClassSymbol: ShareClassSymbol,  # noqa: N803
    session: DbSession,
    startDay: str = Query(...),  # noqa: N803
) -> list[dict[str, Any]]:
    """The share class's total-return index from ``startDay``: its NAV rebased to 100 at the first
    published NAV (the share classes accumulate their income, so the NAV is the total return),
    rounded half-even to 6 decimals."""
    start = parse_day(startDay, "startDay")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    first = session.scalar(
        select(NetAssetValue)
        .where(NetAssetValue.share_class_id == share_class.id)
        .order_by(NetAssetValue.day)
        .limit(1)
    )
    if first is None:
        return []
    quantum = nav_rules.quantum(INDEX_DECIMALS)
    return [
        {
            "day": nav.day.isoformat(),
            "amount": {
                "value": format(
                    (INDEX_BASE * nav.value / first.value).quantize(quantum, rounding=ROUND_HALF_EVEN), "f"
                ),
                "currency": share_class.currency,
            },
        }
        for nav in reference.navs_between(session, share_class.id, start)
    ]


# --- exchange rates ------------------------------------------------------------------------------


@router.get(
    "/exchange-rates/latest",
    operation_id="Get Latest Exchange Rate",
    summary="Get Latest Exchange Rate",
    tags=["Exchange Rates"],
)
def get_latest_exchange_rate(
    session: DbSession,
    fundId: str = Query(...),  # noqa: N803
    quoteCurrency: CurrencyCode = Query(...),  # noqa: N803
    baseCurrency: CurrencyCode = Query(...),  # noqa: N803
    latestUpdateDate: str | None = Query(None),  # noqa: N803
    fallbackToAnyOtherFund: Literal["true", "false"] | None = Query(None),  # noqa: N803
) -> dict[str, Any]:
    """The fund's latest ``base → quote`` rate, for a day on or before ``latestUpdateDate`` when given;
    with ``fallbackToAnyOtherFund=true``, another fund's latest rate when this fund has none."""
    fund_id = parse_uuid(fundId, "fundId")
    until = _parse_date(latestUpdateDate) if latestUpdateDate is not None else None
    reference.get_fund(session, fund_id)
    rate = reference.fx_rate(session, baseCurrency, quoteCurrency, until, fund_id=fund_id)
    if rate is None and fallbackToAnyOtherFund == "true":
        query = select(ExchangeRate).where(
            ExchangeRate.fund_id.is_not(None),
            ExchangeRate.base_currency == baseCurrency,
            ExchangeRate.quote_currency == quoteCurrency,
        )
        if until is not None:
            query = query.where(ExchangeRate.day <= until)
        rate = session.scalar(query.order_by(ExchangeRate.day.desc(), ExchangeRate.fund_id).limit(1))
    if rate is None:
        raise NotFoundError(f"No {baseCurrency}/{quoteCurrency} exchange rate published")
    return exchange_rate_body(rate)


def _parse_date(value: str) -> date:
    """The reference's ``Date``: an ISO date or date-time; rates are daily, so its UTC day counts."""
    try:
        if _DAY.match(value):
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        raise HttpApiDecodeError.single(
            ["query", "latestUpdateDate"], f'Expected a date, actual "{value[:40]}"', "Transformation"
        )
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


@router.get(
    "/exchange-rates/{exchangeRateId}",
    operation_id="Get Exchange Rate by ID",
    summary="Get Exchange Rate by ID",
    tags=["Exchange Rates"],
)
def get_exchange_rate(exchangeRateId: str, session: DbSession) -> dict[str, Any]:  # noqa: N803
    rate = reference.get_exchange_rate(session, parse_uuid(exchangeRateId, "exchangeRateId", "path"))
    if rate.fund_id is None:
        raise NotFoundError("Exchange rate not found")
    return exchange_rate_body(rate)
