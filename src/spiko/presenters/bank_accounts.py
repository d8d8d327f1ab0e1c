"""Bank accounts (reference tag "Bank accounts"): the investor's own accounts."""

from __future__ import annotations

from typing import TypedDict

from spiko.db.models.orders import BankAccount


class BankDetailsBody(TypedDict):
    currency: str
    accountNumber: str
    bic: str


class BankAccountBody(TypedDict):
    id: str
    investorId: str
    name: str | None
    details: BankDetailsBody


def bank_account(row: BankAccount) -> BankAccountBody:
    return {
        "id": row.id,
        "investorId": row.investor_id,
        "name": row.name,
        "details": {"currency": row.currency, "accountNumber": row.iban, "bic": row.bic},
    }
