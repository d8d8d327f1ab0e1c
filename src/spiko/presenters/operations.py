"""What the operators' commands print: an execution run and a walk of the sandbox clock."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from spiko.presenters.formats import amount_text, decimal_text, shares_text
from spiko.services.execution import ExecutedDeposit, ExecutedWithdrawal, ExecutionSummary
from spiko.services.sandbox import SandboxDay


class ExecutedDepositBody(TypedDict):
    id: str
    wireReference: str
    shareClass: str
    amount: str
    currency: str
    nav: str
    shares: str


class ExecutedWithdrawalBody(TypedDict):
    id: str
    shareClass: str
    shares: str
    nav: str
    amount: str
    currency: str


class ExecutionSummaryBody(TypedDict):
    day: str
    depositsExecuted: int
    withdrawalsExecuted: int
    deposits: list[ExecutedDepositBody]
    withdrawals: list[ExecutedWithdrawalBody]
    waitingForNav: list[str]


class PublishedNavBody(TypedDict):
    shareClass: str
    value: str


class SandboxDayBody(TypedDict):
    day: str
    navsPublished: list[PublishedNavBody]
    ratesPublished: int
    depositsFunded: list[str]
    execution: ExecutionSummaryBody


class SandboxWalkBody(TypedDict):
    today: str | None
    days: int
    navsPublished: int
    depositsFunded: int
    ordersExecuted: int
    steps: list[SandboxDayBody]


def _deposit(executed: ExecutedDeposit) -> ExecutedDepositBody:
    order, share_class = executed.order, executed.share_class
    return {
        "id": order.id,
        "wireReference": order.wire_reference,
        "shareClass": share_class.symbol,
        "amount": amount_text(order.amount, order.currency),
        "currency": order.currency,
        "nav": decimal_text(executed.nav, share_class.nav_decimals),
        "shares": shares_text(order.shares or Decimal(0), share_class.share_decimals),
    }


def _withdrawal(executed: ExecutedWithdrawal) -> ExecutedWithdrawalBody:
    order, share_class = executed.order, executed.share_class
    return {
        "id": order.id,
        "shareClass": share_class.symbol,
        "shares": shares_text(order.shares or Decimal(0), share_class.share_decimals),
        "nav": decimal_text(executed.nav, share_class.nav_decimals),
        "amount": amount_text(order.amount or Decimal(0), order.currency),
        "currency": order.currency,
    }


def execution_summary(summary: ExecutionSummary) -> ExecutionSummaryBody:
    return {
        "day": summary.day.isoformat(),
        "depositsExecuted": len(summary.deposits),
        "withdrawalsExecuted": len(summary.withdrawals),
        "deposits": [_deposit(executed) for executed in summary.deposits],
        "withdrawals": [_withdrawal(executed) for executed in summary.withdrawals],
        "waitingForNav": summary.waiting_for_nav,
    }


def sandbox_day(step: SandboxDay) -> SandboxDayBody:
    return {
        "day": step.day.isoformat(),
        "navsPublished": [
            {"shareClass": share_class.symbol, "value": decimal_text(nav.value, share_class.nav_decimals)}
            for share_class, nav in step.navs
        ],
        "ratesPublished": step.rates_published,
        "depositsFunded": [order.wire_reference for order in step.funded],
        "execution": execution_summary(step.execution),
    }


def sandbox_walk(steps: list[SandboxDayBody]) -> SandboxWalkBody:
    return {
        "today": steps[-1]["day"] if steps else None,
        "days": len(steps),
        "navsPublished": sum(len(step["navsPublished"]) for step in steps),
        "depositsFunded": sum(len(step["depositsFunded"]) for step in steps),
        "ordersExecuted": sum(
            step["execution"]["depositsExecuted"] + step["execution"]["withdrawalsExecuted"] for step in steps
        ),
        "steps": steps,
    }
