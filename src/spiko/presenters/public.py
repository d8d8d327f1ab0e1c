"""The public API (``/v0``): funds, share classes, NAVs, yields, totals, index values and exchange rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypedDict

from spiko.db.models.funds import ExchangeRate, Fund, NetAssetValue, ShareClass
from spiko.errors import InvariantError
from spiko.presenters.formats import (
    Money,
    amount_text,
    decimal_text,
    epoch_seconds,
    plain_decimal,
    shares_text,
    timestamp,
)
from spiko.services.public_figures import ShareClassTotal, ShareClassYield

YIELD_DECIMALS = 6
INDEX_DECIMALS = 6


class FundBody(TypedDict):
    id: str
    slug: str
    timezone: str
    executionMethod: str
    nonOperatingDays: list[str]
    launchDay: str


class ShareClassBody(TypedDict):
    id: str
    fundId: str
    isin: str
    navDecimals: int
    shareDecimals: int
    currency: str
    tokens: list[Any]
    useOfIncome: str
    minimumInitialSubscription: str
    minimumSubsequentSubscription: str
    minimumRedemption: str
    subscriptionFees: str
    redemptionFees: str
    managementFees: str
    intermediaryShareClasses: list[Any]
    data: dict[str, Any]
    symbol: str
    bankAccountNumber: str
    bankAccountBic: str
    bankAccountIntermediaryBic: str | None


class NavBody(TypedDict):
    id: str
    shareClassId: str
    day: str
    amount: Money
    updatedAt: str


class ExchangeRateBody(TypedDict):
    id: str
    fundId: str
    day: str
    baseCurrency: str
    quoteCurrency: str
    fxRate: str
    kind: str
    updatedAt: str


class SomeTimestamp(TypedDict):
    _tag: Literal["Some"]
    value: str


class NoTimestamp(TypedDict):
    _tag: Literal["None"]


class ShareClassYieldBody(TypedDict):
    shareClassId: str
    dailyYield: str
    weeklyYield: str | None
    monthlyYield: str | None
    updatedAt: str
    nextYieldTimestamp: str
    previousYieldTimestamp: SomeTimestamp | NoTimestamp


class ShareClassTotalBody(TypedDict):
    totalShares: str
    totalAssets: Money
    numberOfHolders: int
    netAssetValue: NavBody
    totalYield: Money
    totalOrders: Money


class IndexValueBody(TypedDict):
    day: str
    amount: Money


def nav_text(share_class: ShareClass, value: Decimal) -> str:
    """A NAV with exactly the share class's ``navDecimals``."""
    return decimal_text(value, share_class.nav_decimals)


def fund(row: Fund, non_operating_days: list[date]) -> FundBody:
    return {
        "id": row.id,
        "slug": row.slug,
        "timezone": row.timezone,
        "executionMethod": row.execution_method,
        "nonOperatingDays": [day.isoformat() for day in non_operating_days],
        "launchDay": row.launch_day.isoformat(),
    }


def share_class(row: ShareClass) -> ShareClassBody:
    return {
        "id": row.id,
        "fundId": row.fund_id,
        "isin": row.isin,
        "navDecimals": row.nav_decimals,
        "shareDecimals": row.share_decimals,
        "currency": row.currency,
        "tokens": list(row.tokens or []),
        "useOfIncome": row.use_of_income,
        "minimumInitialSubscription": plain_decimal(row.minimum_initial_deposit),
        "minimumSubsequentSubscription": plain_decimal(row.minimum_subsequent_deposit),
        "minimumRedemption": plain_decimal(row.minimum_withdrawal),
        "subscriptionFees": plain_decimal(row.subscription_fees),
        "redemptionFees": plain_decimal(row.redemption_fees),
        "managementFees": plain_decimal(row.management_fees),
        "intermediaryShareClasses": [],
        "data": row.data,
        "symbol": row.symbol,
        "bankAccountNumber": row.bank_account_number,
        "bankAccountBic": row.bank_account_bic,
        "bankAccountIntermediaryBic": row.bank_account_intermediary_bic,
    }


def nav(share_class: ShareClass, row: NetAssetValue) -> NavBody:
    return {
        "id": row.id,
        "shareClassId": share_class.id,
        "day": row.day.isoformat(),
        "amount": {"value": nav_text(share_class, row.value), "currency": share_class.currency},
        "updatedAt": timestamp(row.created_at),
    }


def exchange_rate(rate: ExchangeRate) -> ExchangeRateBody:
    # Rates without a fund are market rates used internally; /v0 only serves fund rates.
    if rate.fund_id is None:
        raise InvariantError(f"exchange rate {rate.id} has no fund: it is not a public rate")
    return {
        "id": rate.id,
        "fundId": rate.fund_id,
        "day": rate.day.isoformat(),
        "baseCurrency": rate.base_currency,
        "quoteCurrency": rate.quote_currency,
        "fxRate": plain_decimal(rate.rate),
        "kind": rate.kind,
        "updatedAt": timestamp(rate.created_at),
    }


def _yield(value: Decimal) -> str:
    return decimal_text(value, YIELD_DECIMALS)


def share_class_yield(share_class: ShareClass, figures: ShareClassYield) -> ShareClassYieldBody:
    previous = figures.previous
    return {
        "shareClassId": share_class.id,
        "dailyYield": _yield(figures.daily) if figures.daily is not None else "0",
        "weeklyYield": _yield(figures.weekly) if figures.weekly is not None else None,
        "monthlyYield": _yield(figures.monthly) if figures.monthly is not None else None,
        "updatedAt": timestamp(figures.latest.created_at),
        "nextYieldTimestamp": epoch_seconds(figures.next_yield_at),
        "previousYieldTimestamp": (
            {"_tag": "Some", "value": epoch_seconds(previous.created_at)}
            if previous is not None
            else {"_tag": "None"}
        ),
    }


def share_class_total(share_class: ShareClass, total: ShareClassTotal) -> ShareClassTotalBody:
    currency = share_class.currency
    return {
        "totalShares": shares_text(total.total_shares, share_class.share_decimals),
        "totalAssets": {
            "value": amount_text(max(total.total_assets, Decimal(0)), currency),
            "currency": currency,
        },
        "numberOfHolders": total.number_of_holders,
        "netAssetValue": nav(share_class, total.nav),
        "totalYield": {"value": amount_text(total.total_yield, currency), "currency": currency},
        "totalOrders": {"value": amount_text(total.total_orders, currency), "currency": currency},
    }


def index_value(share_class: ShareClass, day: date, value: Decimal) -> IndexValueBody:
    return {
        "day": day.isoformat(),
        "amount": {"value": decimal_text(value, INDEX_DECIMALS), "currency": share_class.currency},
    }
