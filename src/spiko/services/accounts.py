"""Investors' internal accounts: opening one, reading them, and their deposit instructions."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.orders import Account
from spiko.db.types import new_id
from spiko.domain import iban as iban_rules
from spiko.errors import BadRequestError, NotFoundError
from spiko.services import orders

# The bank that issues the accounts' virtual IBANs (a French IBAN: bank code, branch code).
VIRTUAL_IBAN_BANK_NAME = "Memo Bank"
VIRTUAL_IBAN_BANK_CODE = "17338"
VIRTUAL_IBAN_BRANCH_CODE = "00001"
VIRTUAL_IBAN_BIC = "MEMOFRP2XXX"
BENEFICIARY_NAME = "Spiko SAS"

DEFAULT_NETWORK = "Ethereum"
EVM_NETWORKS = frozenset(
    {
        "Sepolia",
        "PolygonAmoy",
        "BaseSepolia",
        "ArbitrumSepolia",
        "EtherlinkTestnet",
        "Ethereum",
        "Polygon",
        "Base",
        "Arbitrum",
        "Etherlink",
    }
)
STARKNET_NETWORKS = frozenset({"Starknet", "StarknetSepolia"})
STELLAR_NETWORKS = frozenset({"Stellar", "StellarTestnet"})
SUPPORTED_NETWORKS = EVM_NETWORKS | STARKNET_NETWORKS | STELLAR_NETWORKS


def blockchain_address(account_id: str, network: str) -> str:
    """The account's on-chain address: derived from its id, stable, in the network's format."""
    digest = hashlib.sha256(f"spiko-account:{account_id}:{network}".encode()).digest()
    if network in STARKNET_NETWORKS:
        return "0x" + (digest + hashlib.sha256(digest).digest()).hex()[:64]
    if network in STELLAR_NETWORKS:
        return "G" + base64.b32encode(digest + hashlib.sha256(digest).digest()).decode()[:55]
    return "0x" + digest.hex()[:40]


def permission_groups(network: str) -> list[Any]:
    """The whitelisted role, in each network family's own vocabulary."""
    if network in STARKNET_NETWORKS:
        return ["WHITELISTED_ROLE"]
    if network in STELLAR_NETWORKS:
        return ["WLISTED"]
    return [6]


def create_account(
    session: Session,
    *,
    investor_id: str,
    share_class_id: str,
    name: str | None = None,
    network: str | None = None,
) -> Account:
    try:
        orders.share_class(session, share_class_id)
    except NotFoundError:
        raise BadRequestError("shareClassId does not name a share class") from None
    network = network or DEFAULT_NETWORK
    if network not in SUPPORTED_NETWORKS:
        raise BadRequestError(f"accounts cannot be opened on the {network} network")
    name = orders.clean_name(name, "the account name")
    account_id = new_id()
    account = Account(
        id=account_id,
        investor_id=investor_id,
        share_class_id=share_class_id,
        type="internal",
        name=name,
        network=network,
        blockchain_address=blockchain_address(account_id, network),
        virtual_iban=_fresh_virtual_iban(session),
    )
    session.add(account)
    session.flush()
    return account


def _fresh_virtual_iban(session: Session) -> str:
    for _ in range(10):
        candidate = iban_rules.random_french_iban(VIRTUAL_IBAN_BANK_CODE, VIRTUAL_IBAN_BRANCH_CODE)
        if session.scalar(select(Account.id).where(Account.virtual_iban == candidate)) is None:
            return candidate
    raise RuntimeError("could not draw an unused virtual IBAN")


def list_accounts(session: Session, investor_id: str) -> list[Account]:
    return list(
        session.scalars(
            select(Account).where(Account.investor_id == investor_id).order_by(Account.created_at, Account.id)
        )
    )


def get_account(session: Session, account_id: str, investor_id: str) -> Account:
    return orders.owned(session, Account, account_id, investor_id, "Account")


@dataclass(frozen=True)
class VirtualAccount:
    """A virtual IBAN that collects wires for one account."""

    iban: str
    bic: str
    bank_name: str
    beneficiary_name: str
    rails: tuple[str, ...]


@dataclass(frozen=True)
class DepositInstructions:
    share_class_currency: str
    accounts: list[VirtualAccount]


def deposit_instructions(
    session: Session, account: Account, share_class_id: str, subscription_currency: str
) -> DepositInstructions:
    """Where to wire money for this account: its virtual IBAN, when the currency is the share
    class's own (no other currency is collected on a virtual IBAN: the list is then empty)."""
    share_class = orders.share_class(session, share_class_id)
    entries: list[VirtualAccount] = []
    if subscription_currency == share_class.currency:
        rails = ("SCT", "SCT Instant") if share_class.currency == "EUR" else ("SWIFT",)
        entries.append(
            VirtualAccount(
                iban=account.virtual_iban,
                bic=VIRTUAL_IBAN_BIC,
                bank_name=VIRTUAL_IBAN_BANK_NAME,
                beneficiary_name=BENEFICIARY_NAME,
                rails=rails,
            )
        )
    return DepositInstructions(share_class.currency, entries)
