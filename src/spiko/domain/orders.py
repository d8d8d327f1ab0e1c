"""Order rules, pure: statuses, quantity modes, trade days and the transitions of an order.

An order is received at an instant; its *trade day* is the fund's business day (in the fund's own
timezone) on which it was received before the cut-off, else the next business day, and never a
day the fund has already closed. Under ``unknownNAVs`` (forward pricing) it executes at the first
NAV struck for its trade day, which must have been published after the order was received; under
``knownNAVs`` at the NAV of its trade day, which the fund strikes before its cut-off, so the order
knows its price when it crosses the cut-off. The transitions (fund, execute, cancel, correct) are
functions that raise :class:`OrderRuleError` when the rule refuses.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    EXECUTED = "executed"
    CANCELED = "canceled"


class QuantityMode(enum.StrEnum):
    AMOUNT = "amount"
    SHARES = "shares"
    TOTAL = "total"


class ExecutionMethod(enum.StrEnum):
    KNOWN_NAVS = "knownNAVs"
    UNKNOWN_NAVS = "unknownNAVs"


class OrderRuleError(ValueError):
    """A transition the rules refuse; ``code`` names the rule (it becomes the customErrorCode)."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def parse_cut_off(text: str) -> time:
    """A cut-off "HH:MM" (24-hour clock)."""
    try:
        hours, minutes = text.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError:
        raise OrderRuleError(f"a cut-off is a time HH:MM, not {text!r}", "InvalidCutOff") from None


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        raise OrderRuleError(f"unknown timezone {name!r}", "InvalidTimezone") from None


@dataclass(frozen=True)
class FundTime:
    """What the trade-day rule needs to know about a fund."""

    timezone: str
    cut_off: time
    execution_method: ExecutionMethod

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(check_timezone(self.timezone))

    def cut_off_instant(self, day: date) -> datetime:
        """The cut-off of ``day`` as an aware instant."""
        return datetime.combine(day, self.cut_off, tzinfo=check_timezone(self.timezone))


def trade_day(
    fund: FundTime,
    received_at: datetime,
    is_business_day: Callable[[date], bool],
    *,
    closed_through: date | None = None,
    nav_published: Callable[[date], bool] = lambda day: False,
) -> date:
    """The business day an order received at ``received_at`` trades on.

    ``closed_through`` is the fund's last closed day (an order never trades on a closed day);
    ``nav_published(day)`` tells whether the NAV of a day was already published at receipt, which
    under forward pricing moves the order to the next business day.
    """
    local = fund.local(received_at)
    day = local.date()
    if not is_business_day(day) or local.time() >= fund.cut_off:
        day = next_business_day(day, is_business_day)
    while (closed_through is not None and day <= closed_through) or (
        fund.execution_method is ExecutionMethod.UNKNOWN_NAVS and nav_published(day)
    ):
        day = next_business_day(day, is_business_day)
    return day


def next_business_day(day: date, is_business_day: Callable[[date], bool]) -> date:
    candidate = day + timedelta(days=1)
    for _ in range(3660):
        if is_business_day(candidate):
            return candidate
        candidate += timedelta(days=1)
    raise OrderRuleError(f"no business day within ten years after {day.isoformat()}", "NoBusinessDay")


# --- transitions --------------------------------------------------------------------------------


def check_funding(
    status: OrderStatus, funded: bool, created_day: date, funding_day: date, closed_through: date | None
) -> None:
    """A deposit's cash arrives: pending and unfunded, dated neither before the order nor on a closed day."""
    if status is not OrderStatus.PENDING or funded:
        state = "funded" if status is OrderStatus.PENDING else status.value
        raise OrderRuleError(f"the deposit order is already {state}", "IncomingBankTransferAlreadyHandled")
    if funding_day < created_day:
        raise OrderRuleError(
            f"funding dated {funding_day.isoformat()} is before the order existed "
            f"({created_day.isoformat()})",
            "FundingBeforeOrder",
        )
    if closed_through is not None and funding_day <= closed_through:
        raise OrderRuleError(
            f"{funding_day.isoformat()} is closed (closed through {closed_through.isoformat()}); "
            "funding is dated on an open day",
            "DayClosed",
        )


def check_execution(
    status: OrderStatus,
    *,
    method: ExecutionMethod,
    day: date,
    trade_day: date,
    received_at: datetime,
    nav_published_at: datetime,
    closed_through: date | None,
) -> None:
    """An order executes on its trade day (or later), on an open day, at a NAV its method allows."""
    if status is not OrderStatus.PENDING:
        raise OrderRuleError(f"the order is {status.value}; only pending orders execute", "OrderNotPending")
    if closed_through is not None and day <= closed_through:
        raise OrderRuleError(f"{day.isoformat()} is closed; nothing executes on it", "DayClosed")
    if day < trade_day:
        raise OrderRuleError(f"the order trades on {trade_day.isoformat()}, not before", "BeforeTradeDay")
    if method is ExecutionMethod.UNKNOWN_NAVS and nav_published_at <= received_at:
        raise OrderRuleError(
            "forward pricing: the NAV was published before the order was received", "NavKnownAtReceipt"
        )


def forward_priced(method: ExecutionMethod, received_at: datetime, nav_published_at: datetime) -> bool:
    """Whether a NAV may price an order: under unknownNAVs only one published after its receipt."""
    return method is not ExecutionMethod.UNKNOWN_NAVS or nav_published_at > received_at


def check_cancel(status: OrderStatus, funded: bool = False) -> None:
    if status is not OrderStatus.PENDING:
        raise OrderRuleError(
            f"the order is {status.value}; only pending orders can be canceled", "OrderNotCancelable"
        )
    if funded:
        raise OrderRuleError(
            "the funds of this deposit order were received; it can no longer be canceled",
            "OrderNotCancelable",
        )


def check_correction(
    status: OrderStatus, execution_day: date | None, booking_day: date, closed_through: date | None
) -> None:
    """A correction applies to an executed order and is booked on an open day."""
    if status is not OrderStatus.EXECUTED or execution_day is None:
        raise OrderRuleError(
            f"the order is {status.value}; only executed orders are corrected", "OrderNotExecuted"
        )
    if closed_through is not None and booking_day <= closed_through:
        raise OrderRuleError(
            f"a correction is booked on an open day, and {booking_day.isoformat()} is closed", "DayClosed"
        )


def check_nav_day(day: date, today: date, closed_through: date | None) -> None:
    """A NAV is published for an open day that has come."""
    if day > today:
        raise OrderRuleError(
            f"{day.isoformat()} is in the future (today is {today.isoformat()}); "
            "its NAV cannot be published yet",
            "NavInTheFuture",
        )
    if closed_through is not None and day <= closed_through:
        raise OrderRuleError(
            f"{day.isoformat()} is closed (closed through {closed_through.isoformat()}); "
            "its NAV no longer changes",
            "DayClosed",
        )
