"""Deposit orders: cash in, by wire (with a reference) or by SEPA direct debit.

Lifecycle: created (``pending``, unfunded) -> funded when the incoming payment is recorded
(``spiko deposits fund``; the sandbox funds every pending deposit as it advances) -> executed
at the NAV of the execution day (``services.execution``). A deposit can be canceled only while
pending and unfunded.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account, BankAccount, DepositOrder
from spiko.domain import orders as rules
from spiko.domain.money import decimals_of, format_amount, minor_units
from spiko.errors import (
    ApplicationError,
    CollectionNotCancelableError,
    DepositNotAllowedError,
    NotFoundError,
)
from spiko.outbox import snapshots
from spiko.services import orders, reference, register

# No I or O: a reference is read over the phone and typed into banking apps.
WIRE_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
WIRE_REFERENCE_PREFIX = "SPK"
WIRE_REFERENCE_RANDOM_LENGTH = 9  # 34^9 ≈ 6e13 references
DEPOSIT_STATUSES = ("pending", "executed", "canceled")


def new_wire_reference() -> str:
    return WIRE_REFERENCE_PREFIX + "".join(
        secrets.choice(WIRE_REFERENCE_ALPHABET) for _ in range(WIRE_REFERENCE_RANDOM_LENGTH)
    )


def _unused_wire_reference(session: Session) -> str:
    for _ in range(10):
        candidate = new_wire_reference()
        if session.scalar(select(DepositOrder.id).where(DepositOrder.wire_reference == candidate)) is None:
            return candidate
    raise RuntimeError("could not draw an unused wire reference")


def is_initial_deposit(session: Session, investor_id: str, share_class_id: str) -> bool:
    """An investor's first investment in a share class: it has never held any of its shares."""
    held = session.scalar(
        select(ShareMovement.id)
        .where(ShareMovement.investor_id == investor_id, ShareMovement.share_class_id == share_class_id)
        .limit(1)
    )
    return held is None


def create_deposit(
    session: Session,
    *,
    investor_id: str,
    account_id: str,
    share_class_id: str,
    amount: Decimal,
    currency: str,
    method: str = "wire",
    bank_account_id: str | None = None,
    day: date | None = None,
) -> DepositOrder:
    """Check the rules and record a pending deposit (the deprecated subscription routes rename
    its errors at the edge: ``api.v1.deposit_orders.subscription_words``)."""
    account = orders.owned(session, Account, account_id, investor_id, "Account")
    share_class = orders.share_class(session, share_class_id)
    if bank_account_id is not None:
        orders.owned(session, BankAccount, bank_account_id, investor_id, "Bank account")
    if not share_class.api_deposits_allowed:
        raise DepositNotAllowedError(share_class.id, share_class.symbol)
    if currency != share_class.currency:
        raise ApplicationError(
            f"{share_class.symbol} takes deposits in {share_class.currency}, not {currency}",
            "CurrencyNotSupported",
        )
    if decimals_of(amount) > minor_units(currency):
        raise ApplicationError(f"a {currency} amount has at most {minor_units(currency)} decimals")
    if is_initial_deposit(session, investor_id, share_class.id):
        minimum, code = share_class.minimum_initial_deposit, "InitialDepositTooLow"
    else:
        minimum, code = share_class.minimum_subsequent_deposit, "SubsequentDepositTooLow"
    if amount < minimum or amount <= 0:
        raise ApplicationError(
            f"the {'first' if code.startswith('Initial') else 'next'} deposit in "
            f"{share_class.symbol} must be at least {format_amount(minimum, currency)} {currency}",
            code,
        )
    today = day or orders.today(session)
    received_at = orders.received_at(session, today)
    order = DepositOrder(
        investor_id=investor_id,
        account_id=account.id,
        share_class_id=share_class.id,
        method=method,
        bank_account_id=bank_account_id,
        amount=amount,
        currency=currency,
        wire_reference=_unused_wire_reference(session),
        status="pending",
        created_at=received_at,
        created_day=today,
        trade_day=register.trade_day(session, share_class, received_at),
        scheduled_day=(
            reference.next_business_day(session, share_class.fund_id, today)
            if method == "direct-debit"
            else None
        ),
    )
    session.add(order)
    session.flush()
    snapshots.deposit_order(session, "created", order)
    return order


