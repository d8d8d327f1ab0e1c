"""Subscription Orders (deprecated): deposit orders in the older shape."""

from __future__ import annotations

from typing import TypedDict

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import DepositOrder
from spiko.presenters.formats import Money, money, shares_text, timestamp


class SubscriptionOrderBody(TypedDict):
    id: str
    investorId: str
    amount: Money
    amountInShareClassCurrency: Money
    sharesAmount: str | None
    accountId: str
    shareClassId: str
    wireReference: str
    createdAt: str
    executedAt: str | None
    canceledAt: str | None
    status: str
    shareClassAccountId: str
    custodialAccountId: str


def subscription_order(order: DepositOrder, share_class: ShareClass) -> SubscriptionOrderBody:
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "amount": money(order.amount, order.currency),
        "amountInShareClassCurrency": money(order.amount, order.currency),
        "sharesAmount": shares_text(order.shares, share_class.share_decimals),
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "wireReference": order.wire_reference,
        "createdAt": timestamp(order.created_at),
        "executedAt": timestamp(order.executed_at),
        "canceledAt": timestamp(order.canceled_at),
        "status": order.status,
        # Deprecated identifiers of the (account, share class) pair: the account's id stands in.
        "shareClassAccountId": order.account_id,
        "custodialAccountId": order.account_id,
    }
