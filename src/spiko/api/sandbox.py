"""Sandbox simulations over HTTP: the clock, the bank and the NAV, driven by an integrator's CI.

Mounted only while sandbox mode is on (``SPIKO_SANDBOX_MODE``; ``spiko serve --demo`` turns it
on): otherwise these paths do not exist (404). Authenticated like ``/v1``; an order is acted on
only when it belongs to the caller. The events these simulations cause are recorded and
delivered like any others.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from spiko.api.deps import Context, CurrentPrincipal
from spiko.api.routing import PresentedRoute
from spiko.api.v1.inputs import StrictModel
from spiko.errors import HttpApiDecodeError
from spiko.presenters.deposit_orders import DepositOrderBody, deposit_order
from spiko.presenters.operations import SandboxWalkBody, sandbox_day, sandbox_walk
from spiko.presenters.public import NavBody, nav
from spiko.services import audit, clock, deposits, reference, sandbox

router = APIRouter(prefix="/sandbox", tags=["Sandbox"], route_class=PresentedRoute)

MAX_DAYS = 366


def _actor(principal: CurrentPrincipal) -> str:
    """Who acts in the audit log: the investor driving the sandbox, not an operator."""
    return f"investor:{principal.investor_id}"


class Advance(StrictModel):
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 1


class PublishNav(StrictModel):
    shareClassId: uuid.UUID
    value: Annotated[str, Field(max_length=40)]
    date: dt.date | None = None


@router.post(
    "/advance",
    operation_id="sandbox.advance",
    summary="Walk the sandbox through business days",
    description="For each day: publish grown NAVs, fund every pending deposit, execute what is "
    "executable, book yields. Answers the same summary as `spiko sandbox advance`.",
)
def advance(body: Advance, principal: CurrentPrincipal, ctx: Context) -> SandboxWalkBody:
    steps = []
    # One transaction per day, as `spiko sandbox advance` does: a long walk commits as it goes.
    for _ in range(body.days):
        with ctx.transaction() as session:
            step = sandbox_day(sandbox.advance_one_day(session, ctx.settings.sandbox_annual_rate))
            audit.record(
                session,
                action="sandbox.advance",
                subject=f"day:{step['day']}",
                details={"via": "sandbox API"},
                actor=_actor(principal),
            )
            steps.append(step)
    return sandbox_walk(steps)


@router.post(
    "/deposits/{depositOrderId}/fund",
    operation_id="sandbox.fundDeposit",
    summary="Receive the wire of one of your deposit orders",
)
def fund_deposit(
    principal: CurrentPrincipal,
    ctx: Context,
    deposit_order_id: Annotated[str, Path(alias="depositOrderId", max_length=64)],
) -> DepositOrderBody:
    with ctx.transaction() as session:
        order = deposits.get_deposit(session, deposit_order_id, principal.investor_id)
        funded = deposits.fund_deposit(session, reference_text=order.wire_reference)
        audit.record(
            session,
            action="deposit.fund",
            subject=f"deposit_order:{funded.id}",
            details={"via": "sandbox API", "wireReference": funded.wire_reference, "amount": funded.amount},
            actor=_actor(principal),
        )
        return deposit_order(funded)


@router.post(
    "/nav",
    operation_id="sandbox.publishNav",
    summary="Publish a NAV",
    description="The NAV of a share class for `date` (default: the sandbox's today), a business day "
    "of its fund.",
)
def publish_nav(body: PublishNav, principal: CurrentPrincipal, ctx: Context) -> NavBody:
    try:
        value = Decimal(body.value)
    except InvalidOperation:
        raise HttpApiDecodeError.single(["value"], "value must be a decimal number", "Refinement") from None
    if not value.is_finite():
        raise HttpApiDecodeError.single(["value"], "value must be a decimal number", "Refinement")
    with ctx.transaction() as session:
        day = body.date or clock.today(session)
        share_class = reference.get_share_class(session, str(body.shareClassId))
        row = reference.publish_nav(session, share_class.id, day, value)
        audit.record(
            session,
            action="nav.publish",
            subject=f"share_class:{share_class.symbol}",
            details={"via": "sandbox API", "navId": row.id, "day": row.day, "value": row.value},
            actor=_actor(principal),
        )
        return nav(share_class, row)
