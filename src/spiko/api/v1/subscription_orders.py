"""Subscription Orders (deprecated; reference tag "Subscription Orders (deprecated)").

The same deposit orders as /deposit-orders, in the older shape.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from spiko.api.deps import Context, CurrentPrincipal, DbSession, check_investor_param
from spiko.api.v1.deposit_orders import CreateDirectDebit, create_direct_debit_order
from spiko.api.v1.order_shapes import (
    AmountIn,
    IdempotencyKeyHeader,
    StrictModel,
    idempotent_response,
    parse_amount,
    subscription_body,
)
from spiko.services import deposits as service

router = APIRouter(tags=["Subscription Orders (deprecated)"])


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
    body: CreateSubscription,
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    amount = parse_amount(body.amount, ["amount"])

    def action(session: Session) -> dict[str, Any]:
        order = service.create_deposit(
            session,
            investor_id=principal.investor_id,
            account_id=str(body.accountId),
            share_class_id=str(body.shareClassId),
            amount=amount,
            currency=body.amount.currency,
            wording="Subscription",
        )
        return subscription_body(session, order)

    return idempotent_response(ctx, request, principal, idempotency_key, body.model_dump(mode="json"), action)


@router.get(
    "/subscription-orders",
    operation_id="subscriptionOrders.getSubscriptionOrders",
    summary="Get list of an investor's subscription orders",
    description="**Deprecated - use deposit endpoints instead.**",
    deprecated=True,
)
def list_subscription_orders(
    principal: CurrentPrincipal,
    session: DbSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
    status: Literal["pending", "executed", "canceled"] | None = None,
) -> list[dict[str, Any]]:
    owner = check_investor_param(principal, str(investor_id))
    return [subscription_body(session, order) for order in service.list_deposits(session, owner, status)]


@router.post(
    "/subscription-orders/direct-debit",
    operation_id="subscriptionOrders.createSubscriptionOrderByDirectDebit",
    summary="Create a new subscription order via SEPA Direct Debit",
    description="**Deprecated - use deposit endpoints instead.**",
    deprecated=True,
)
def create_subscription_by_direct_debit(
    body: CreateDirectDebit,
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return idempotent_response(
        ctx,
        request,
        principal,
        idempotency_key,
        body.model_dump(mode="json"),
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
    session: DbSession,
    subscription_order_id: Annotated[str, Path(alias="subscriptionOrderId")],
) -> dict[str, Any]:
    return subscription_body(
        session, service.get_deposit(session, subscription_order_id, principal.investor_id)
    )
