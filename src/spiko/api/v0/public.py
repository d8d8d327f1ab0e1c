"""Public API v0: funds, share classes, NAVs, yields, totals and exchange rates (no authentication).

Shapes follow the public specification exactly. Choices where the specification leaves room are
written down in ``docs/public-api.md``: NAVs exist for business days only (a weekend or holiday
asked by day answers the previous business day's NAV, which carries over), index values are the
share class's NAV rebased to 100 at its first NAV, fund assets are an empty list.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from spiko.api.deps import ReadSession
from spiko.api.routing import PresentedRoute
from spiko.db.models.funds import ExchangeRate
from spiko.domain import calendar
from spiko.domain.money import Currency
from spiko.errors import HttpApiDecodeError, NotFoundError
from spiko.presenters import public as present
from spiko.presenters.public import (
    ExchangeRateBody,
    FundBody,
    IndexValueBody,
    NavBody,
    ShareClassBody,
    ShareClassTotalBody,
    ShareClassYieldBody,
)
from spiko.services import public_figures, reference

router = APIRouter(route_class=PresentedRoute)

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


# --- funds ---------------------------------------------------------------------------------------


@router.get("/funds", operation_id="Get all Funds", summary="Get all Funds", tags=["Funds"])
def list_funds(session: ReadSession) -> list[FundBody]:
    return [
        present.fund(fund, [row.day for row in reference.list_non_operating_days(session, fund.id)])
        for fund in reference.list_funds(session)
    ]


@router.get("/funds/{fundId}", operation_id="Get Fund", summary="Get Fund", tags=["Funds"])
def get_fund(fundId: str, session: ReadSession) -> FundBody:  # noqa: N803 - the reference's name
    fund = reference.get_fund(session, parse_uuid(fundId, "fundId", "path"))
    return present.fund(fund, [row.day for row in reference.list_non_operating_days(session, fund.id)])


@router.get(
    "/fund-assets", operation_id="Get all Fund Assets", summary="Get all Fund Assets", tags=["Fund Assets"]
)
def list_fund_assets(
    session: ReadSession,
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
def list_share_classes(session: ReadSession) -> list[ShareClassBody]:
    return [present.share_class(share_class) for share_class in reference.list_share_classes(session)]


@router.get(
    "/share-classes/{shareClassSymbol}",
    operation_id="Get Share Class",
    summary="Get Share Class",
    tags=["Share Classes"],
)
def get_share_class(shareClassSymbol: ShareClassSymbol, session: ReadSession) -> ShareClassBody:  # noqa: N803
    return present.share_class(reference.get_share_class_by_symbol(session, shareClassSymbol))


@router.get(
    "/share-classes/{shareClassSymbol}/yield",
    operation_id="Get Share Class Yield",
    summary="Get Share Class Yield",
    tags=["Share Classes"],
)
def get_share_class_yield(
    shareClassSymbol: ShareClassSymbol,  # noqa: N803
    session: ReadSession,
) -> ShareClassYieldBody:
    """Annualized simple yields (0.035 = 3.5 %/year) of the latest NAV over the previous NAV, and over
    the NAVs of 7 and 30 calendar days earlier (null when the history is shorter)."""
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    return present.share_class_yield(share_class, public_figures.share_class_yield(session, share_class))


@router.get(
    "/share-classes/{shareClassSymbol}/totals",
    operation_id="Get Share Class Totals",
    summary="Get Share Class Totals",
    tags=["Share Classes"],
)
def get_share_class_totals(
    shareClassSymbol: ShareClassSymbol,  # noqa: N803
    session: ReadSession,
) -> ShareClassTotalBody:
    """Totals at the latest published NAV."""
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    latest = public_figures.latest_nav(session, share_class)
    (total,) = public_figures.totals(session, share_class, [latest])
    return present.share_class_total(share_class, total)


@router.get(
    "/share-classes/{shareClassSymbol}/totals/from-day",
    operation_id="Get Share Class Totals From Day",
    summary="Get Share Class Totals From Day",
    tags=["Share Classes"],
)
def get_share_class_totals_from_day(
    shareClassSymbol: ShareClassSymbol,  # noqa: N803
    session: ReadSession,
    startDay: str = Query(...),  # noqa: N803
) -> list[ShareClassTotalBody]:
    """Totals at each published NAV from ``startDay``, oldest first."""
    start = parse_day(startDay, "startDay")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    navs = reference.navs_between(session, share_class.id, start)
    return [
        present.share_class_total(share_class, total)
        for total in public_figures.totals(session, share_class, navs)
    ]


# --- net asset values ----------------------------------------------------------------------------


@router.get(
    "/net-asset-values/{shareClassSymbol}/latest",
    operation_id="Get Latest Net Asset Value",
    summary="Get Latest Net Asset Value",
    tags=["Net Asset Values"],
)
def get_latest_nav(shareClassSymbol: ShareClassSymbol, session: ReadSession) -> NavBody:  # noqa: N803
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    return present.nav(share_class, public_figures.latest_nav(session, share_class))


@router.get(
    "/net-asset-values/{shareClassSymbol}/{day}",
    operation_id="Get Net Asset Value",
    summary="Get Net Asset Value",
    tags=["Net Asset Values"],
)
def get_nav(shareClassSymbol: ShareClassSymbol, day: str, session: ReadSession) -> NavBody:  # noqa: N803
    """The NAV of a business day; on a weekend or holiday, the previous business day's NAV (which
    carries over), returned as published, with its own ``day``."""
    wanted = parse_day(day, "day", "path")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    holidays = reference.holidays(session, share_class.fund_id)
    priced_day = calendar.on_or_before(wanted, holidays)
    nav = reference.nav_on(session, share_class.id, priced_day)
    if nav is None:
        raise NotFoundError(f"No NAV of {share_class.symbol} for {wanted.isoformat()}")
    return present.nav(share_class, nav)


@router.get(
    "/net-asset-values/{shareClassSymbol}",
    operation_id="Get Net Asset Values",
    summary="Get Net Asset Values",
    tags=["Net Asset Values"],
)
def list_navs(
    shareClassSymbol: ShareClassSymbol,  # noqa: N803
    session: ReadSession,
    startDay: str = Query(...),  # noqa: N803
) -> list[NavBody]:
    """Every published NAV (business days) from ``startDay``, oldest first."""
    start = parse_day(startDay, "startDay")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    return [present.nav(share_class, nav) for nav in reference.navs_between(session, share_class.id, start)]


# --- index values --------------------------------------------------------------------------------


@router.get(
    "/index-values/spkcc/with-allocation",
    operation_id="Get SPKCC Chart Data",
    summary="Get SPKCC Chart Data",
    tags=["Index Values"],
)
def get_spkcc_chart(session: ReadSession, startDay: str = Query(...)) -> list[dict[str, Any]]:  # noqa: N803
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
    session: ReadSession,
    startDay: str = Query(...),  # noqa: N803
) -> list[IndexValueBody]:
    """The share class's total-return index from ``startDay``: its NAV rebased to 100 at the first
    published NAV (the share classes accumulate their income, so the NAV is the total return),
    rounded half-even to 6 decimals."""
    start = parse_day(startDay, "startDay")
    share_class = reference.get_share_class_by_symbol(session, shareClassSymbol)
    return [
        present.index_value(share_class, day, value)
        for day, value in public_figures.index_values(session, share_class, start)
    ]


# --- exchange rates ------------------------------------------------------------------------------


@router.get(
    "/exchange-rates/latest",
    operation_id="Get Latest Exchange Rate",
    summary="Get Latest Exchange Rate",
    tags=["Exchange Rates"],
)
def get_latest_exchange_rate(
    session: ReadSession,
    fundId: str = Query(...),  # noqa: N803
    quoteCurrency: Currency = Query(...),  # noqa: N803
    baseCurrency: Currency = Query(...),  # noqa: N803
    latestUpdateDate: str | None = Query(None),  # noqa: N803
    fallbackToAnyOtherFund: Literal["true", "false"] | None = Query(None),  # noqa: N803
) -> ExchangeRateBody:
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
    return present.exchange_rate(rate)


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
def get_exchange_rate(exchangeRateId: str, session: ReadSession) -> ExchangeRateBody:  # noqa: N803
    rate = reference.get_exchange_rate(session, parse_uuid(exchangeRateId, "exchangeRateId", "path"))
    if rate.fund_id is None:
        raise NotFoundError("Exchange rate not found")
    return present.exchange_rate(rate)
