"""Deposit Orders (reference tag "Deposit Orders"): cash in, by wire or SEPA direct debit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from spiko.api.deps import CurrentPrincipal, Idempotent, ReadSession, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.api.v1.inputs import AmountIn, StrictModel, parse_amount
from spiko.errors import (
    ApplicationError,
    DepositNotAllowedError,
    HttpApiDecodeError,
    SubscriptionNotAllowedError,
)
from spiko.presenters import deposit_orders as present
from spiko.presenters.deposit_orders import DepositOrderBody, DirectDebitBody
from spiko.services import deposits as service
from spiko.services import orders

router = APIRouter(tags=["Deposit Orders"], route_class=PresentedRoute)

DepositStatus = Literal["pending", "executed", "canceled"]


class CreateDeposit(StrictModel):
    accountId: uuid.UUID
    shareClassId: uuid.UUID
    amount: AmountIn


class CreateDirectDebit(StrictModel):
    amount: AmountIn
    shareClassId: uuid.UUID
    accountId: uuid.UUID
    bankAccountId: uuid.UUID


@contextmanager
def subscription_words() -> Iterator[None]:
    """The deprecated subscription routes speak of subscriptions where the services speak of
    deposits: their refusals are renamed here, at the edge."""
    try:
        yield
    except DepositNotAllowedError as error:
        raise SubscriptionNotAllowedError(
            error.fields["shareClassId"], error.fields["shareClassSymbol"]
        ) from error
    except ApplicationError as error:
        code = error.fields.get("customErrorCode")
        reason = str(error.fields["reason"]).replace("deposit", "subscription")
        renamed = code.replace("Deposit", "Subscription") if isinstance(code, str) else None
        raise ApplicationError(reason, renamed) from error


def create_direct_debit_order(
    session: Session, investor_id: str, body: CreateDirectDebit, *, wording: str
) -> DirectDebitBody:
    """Direct debits answer rule violations as decode errors: the reference documents no other 400."""
    amount = parse_amount(body.amount, ["amount"])
    share_class_id = str(body.shareClassId)
    try:
        if orders.share_class(session, share_class_id).currency != "EUR":
            raise ApplicationError("SEPA direct debits collect EUR only", "CurrencyNotSupported")
        with subscription_words() if wording == "Subscription" else nullcontext():
            order = service.create_deposit(
                session,
                investor_id=investor_id,
                account_id=str(body.accountId),
                share_class_id=share_class_id,
                amount=amount,
                currency=body.amount.currency,
                method="direct-debit",
                bank_account_id=str(body.bankAccountId),
            )
    except ApplicationError as error:
        code = error.fields.get("customErrorCode")
        path: list[str | int] = ["shareClassId"] if code == "CurrencyNotSupported" else ["amount", "value"]
        raise HttpApiDecodeError.single(path, str(error.fields["reason"]), "Refinement") from None
    return present.direct_debit(order)


@router.post(
    "/deposit-orders",
    operation_id="depositOrders.createDepositOrder",
    summary="Create a new deposit order",
    description="Create a deposit order and return wire instructions; the wire must carry "
    "`wireInstructions.reference` so the incoming funds can be matched.",
)
def create_deposit_order(body: CreateDeposit, principal: CurrentPrincipal, idem: Idempotent) -> JSONResponse:
    amount = parse_amount(body.amount, ["amount"])

    def action(session: Session) -> present.CreatedDepositOrderBody:
        order = service.create_deposit(
            session,
            investor_id=principal.investor_id,
            account_id=str(body.accountId),
            share_class_id=str(body.shareClassId),
            amount=amount,
            currency=body.amount.currency,
        )
        return present.created_deposit_order(order, orders.share_class(session, order.share_class_id))

    return idem.run(body, action)


@router.get(
    "/deposit-orders",
    operation_id="depositOrders.getDepositOrders",
    summary="Get list of an investor's deposit orders",
    description="All deposit orders of the investor, newest first, with an optional status filter.",
)
def list_deposit_orders(
    principal: CurrentPrincipal,
    session: ReadSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
    status: DepositStatus | None = None,
) -> list[DepositOrderBody]:
    owner = check_investor_param(principal, str(investor_id))
    return [present.deposit_order(order) for order in service.list_deposits(session, owner, status)]


@router.post(
    "/deposit-orders/direct-debit",
    operation_id="depositOrders.createDepositOrderByDirectDebit",
    summary="Create a new deposit order via SEPA Direct Debit",
    description="Create a SEPA Direct Debit collection (EUR share classes) from one of the investor's "
    "bank accounts, scheduled for the next business day.",
)
def create_direct_debit(
    body: CreateDirectDebit, principal: CurrentPrincipal, idem: Idempotent
) -> JSONResponse:
    return idem.run(
        body,
        lambda session: create_direct_debit_order(session, principal.investor_id, body, wording="Deposit"),
    )


@router.post(
    "/deposit-orders/{depositOrderId}/cancel",
    operation_id="depositOrders.cancelDepositOrder",
    summary="Cancel a deposit order",
    description="Cancel a pending deposit order. Only orders in pending status can be canceled. "
    "If funds have already been received, cancelling the deposit order will fail.",
)
def cancel_deposit_order(
    principal: CurrentPrincipal,
    idem: Idempotent,
    deposit_order_id: Annotated[str, Path(alias="depositOrderId")],
) -> JSONResponse:
    return idem.run(
        None,
        lambda session: present.deposit_order(
            service.cancel_deposit(session, deposit_order_id, principal.investor_id)
        ),
    )


@router.get(
    "/deposit-orders/{depositOrderId}",
    operation_id="depositOrders.getDepositOrder",
    summary="Get deposit order",
    description="Get info of a specific deposit order by its ID",
)
def get_deposit_order(
    principal: CurrentPrincipal,
    session: ReadSession,
    deposit_order_id: Annotated[str, Path(alias="depositOrderId")],
) -> DepositOrderBody:
    return present.deposit_order(service.get_deposit(session, deposit_order_id, principal.investor_id))
