"""Transfer orders: shares moved at once between two accounts of the same investor.

The move is valued at the latest NAV published on or before today; the shares leave one account
and enter the other in the same transaction, so the investor's total never changes. An amount
moves the shares it buys, rounded down (never more value than asked for); a move worth less than
one minor unit is refused. The shares carry their average cost from one account to the other
(recorded on both ledger rows), so a move between one's own accounts realizes no gain.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.orders import Account, TransferOrder
from spiko.domain.money import (
    amount_for_shares,
    decimals_of,
    format_amount,
    minor_units,
    shares_for_amount,
)
from spiko.domain.positions import cost_removed
from spiko.errors import BadRequestError, InsufficientBalanceError
from spiko.outbox import snapshots
from spiko.services import orders, reference, register
from spiko.services.execution import record_movement
from spiko.services.reporting import positions as position_store

TRANSFER_STATUSES = ("pending", "executed", "failed", "canceled")


def create_transfer(
    session: Session,
    *,
    investor_id: str,
    from_account_id: str,
    to_account_id: str,
    share_class_id: str,
    mode: str,
    shares: Decimal | None = None,
    amount: Decimal | None = None,
    currency: str | None = None,
    day: date | None = None,
) -> TransferOrder:
    source = orders.owned(session, Account, from_account_id, investor_id, "Account")
    target = orders.owned(session, Account, to_account_id, investor_id, "Account")
    share_class = orders.share_class(session, share_class_id)
    if source.id == target.id:
        raise BadRequestError("a transfer needs two different accounts")
    today = register.booking_day(session, share_class.fund_id, day or orders.today(session))
    orders.lock_accounts(session, source.id, target.id)
    available = orders.available(session, source.id, share_class.id)
    latest = reference.latest_nav(session, share_class.id, on_or_before=today)
    if latest is None:
        raise BadRequestError(
            f"no NAV of {share_class.symbol} is published yet: the transfer cannot be valued"
        )
    decimals = share_class.share_decimals
    if available <= 0:
        raise InsufficientBalanceError.empty_account()
    if mode == "total":
        moved = available
    elif mode == "in-shares":
        if shares is None:
            raise BadRequestError("a transfer in shares needs a number of shares")
        if shares <= 0 or decimals_of(shares) > decimals:
            raise BadRequestError(f"sharesAmount must be positive with at most {decimals} decimals")
        if shares > available:
            raise InsufficientBalanceError.shares(shares, available, decimals)
        moved = shares
    elif mode == "in-amount":
        if amount is None or currency is None:
            raise BadRequestError("a transfer in amount needs an amount and its currency")
        if currency != share_class.currency:
            raise BadRequestError(f"{share_class.symbol} is valued in {share_class.currency}, not {currency}")
        if decimals_of(amount) > minor_units(currency):
            raise BadRequestError(f"a {currency} amount has at most {minor_units(currency)} decimals")
        if amount <= 0:
            raise BadRequestError("the amount to transfer must be positive")
        worth = amount_for_shares(available, latest.value, currency)
        if amount > worth:
            raise InsufficientBalanceError.amount(amount, worth, currency)
        moved = shares_for_amount(amount, latest.value, decimals)
        if moved <= 0:
            raise BadRequestError("the amount is worth less than one fraction of a share")
    else:
        raise BadRequestError(f"unknown transfer amount type {mode!r}")
    value = amount_for_shares(moved, latest.value, share_class.currency)
    if value <= 0:
        smallest = format_amount(Decimal(1).scaleb(-minor_units(share_class.currency)), share_class.currency)
        raise BadRequestError(
            f"these shares are worth less than {smallest} {share_class.currency}: nothing to transfer"
        )
    (source_position,) = position_store.account_positions(session, source.id, share_class, today, today)
    carried = cost_removed(
        source_position.position.cost_basis,
        moved,
        source_position.position.shares,
        minor_units(share_class.currency),
    )
    executed_at = orders.received_at(session, today)
    order = TransferOrder(
        investor_id=investor_id,
        from_account_id=source.id,
        to_account_id=target.id,
        share_class_id=share_class.id,
        quantity_mode=mode,
        shares=moved,
        amount=value,
        currency=share_class.currency,
        nav=latest.value,
        nav_day=latest.day,
        status="executed",
        created_at=executed_at,
        day=today,
        executed_at=executed_at,
    )
    session.add(order)
    session.flush()
    for account, kind, signed in ((source, "transfer_out", -moved), (target, "transfer_in", moved)):
        record_movement(
            session,
            investor_id=investor_id,
            account_id=account.id,
            share_class=share_class,
            kind=kind,
            order_id=order.id,
            day=today,
            executed_at=executed_at,
            shares=signed,
            amount=value,
            nav=latest.value,
            cost=carried,
        )
    session.flush()
    snapshots.transfer_order(session, ("created", "executed"), order, share_class)
    return order


def list_transfers(
    session: Session, investor_id: str, statuses: Sequence[str] | None = None
) -> list[TransferOrder]:
    query = select(TransferOrder).where(TransferOrder.investor_id == investor_id)
    if statuses:
        query = query.where(TransferOrder.status.in_(statuses))
    return list(session.scalars(query.order_by(TransferOrder.created_at.desc(), TransferOrder.id)))


def get_transfer(session: Session, transfer_id: str, investor_id: str) -> TransferOrder:
    return orders.owned(session, TransferOrder, transfer_id, investor_id, "Transfer order")
