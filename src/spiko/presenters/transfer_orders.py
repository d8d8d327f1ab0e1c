"""Transfer Orders (reference tag "Transfer Orders"): shares moved between two of the investor's accounts."""

from __future__ import annotations

from typing import TypedDict

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import TransferOrder
from spiko.presenters.formats import Money, money, shares_text, timestamp


class TransferOrderBody(TypedDict):
    id: str
    fromInvestorId: str
    fromAccountId: str
    toInvestorId: str
    toAccountId: str
    shareClassId: str
    amount: Money
    sharesAmount: str
    status: str
    createdAt: str
    executedAt: str | None


def transfer_order(order: TransferOrder, share_class: ShareClass) -> TransferOrderBody:
    return {
        "id": order.id,
        "fromInvestorId": order.investor_id,
        "fromAccountId": order.from_account_id,
        "toInvestorId": order.investor_id,
        "toAccountId": order.to_account_id,
        "shareClassId": order.share_class_id,
        "amount": money(order.amount, order.currency),
        "sharesAmount": shares_text(order.shares, share_class.share_decimals),
        "status": order.status,
        "createdAt": timestamp(order.created_at),
        "executedAt": timestamp(order.executed_at),
    }
