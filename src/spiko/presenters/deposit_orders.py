"""Deposit Orders (reference tag "Deposit Orders"): an order, its wire instructions, a direct debit."""

from __future__ import annotations

from typing import TypedDict

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import DepositOrder
from spiko.errors import InvariantError
from spiko.presenters.formats import Money, money, timestamp


class DepositOrderBody(TypedDict):
    id: str
    investorId: str
    accountId: str
    shareClassId: str
    amount: Money
    status: str
    wireReference: str
    createdAt: str
    fundedAt: str | None
    executedAt: str | None
    canceledAt: str | None


class WireInstructionsBody(TypedDict):
    reference: str
    iban: str
    intermediaryBic: str | None
    bic: str
    currency: str


class CreatedDepositOrderBody(TypedDict):
    id: str
    wireInstructions: WireInstructionsBody
    status: str
    createdAt: str


class DirectDebitBody(TypedDict):
    investorId: str
    amount: Money
    shareClassId: str
    accountId: str
    bankAccountId: str
    status: str
    createdAt: str
    scheduledDate: str


def deposit_order(order: DepositOrder) -> DepositOrderBody:
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "amount": money(order.amount, order.currency),
        "status": order.status,
        "wireReference": order.wire_reference,
        "createdAt": timestamp(order.created_at),
        "fundedAt": timestamp(order.funded_at),
        "executedAt": timestamp(order.executed_at),
        "canceledAt": timestamp(order.canceled_at),
    }


def created_deposit_order(order: DepositOrder, share_class: ShareClass) -> CreatedDepositOrderBody:
    return {
        "id": order.id,
        "wireInstructions": {
            "reference": order.wire_reference,
            "iban": share_class.bank_account_number,
            "intermediaryBic": share_class.bank_account_intermediary_bic,
            "bic": share_class.bank_account_bic,
            "currency": share_class.currency,
        },
        "status": "created",
        "createdAt": timestamp(order.created_at),
    }


def direct_debit(order: DepositOrder) -> DirectDebitBody:
    if order.bank_account_id is None or order.scheduled_day is None:
        raise InvariantError(f"deposit order {order.id} is not a direct debit")
    if order.status == "canceled":
        status = "canceled"
    elif order.funded_at is not None:
        status = "confirmed"
    else:
        status = "pending"
    return {
        "investorId": order.investor_id,
        "amount": money(order.amount, order.currency),
        "shareClassId": order.share_class_id,
        "accountId": order.account_id,
        "bankAccountId": order.bank_account_id,
        "status": status,
        "createdAt": timestamp(order.created_at),
        "scheduledDate": order.scheduled_day.isoformat(),
    }
