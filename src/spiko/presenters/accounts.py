"""Accounts (reference tag "Accounts"): an account and its deposit instructions."""

from __future__ import annotations

from typing import Any, TypedDict

from spiko.db.models.orders import Account
from spiko.presenters.formats import timestamp
from spiko.services.accounts import DepositInstructions, permission_groups


class BlockchainAccountBody(TypedDict):
    address: str
    network: str
    permissionGroups: list[Any]


class AccountBody(TypedDict):
    id: str
    investorId: str
    blockchainAccount: BlockchainAccountBody
    type: str
    createdAt: str
    name: str | None


class AccountDetailsBody(TypedDict):
    iban: str
    bic: str


class VirtualAccountBody(TypedDict):
    accountDetails: AccountDetailsBody
    bankName: str
    beneficiaryName: str
    rails: list[str]


class DepositInstructionsBody(TypedDict):
    shareClassCurrency: str
    accounts: list[VirtualAccountBody]


def account(row: Account) -> AccountBody:
    return {
        "id": row.id,
        "investorId": row.investor_id,
        "blockchainAccount": {
            "address": row.blockchain_address,
            "network": row.network,
            "permissionGroups": permission_groups(row.network),
        },
        "type": row.type,
        "createdAt": timestamp(row.created_at),
        "name": row.name,
    }


def deposit_instructions(instructions: DepositInstructions) -> DepositInstructionsBody:
    return {
        "shareClassCurrency": instructions.share_class_currency,
        "accounts": [
            {
                "accountDetails": {"iban": entry.iban, "bic": entry.bic},
                "bankName": entry.bank_name,
                "beneficiaryName": entry.beneficiary_name,
                "rails": list(entry.rails),
            }
            for entry in instructions.accounts
        ],
    }
