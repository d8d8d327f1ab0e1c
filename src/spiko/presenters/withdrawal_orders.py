"""Withdrawal Orders (reference tag "Withdrawal Orders"): an order and the quantity it asked for."""

from __future__ import annotations

from typing import Literal, TypedDict

from spiko.db.models.orders import WithdrawalOrder
from spiko.errors import InvariantError
from spiko.presenters.formats import Money, money, plain_decimal, timestamp


class DestinationBody(TypedDict):
    type: str
    bankAccountId: str


class ByAmountBody(TypedDict):
    mode: Literal["amount"]
    amount: Money


class BySharesBody(TypedDict):
    mode: Literal["shares"]
    shares: str


class TotalBody(TypedDict):
    mode: Literal["total"]


QuantityBody = ByAmountBody | BySharesBody | TotalBody


class WithdrawalOrderBody(TypedDict):
    id: str
    investorId: str
    accountId: str
    shareClassId: str
    destination: DestinationBody
    quantity: QuantityBody
    status: str
    createdAt: str
    executedAt: str | None
    canceledAt: str | None


def quantity(order: WithdrawalOrder) -> QuantityBody:
    """The order's quantity as the investor asked for it."""
    if order.quantity_mode == "amount":
        if order.requested_amount is None:
            raise InvariantError(f"withdrawal order {order.id} by amount has no amount")
        return {"mode": "amount", "amount": money(order.requested_amount, order.currency)}
    if order.quantity_mode == "shares":
        if order.requested_shares is None:
            raise InvariantError(f"withdrawal order {order.id} by shares has no shares")
        return {"mode": "shares", "shares": plain_decimal(order.requested_shares)}
    return {"mode": "total"}


def withdrawal_order(order: WithdrawalOrder) -> WithdrawalOrderBody:
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "destination": {"type": order.destination_type, "bankAccountId": order.bank_account_id},
        "quantity": quantity(order),
        "status": order.status,
        "createdAt": timestamp(order.created_at),
        "executedAt": timestamp(order.executed_at),
        "canceledAt": timestamp(order.canceled_at),
    }
