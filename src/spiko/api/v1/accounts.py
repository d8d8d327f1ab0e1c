"""Accounts (reference tag "Accounts"): the investor's internal accounts and their deposit instructions."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm import Session

from spiko.api.deps import CurrentPrincipal, Idempotent, ReadSession, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.api.v1.inputs import StrictModel
from spiko.domain.money import Currency
from spiko.presenters import accounts as present
from spiko.presenters.accounts import AccountBody, DepositInstructionsBody
from spiko.services import accounts as service

router = APIRouter(tags=["Accounts"], route_class=PresentedRoute)

Network = Literal[
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
    "Starknet",
    "StarknetSepolia",
    "Stellar",
    "StellarTestnet",
    "Solana",
    "SolanaDevnet",
]


class CreateAccount(StrictModel):
    type: Literal["internal"]
    investorId: uuid.UUID
    shareClassId: uuid.UUID
    network: Network | None = None
    name: Annotated[str, Field(min_length=1, pattern=r"^\S[\s\S]*\S$|^\S$")] | None = None


@router.post(
    "/accounts",
    operation_id="accounts.createAccount",
    summary="Create a new account",
    description="Create a new internal account for an investor",
)
def create_account(body: CreateAccount, principal: CurrentPrincipal, idem: Idempotent) -> JSONResponse:
    investor_id = check_investor_param(principal, str(body.investorId))

    def action(session: Session) -> AccountBody:
        account = service.create_account(
            session,
            investor_id=investor_id,
            share_class_id=str(body.shareClassId),
            name=body.name,
            network=body.network,
        )
        return present.account(account)

    return idem.run(body, action)


@router.get(
    "/accounts",
    operation_id="accounts.getAccounts",
    summary="Get accounts",
    description="Get list of an investor's accounts",
)
def list_accounts(
    principal: CurrentPrincipal,
    session: ReadSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
) -> list[AccountBody]:
    owner = check_investor_param(principal, str(investor_id))
    return [present.account(account) for account in service.list_accounts(session, owner)]


@router.get(
    "/accounts/{accountId}",
    operation_id="accounts.getAccount",
    summary="Get account",
    description="Get a specific account",
)
def get_account(
    principal: CurrentPrincipal, session: ReadSession, account_id: Annotated[str, Path(alias="accountId")]
) -> AccountBody:
    return present.account(service.get_account(session, account_id, principal.investor_id))


@router.get(
    "/accounts/{accountId}/deposit-instructions",
    operation_id="accounts.getDepositInstructions",
    summary="Get deposit instructions",
    description="Virtual IBAN deposit instructions for an account, share class and subscription currency. "
    "An empty list means no virtual bank account is provisioned for that currency.",
)
def get_deposit_instructions(
    principal: CurrentPrincipal,
    session: ReadSession,
    account_id: Annotated[str, Path(alias="accountId")],
    share_class_id: Annotated[uuid.UUID, Query(alias="shareClassId")],
    subscription_currency: Annotated[Currency, Query(alias="subscriptionCurrency")],
) -> DepositInstructionsBody:
    account = service.get_account(session, account_id, principal.investor_id)
    instructions = service.deposit_instructions(session, account, str(share_class_id), subscription_currency)
    return present.deposit_instructions(instructions)
