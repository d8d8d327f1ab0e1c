"""Redemption Orders (deprecated; reference tag "Redemption Orders (deprecated)").

Redemptions are withdrawal orders by amount, shown in the older shape; instant redemptions are
paid at once at the latest published NAV.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from spiko.api.deps import CurrentPrincipal, Idempotent, ReadSession, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.api.v1.inputs import AmountIn, StrictModel, parse_amount
from spiko.presenters.redemption_orders import (
    InstantRedemptionOrderBody,
    RedemptionOrderBody,
    instant_redemption_order,
    redemption_order,
)
from spiko.services import orders
from spiko.services import withdrawals as service
from spiko.services.identity import get_investor

router = APIRouter(tags=["Redemption Orders (deprecated)"], route_class=PresentedRoute)


class CreateRedemption(StrictModel):
    accountId: uuid.UUID
    shareClassId: uuid.UUID
    amount: AmountIn
    bankAccountId: uuid.UUID


@router.post(
    "/redemption-orders",
    operation_id="redemptionOrders.createRedemptionOrder",
    summary="Create a new redemption order",
    description="**Deprecated - use withdrawal endpoints instead.** A withdrawal order by amount.",
    deprecated=True,
)
def create_redemption_order(
    body: CreateRedemption, principal: CurrentPrincipal, idem: Idempotent
) -> JSONResponse:
    amount = parse_amount(body.amount, ["amount"])

    def action(session: Session) -> RedemptionOrderBody:
        order = service.create_withdrawal(
            session,
            investor_id=principal.investor_id,
            account_id=str(body.accountId),
            share_class_id=str(body.shareClassId),
            bank_account_id=str(body.bankAccountId),
            mode="amount",
            amount=amount,
            currency=body.amount.currency,
            origin="redemption",
        )
        return redemption_order(order, orders.share_class(session, order.share_class_id))

    return idem.run(body, action)


@router.get(
    "/redemption-orders",
    operation_id="redemptionOrders.getRedemptionOrders",
    summary="Get list of an investor's redemption orders",
    description="**Deprecated - use withdrawal endpoints instead.** Withdrawal orders, in the older shape.",
    deprecated=True,
)
def list_redemption_orders(
    principal: CurrentPrincipal,
    session: ReadSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
    status: Literal["pending", "executed", "canceled"] | None = None,
) -> list[RedemptionOrderBody]:
    owner = check_investor_param(principal, str(investor_id))
    return [
        redemption_order(order, orders.share_class(session, order.share_class_id))
        for order in service.list_withdrawals(session, owner, status)
    ]


@router.post(
    "/redemption-orders/instant",
    operation_id="redemptionOrders.createInstantRedemptionOrder",
    summary="Create a new instant redemption order",
    description="**Deprecated - use withdrawal endpoints instead.** Paid at once at the latest published "
    "NAV; organizations only.",
    deprecated=True,
)
def create_instant_redemption_order(
    body: CreateRedemption, principal: CurrentPrincipal, idem: Idempotent
) -> JSONResponse:
    amount = parse_amount(body.amount, ["amount"])

    def action(session: Session) -> InstantRedemptionOrderBody:
        order = service.create_instant_redemption(
            session,
            investor_id=principal.investor_id,
            investor_type=get_investor(session, principal.investor_id).type,
            account_id=str(body.accountId),
            share_class_id=str(body.shareClassId),
            bank_account_id=str(body.bankAccountId),
            amount=amount,
            currency=body.amount.currency,
        )
        return instant_redemption_order(order)

    return idem.run(body, action)


@router.get(
    "/redemption-orders/{redemptionOrderId}",
    operation_id="redemptionOrders.getRedemptionOrder",
    summary="Get redemption order",
    description="**Deprecated - use withdrawal endpoints instead.**",
    deprecated=True,
)
def get_redemption_order(
    principal: CurrentPrincipal,
    session: ReadSession,
    redemption_order_id: Annotated[str, Path(alias="redemptionOrderId")],
) -> RedemptionOrderBody:
    order = service.get_withdrawal(session, redemption_order_id, principal.investor_id)
    return redemption_order(order, orders.share_class(session, order.share_class_id))
