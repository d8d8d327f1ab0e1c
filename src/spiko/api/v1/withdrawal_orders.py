"""Withdrawal Orders (reference tag "Withdrawal Orders"): shares out, paid to the investor's bank account."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session

from spiko.api.deps import Context, CurrentPrincipal, DbSession, check_investor_param
from spiko.api.v1.order_shapes import (
    AmountIn,
    IdempotencyKeyHeader,
    StrictModel,
    idempotent_response,
    parse_amount,
    parse_shares,
    withdrawal_body,
)
from spiko.errors import BadRequestError
from spiko.services import withdrawals as service

router = APIRouter(tags=["Withdrawal Orders"])


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
    body: CreateWithdrawal,
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    if isinstance(body.destination, StablecoinTransfer):
        raise BadRequestError(
            "withdrawals are paid by bank transfer only; stablecoin transfers are not available"
        )
    destination = body.destination
    quantity = body.quantity
    amount = parse_amount(quantity.amount, ["quantity", "amount"]) if isinstance(quantity, ByAmount) else None
    shares = parse_shares(quantity.shares, ["quantity", "shares"]) if isinstance(quantity, ByShares) else None

    def action(session: Session) -> dict[str, Any]:
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
        return withdrawal_body(order)

    return idempotent_response(ctx, request, principal, idempotency_key, body.model_dump(mode="json"), action)


@router.get(
    "/withdrawal-orders",
    operation_id="withdrawalOrders.getWithdrawalOrders",
    summary="Get list of an investor's withdrawal orders",
    description="All withdrawal orders of the investor, newest first, with an optional status filter.",
)
def list_withdrawal_orders(
    principal: CurrentPrincipal,
    session: DbSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
    status: Literal["pending", "executed", "canceled"] | None = None,
) -> list[dict[str, Any]]:
    owner = check_investor_param(principal, str(investor_id))
    return [withdrawal_body(order) for order in service.list_withdrawals(session, owner, status)]


@router.post(
    "/withdrawal-orders/{withdrawalOrderId}/cancel",
    operation_id="withdrawalOrders.cancelWithdrawalOrder",
    summary="Cancel a withdrawal order",
    description="Cancel a pending withdrawal order. Only orders in pending status can be canceled.",
)
def cancel_withdrawal_order(
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    withdrawal_order_id: Annotated[str, Path(alias="withdrawalOrderId")],
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return idempotent_response(
        ctx,
        request,
        principal,
        idempotency_key,
        None,
        lambda session: withdrawal_body(
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
    session: DbSession,
    withdrawal_order_id: Annotated[str, Path(alias="withdrawalOrderId")],
) -> dict[str, Any]:
    return withdrawal_body(service.get_withdrawal(session, withdrawal_order_id, principal.investor_id))
