"""Withdrawal Orders (reference tag "Withdrawal Orders"): shares out, paid to the investor's bank account."""

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
from spiko.errors import BadRequestError
from spiko.presenters import withdrawal_orders as present
from spiko.presenters.withdrawal_orders import WithdrawalOrderBody
from spiko.services import withdrawals as service

router = APIRouter(tags=["Withdrawal Orders"], route_class=PresentedRoute)


class BankTransfer(StrictModel):
    type: Literal["bank-transfer", "instant-bank-transfer"]
    bankAccountId: uuid.UUID


class StablecoinTransfer(StrictModel):
    type: Literal["stablecoin-transfer"]
    walletId: uuid.UUID


class ByAmount(StrictModel):
    mode: Literal["amount"]
    amount: AmountIn


class ByShares(StrictModel):
    mode: Literal["shares"]
    shares: str


class Total(StrictModel):
    mode: Literal["total"]


class CreateWithdrawal(StrictModel):
    accountId: uuid.UUID
    shareClassId: uuid.UUID
    destination: Annotated[BankTransfer | StablecoinTransfer, Field(discriminator="type")]
    quantity: Annotated[ByAmount | ByShares | Total, Field(discriminator="mode")]


@router.post(
    "/withdrawal-orders",
    operation_id="withdrawalOrders.createWithdrawalOrder",
    summary="Create a new withdrawal order",
    description="Create a withdrawal order. `quantity` is `{mode: amount, amount}` (a cash amount), "
    "`{mode: shares, shares}` (a number of shares) or `{mode: total}` (everything available). "
    "The available balance is the holding minus the shares reserved by pending withdrawals; "
    "asking for more answers 400 `InsufficientBalanceError`.",
)
def create_withdrawal_order(
    body: CreateWithdrawal, principal: CurrentPrincipal, idem: Idempotent
) -> JSONResponse:
    if isinstance(body.destination, StablecoinTransfer):
        raise BadRequestError(
            "withdrawals are paid by bank transfer only; stablecoin transfers are not available"
        )
    destination = body.destination
    quantity = body.quantity
    amount = parse_amount(quantity.amount, ["quantity", "amount"]) if isinstance(quantity, ByAmount) else None
    shares = parse_shares(quantity.shares, ["quantity", "shares"]) if isinstance(quantity, ByShares) else None

    def action(session: Session) -> WithdrawalOrderBody:
        order = service.create_withdrawal(
            session,
            investor_id=principal.investor_id,
            account_id=str(body.accountId),
            share_class_id=str(body.shareClassId),
            bank_account_id=str(destination.bankAccountId),
            destination_type=destination.type,
            mode=quantity.mode,
            amount=amount,
            currency=quantity.amount.currency if isinstance(quantity, ByAmount) else None,
            shares=shares,
        )
        return present.withdrawal_order(order)

    return idem.run(body, action)


@router.get(
    "/withdrawal-orders",
    operation_id="withdrawalOrders.getWithdrawalOrders",
    summary="Get list of an investor's withdrawal orders",
    description="All withdrawal orders of the investor, newest first, with an optional status filter.",
)
def list_withdrawal_orders(
    principal: CurrentPrincipal,
    session: ReadSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
    status: Literal["pending", "executed", "canceled"] | None = None,
) -> list[WithdrawalOrderBody]:
    owner = check_investor_param(principal, str(investor_id))
    return [present.withdrawal_order(order) for order in service.list_withdrawals(session, owner, status)]


@router.post(
    "/withdrawal-orders/{withdrawalOrderId}/cancel",
    operation_id="withdrawalOrders.cancelWithdrawalOrder",
    summary="Cancel a withdrawal order",
    description="Cancel a pending withdrawal order. Only orders in pending status can be canceled.",
)
def cancel_withdrawal_order(
    principal: CurrentPrincipal,
    idem: Idempotent,
    withdrawal_order_id: Annotated[str, Path(alias="withdrawalOrderId")],
) -> JSONResponse:
    return idem.run(
        None,
        lambda session: present.withdrawal_order(
            service.cancel_withdrawal(session, withdrawal_order_id, principal.investor_id)
        ),
    )


@router.get(
    "/withdrawal-orders/{withdrawalOrderId}",
    operation_id="withdrawalOrders.getWithdrawalOrder",
    summary="Get withdrawal order",
    description="Get info of a specific withdrawal order by its ID",
)
def get_withdrawal_order(
    principal: CurrentPrincipal,
    session: ReadSession,
    withdrawal_order_id: Annotated[str, Path(alias="withdrawalOrderId")],
) -> WithdrawalOrderBody:
    return present.withdrawal_order(
        service.get_withdrawal(session, withdrawal_order_id, principal.investor_id)
    )
