"""Investors' own bank accounts, where withdrawals are paid.

Operators add them (``spiko bank-accounts add``), usable at once; investors add their own in
the investor app, usable for withdrawals only once the operator's cooling-off period
(``SPIKO_BANK_ACCOUNT_COOLING_OFF_HOURS``) has passed. A removed bank account disappears from
every listing but keeps its row, which past withdrawals name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.orders import BankAccount, WithdrawalOrder
from spiko.db.types import utcnow
from spiko.domain import iban as iban_rules
from spiko.domain.money import MINOR_UNITS
from spiko.errors import ApplicationError, BadRequestError, ConflictError, NotFoundError
from spiko.services import orders

ADDED_BY = ("operator", "investor")


def add_bank_account(
    session: Session,
    *,
    investor_id: str,
    iban: str,
    bic: str,
    name: str | None = None,
    currency: str = "EUR",
    added_by: str = "operator",
    cooling_off: timedelta = timedelta(0),
) -> BankAccount:
    """Register a bank account; usable for withdrawals after ``cooling_off`` (none: at once).

    Adding again an IBAN the investor removed brings it back, with a new cooling-off period.
    """
    try:
        iban = iban_rules.validate_iban(iban)
        bic = iban_rules.validate_bic(bic)
    except iban_rules.IbanError as error:
        raise BadRequestError(str(error)) from None
    if currency not in MINOR_UNITS:
        raise BadRequestError(f"unknown currency {currency!r}")
    if added_by not in ADDED_BY:
        raise BadRequestError(f"unknown origin {added_by!r}")
    name = orders.clean_name(name, "the bank account name")
    now = utcnow()
    usable_from = now + cooling_off if cooling_off > timedelta(0) else None
    existing = session.scalar(
        select(BankAccount).where(BankAccount.investor_id == investor_id, BankAccount.iban == iban)
    )
    if existing is not None:
        if existing.removed_at is None:
            raise ConflictError(f"this investor already has the bank account {iban} ({existing.id})")
        existing.removed_at = None
        existing.bic, existing.name, existing.currency = bic, name, currency
        existing.added_by, existing.usable_from = added_by, usable_from
        session.flush()
        return existing
    row = BankAccount(
        investor_id=investor_id,
        iban=iban,
        bic=bic,
        name=name,
        currency=currency,
        added_by=added_by,
        usable_from=usable_from,
    )
    session.add(row)
    session.flush()
    return row


def list_bank_accounts(session: Session, investor_id: str) -> list[BankAccount]:
    """The investor's bank accounts that were not removed, oldest first."""
    return list(
        session.scalars(
            select(BankAccount)
            .where(BankAccount.investor_id == investor_id, BankAccount.removed_at.is_(None))
            .order_by(BankAccount.created_at, BankAccount.id)
        )
    )


def get_bank_account(session: Session, bank_account_id: str, investor_id: str) -> BankAccount:
    row = orders.owned(session, BankAccount, bank_account_id, investor_id, "Bank account")
    if row.removed_at is not None:
        raise NotFoundError("Bank account not found")
    return row


@dataclass(frozen=True)
class Status:
    """Whether withdrawals may be paid to a bank account now, and from when if not yet."""

    usable: bool
    usable_from: datetime | None

    @property
    def name(self) -> str:
        return "active" if self.usable else "cooling-off"


def status(row: BankAccount, now: datetime | None = None) -> Status:
    now = now or utcnow()
    if row.usable_from is None or row.usable_from <= now:
        return Status(True, None)
    return Status(False, row.usable_from)


def withdrawal_destination(session: Session, bank_account_id: str, investor_id: str) -> BankAccount:
    """The bank account a new withdrawal is paid to: the investor's, not removed, past its cooling-off."""
    row = get_bank_account(session, bank_account_id, investor_id)
    state = status(row)
    if not state.usable and state.usable_from is not None:
        raise ApplicationError(
            "this bank account was added recently; withdrawals may be paid to it from "
            f"{state.usable_from.strftime('%Y-%m-%d %H:%M')} UTC",
            "BankAccountCoolingOff",
        )
    return row


def remove_bank_account(session: Session, bank_account_id: str, investor_id: str) -> BankAccount:
    """Remove a bank account, unless a pending withdrawal is still to be paid to it."""
    row = get_bank_account(session, bank_account_id, investor_id)
    pending = session.scalar(
        select(WithdrawalOrder.id)
        .where(WithdrawalOrder.bank_account_id == row.id, WithdrawalOrder.status == "pending")
        .limit(1)
    )
    if pending is not None:
        raise BadRequestError("a pending withdrawal is to be paid to this bank account; cancel it first")
    row.removed_at = utcnow()
    session.flush()
    return row
