"""Transfer Orders (reference tag "Transfer Orders"): shares moved between two accounts of the investor."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session

from spiko.api.deps import CurrentPrincipal, Idempotent, ReadSession, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.api.v1.inputs import AmountIn, StrictModel, parse_amount, parse_shares
from spiko.presenters.transfer_orders import TransferOrderBody, transfer_order
from spiko.services import orders
from spiko.services import transfers as service

router = APIRouter(tags=["Transfer Orders"], route_class=PresentedRoute)

TransferStatus = Literal["pending", "executed", "failed", "canceled"]


class TransferTotal(StrictModel):
    type: Literal["total"]


class TransferShares(StrictModel):
    type: Literal["in-shares"]
    sharesAmount: str


class TransferAmount(StrictModel):
    type: Literal["in-amount"]
    amount: AmountIn


class CreateTransfer(StrictModel):
    investorId: uuid.UUID
    fromAccountId: uuid.UUID
    toAccountId: uuid.UUID
    shareClassId: uuid.UUID
    transferAmount: Annotated[TransferTotal | TransferShares | TransferAmount, Field(discriminator="type")]


@router.post(
    "/transfer-orders",
    operation_id="transferOrders.createTransferOrder",
    summary="Create a new transfer order",
    description="Create a transfer order between two accounts owned by the investor; the shares move at "
    "once, valued at the latest published NAV.",
)
def create_transfer_order(
    body: CreateTransfer, principal: CurrentPrincipal, idem: Idempotent
) -> JSONResponse:
    investor_id = check_investor_param(principal, str(body.investorId))
    quantity = body.transferAmount
    shares = (
        parse_shares(quantity.sharesAmount, ["transferAmount", "sharesAmount"])
        if isinstance(quantity, TransferShares)
        else None
    )
    amount = (
        parse_amount(quantity.amount, ["transferAmount", "amount"])
        if isinstance(quantity, TransferAmount)
        else None
    )

    def action(session: Session) -> TransferOrderBody:
        order = service.create_transfer(
            session,
            investor_id=investor_id,
            from_account_id=str(body.fromAccountId),
            to_account_id=str(body.toAccountId),
            share_class_id=str(body.shareClassId),
            mode=quantity.type,
            shares=shares,
            amount=amount,
            currency=quantity.amount.currency if isinstance(quantity, TransferAmount) else None,
        )
        return transfer_order(order, orders.share_class(session, order.share_class_id))

    return idem.run(body, action)


@router.get(
    "/transfer-orders",
    operation_id="transferOrders.getTransferOrders",
    summary="Get list of an investor's transfer orders",
    description="All transfer orders of the investor, newest first; `status` may be repeated.",
)
def list_transfer_orders(
    principal: CurrentPrincipal,
    session: ReadSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
    status: Annotated[list[TransferStatus] | None, Query()] = None,
) -> list[TransferOrderBody]:
    owner = check_investor_param(principal, str(investor_id))
    return [
        transfer_order(order, orders.share_class(session, order.share_class_id))
        for order in service.list_transfers(session, owner, status)
    ]


@router.get(
    "/transfer-orders/{transferOrderId}",
    operation_id="transferOrders.getTransferOrder",
    summary="Get transfer order",
    description="Get info of a specific transfer order by its ID",
)
def get_transfer_order(
    principal: CurrentPrincipal,
    session: ReadSession,
    transfer_order_id: Annotated[str, Path(alias="transferOrderId")],
) -> TransferOrderBody:
    order = service.get_transfer(session, transfer_order_id, principal.investor_id)
    return transfer_order(order, orders.share_class(session, order.share_class_id))
