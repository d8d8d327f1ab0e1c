"""Accounts (reference tag "Accounts"): the investor's internal accounts and their deposit instructions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from spiko.api.deps import Context, CurrentPrincipal, DbSession, check_investor_param
from spiko.api.v1.order_shapes import (
    Currency,
    IdempotencyKeyHeader,
    StrictModel,
    account_body,
    idempotent_response,
)
from spiko.services import accounts as service

router = APIRouter(tags=["Accounts"])

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
def create_account(
    body: CreateAccount,
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    investor_id = check_investor_param(principal, str(body.investorId))

    def action(session: Any) -> dict[str, Any]:
        account = service.create_account(
            session,
            investor_id=investor_id,
            share_class_id=str(body.shareClassId),
            name=body.name,
            network=body.network,
        )
        return account_body(account)

    return idempotent_response(ctx, request, principal, idempotency_key, body.model_dump(mode="json"), action)


@router.get(
    "/accounts",
    operation_id="accounts.getAccounts",
    summary="Get accounts",
    description="Get list of an investor's accounts",
)
def list_accounts(
    principal: CurrentPrincipal,
    session: DbSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
) -> list[dict[str, Any]]:
    owner = check_investor_param(principal, str(investor_id))
    return [account_body(account) for account in service.list_accounts(session, owner)]


@router.get(
    "/accounts/{accountId}",
    operation_id="accounts.getAccount",
    summary="Get account",
    description="Get a specific account",
)
def get_account(
    principal: CurrentPrincipal, session: DbSession, account_id: Annotated[str, Path(alias="accountId")]
) -> dict[str, Any]:
    return account_body(service.get_account(session, account_id, principal.investor_id))


@router.get(
    "/accounts/{accountId}/deposit-instructions",
    operation_id="accounts.getDepositInstructions",
    summary="Get deposit instructions",
    description="Virtual IBAN deposit instructions for an account, share class and subscription currency. "
    "An empty list means no virtual bank account is provisioned for that currency.",
)
def get_deposit_instructions(
    principal: CurrentPrincipal,
    session: DbSession,
    account_id: Annotated[str, Path(alias="accountId")],
    share_class_id: Annotated[uuid.UUID, Query(alias="shareClassId")],
    subscription_currency: Annotated[Currency, Query(alias="subscriptionCurrency")],
) -> dict[str, Any]:
    account = service.get_account(session, account_id, principal.investor_id)
    return service.deposit_instructions(session, account, str(share_class_id), subscription_currency)