def list_deposits(session: Session, investor_id: str, status: str | None = None) -> list[DepositOrder]:
    query = select(DepositOrder).where(DepositOrder.investor_id == investor_id)
    if status is not None:
        query = query.where(DepositOrder.status == status)
    return list(session.scalars(query.order_by(DepositOrder.created_at.desc(), DepositOrder.id)))


def get_deposit(session: Session, deposit_id: str, investor_id: str) -> DepositOrder:
    return orders.owned(session, DepositOrder, deposit_id, investor_id, "Deposit order")


def _locked(session: Session, deposit_id: str) -> DepositOrder | None:
    """The order, row-locked and re-read (another transaction may have changed it while we waited)."""
    return session.scalar(
        select(DepositOrder)
        .where(DepositOrder.id == deposit_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def cancel_deposit(session: Session, deposit_id: str, investor_id: str) -> DepositOrder:
    get_deposit(session, deposit_id, investor_id)
    order = _locked(session, deposit_id)
    if order is None:
        raise NotFoundError("Deposit order not found")
    if order.status != "pending":
        raise CollectionNotCancelableError(
            f"the deposit order is {order.status} and can no longer be canceled"
        )
    if order.funded_at is not None:
        raise CollectionNotCancelableError(
            "the funds of this deposit order were received; it can no longer be canceled"
        )
    order.status = "canceled"
    order.canceled_at = orders.received_at(session)
    session.flush()
    snapshots.deposit_order(session, "canceled", order)
    return order


def fund_deposit(
    session: Session, *, reference_text: str, amount: Decimal | None = None, day: date | None = None
) -> DepositOrder:
    """Record the incoming payment of a deposit (its wire reference); the amount must match."""
    wire_reference = reference_text.strip().upper()
    order = session.scalar(
        select(DepositOrder).where(DepositOrder.wire_reference == wire_reference).with_for_update()
    )
    if order is None:
        raise ApplicationError(
            f"no deposit order has the reference {wire_reference}", "IncomingBankTransferNotFound"
        )
    if order.status != "pending" or order.funded_at is not None:
        state = "funded" if order.status == "pending" else order.status
        raise ApplicationError(
            f"the deposit order {wire_reference} is already {state}", "IncomingBankTransferAlreadyHandled"
        )
    funding_day = day or orders.today(session)
    share_class = orders.share_class(session, order.share_class_id)
    with register.enforced():
        rules.check_funding(
            rules.OrderStatus(order.status),
            order.funded_at is not None,
            order.created_day,
            funding_day,
            register.closed_through(session, share_class.fund_id),
        )
    if amount is not None and amount != order.amount:
        raise ApplicationError(
            f"the deposit order {wire_reference} is for {format_amount(order.amount, order.currency)} "
            f"{order.currency}, not {amount}",
            "IncomingBankTransferAmountMismatch",
        )
    order.funded_at = orders.received_at(session, funding_day)
    order.funded_day = funding_day
    session.flush()
    snapshots.deposit_order(session, "funded", order)
    return order


def fund_all_pending(session: Session, day: date) -> list[DepositOrder]:
    """The sandbox's bank: every pending, unfunded deposit created by ``day`` arrives in full."""
    pending = session.scalars(
        select(DepositOrder)
        .where(
            DepositOrder.status == "pending",
            DepositOrder.funded_at.is_(None),
            DepositOrder.created_day <= day,
        )
        .order_by(DepositOrder.created_at, DepositOrder.id)
        .with_for_update()
    )
    funded = []
    now = orders.received_at(session, day)
    for order in pending:
        order.funded_at = now
        order.funded_day = day
        funded.append(order)
    session.flush()
    for order in funded:
        snapshots.deposit_order(session, "funded", order)
    return funded
