"""Subscription Orders (deprecated; reference tag "Subscription Orders (deprecated)").

The same deposit orders as /deposit-orders, in the older shape.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from spiko.api.deps import CurrentPrincipal, Idempotent, ReadSession, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.api.v1.deposit_orders import CreateDirectDebit, create_direct_debit_order, subscription_words
from spiko.api.v1.inputs import AmountIn, StrictModel, parse_amount
from spiko.presenters.subscription_orders import SubscriptionOrderBody, subscription_order
from spiko.services import deposits as service
from spiko.services import orders

router = APIRouter(tags=["Subscription Orders (deprecated)"], route_class=PresentedRoute)


class CreateSubscription(StrictModel):
    amount: AmountIn
    shareClassId: uuid.UUID
    accountId: uuid.UUID


@router.post(
    "/subscription-orders",
    operation_id="subscriptionOrders.createSubscriptionOrder",
    summary="Create a new subscription order",
    description="**Deprecated - use deposit endpoints instead.** Creates a deposit order paid by wire.",
    deprecated=True,
)
def create_subscription_order(
    body: CreateSubscription, principal: CurrentPrincipal, idem: Idempotent
) -> JSONResponse:
    amount = parse_amount(body.amount, ["amount"])

    def action(session: Session) -> SubscriptionOrderBody:
        with subscription_words():
            order = service.create_deposit(
                session,
                investor_id=principal.investor_id,
                account_id=str(body.accountId),
                share_class_id=str(body.shareClassId),
                amount=amount,
                currency=body.amount.currency,
            )
        return subscription_order(order, orders.share_class(session, order.share_class_id))

    return idem.run(body, action)


@router.get(
    "/subscription-orders",
    operation_id="subscriptionOrders.getSubscriptionOrders",
    summary="Get list of an investor's subscription orders",
    description="**Deprecated - use deposit endpoints instead.**",
    deprecated=True,
)
def list_subscription_orders(
    principal: CurrentPrincipal,
    session: ReadSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
    status: Literal["pending", "executed", "canceled"] | None = None,
) -> list[SubscriptionOrderBody]:
    owner = check_investor_param(principal, str(investor_id))
    return [
        subscription_order(order, orders.share_class(session, order.share_class_id))
        for order in service.list_deposits(session, owner, status)
    ]


@router.post(
    "/subscription-orders/direct-debit",
    operation_id="subscriptionOrders.createSubscriptionOrderByDirectDebit",
    summary="Create a new subscription order via SEPA Direct Debit",
    description="**Deprecated - use deposit endpoints instead.**",
    deprecated=True,
)
def create_subscription_by_direct_debit(
    body: CreateDirectDebit, principal: CurrentPrincipal, idem: Idempotent
) -> JSONResponse:
    return idem.run(
        body,
        lambda session: create_direct_debit_order(
            session, principal.investor_id, body, wording="Subscription"
        ),
    )


@router.get(
    "/subscription-orders/{subscriptionOrderId}",
    operation_id="subscriptionOrders.getSubscriptionOrder",
    summary="Get subscription order",
    description="**Deprecated - use deposit endpoints instead.**",
    deprecated=True,
)
def get_subscription_order(
    principal: CurrentPrincipal,
    session: ReadSession,
    subscription_order_id: Annotated[str, Path(alias="subscriptionOrderId")],
) -> SubscriptionOrderBody:
    order = service.get_deposit(session, subscription_order_id, principal.investor_id)
    return subscription_order(order, orders.share_class(session, order.share_class_id))
