"""Redemption Orders (deprecated): withdrawal orders by amount in the older shape, and instant ones."""

from __future__ import annotations

from typing import Literal, TypedDict

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import WithdrawalOrder
from spiko.errors import InvariantError
from spiko.presenters.formats import Money, money, shares_text, timestamp


class BankTransferBody(TypedDict):
    type: Literal["bank-transfer"]
    bankAccountId: str


class RedemptionOrderBody(TypedDict):
    id: str
    investorId: str
    accountId: str
    shareClassId: str
    sharesAmount: str | None
    amount: Money | None
    amountInShareClassCurrency: Money | None
    destination: BankTransferBody
    createdAt: str
    executedAt: str | None
    status: str
    shareClassAccountId: str
    custodialAccountId: str


class InstantRedemptionOrderBody(TypedDict):
    id: str
    investorId: str
    accountId: str
    shareClassId: str
    amount: Money
    createdAt: str
    destination: BankTransferBody
    status: str


def redemption_order(order: WithdrawalOrder, share_class: ShareClass) -> RedemptionOrderBody:
    if order.status == "executed":
        shares, amount = order.shares, order.amount
    else:
        shares, amount = order.requested_shares, order.requested_amount
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "sharesAmount": shares_text(shares, share_class.share_decimals),
        "amount": money(amount, order.currency) if amount is not None else None,
        "amountInShareClassCurrency": money(amount, order.currency) if amount is not None else None,
        "destination": {"type": "bank-transfer", "bankAccountId": order.bank_account_id},
        "createdAt": timestamp(order.created_at),
        "executedAt": timestamp(order.executed_at),
        "status": order.status,
        "shareClassAccountId": order.account_id,
        "custodialAccountId": order.account_id,
    }


def instant_redemption_order(order: WithdrawalOrder) -> InstantRedemptionOrderBody:
    paid = order.amount if order.amount is not None else order.requested_amount
    if paid is None:
        raise InvariantError(f"instant redemption {order.id} has no amount")
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "amount": money(paid, order.currency),
        "createdAt": timestamp(order.created_at),
        "destination": {"type": "bank-transfer", "bankAccountId": order.bank_account_id},
        "status": "executed" if order.status == "executed" else "created",
    }
