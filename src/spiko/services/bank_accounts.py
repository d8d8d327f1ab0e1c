"""Investors' own bank accounts, where withdrawals are paid; operators add them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.orders import BankAccount
from spiko.domain import iban as iban_rules
from spiko.domain.money import MINOR_UNITS
from spiko.errors import BadRequestError, ConflictError
from spiko.services import orders


def add_bank_account(
    session: Session,
    *,
    investor_id: str,
    iban: str,
    bic: str,
    name: str | None = None,
    currency: str = "EUR",
) -> BankAccount:
    try:
        iban = iban_rules.validate_iban(iban)
        bic = iban_rules.validate_bic(bic)
    except iban_rules.IbanError as error:
        raise BadRequestError(str(error)) from None
    if currency not in MINOR_UNITS:
        raise BadRequestError(f"unknown currency {currency!r}")
    name = orders.clean_name(name, "the bank account name")
    duplicate = session.scalar(
        select(BankAccount.id).where(BankAccount.investor_id == investor_id, BankAccount.iban == iban)
    )
    if duplicate is not None:
        raise ConflictError(f"this investor already has the bank account {iban} ({duplicate})")
    row = BankAccount(investor_id=investor_id, iban=iban, bic=bic, name=name, currency=currency)
    session.add(row)
    session.flush()
    return row


def list_bank_accounts(session: Session, investor_id: str) -> list[BankAccount]:
    return list(
        session.scalars(
            select(BankAccount)
            .where(BankAccount.investor_id == investor_id)
            .order_by(BankAccount.created_at, BankAccount.id)
        )
    )


def get_bank_account(session: Session, bank_account_id: str, investor_id: str) -> BankAccount:
    return orders.owned(session, BankAccount, bank_account_id, investor_id, "Bank account")
