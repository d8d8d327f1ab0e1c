"""Bank accounts (reference tag "Bank accounts"): the investor's own accounts, where withdrawals are paid."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from spiko.api.deps import CurrentPrincipal, DbSession, check_investor_param
from spiko.api.v1.order_shapes import bank_account_body
from spiko.services import bank_accounts as service

router = APIRouter(tags=["Bank accounts"])


@router.get(
    "/bank-accounts/{bankAccountId}",
    operation_id="bankAccounts.getBankAccountById",
    summary="Get bank account",
    description="Get info of a bank account (currency / IBAN / BIC)",
)
def get_bank_account(
    principal: CurrentPrincipal,
    session: DbSession,
    bank_account_id: Annotated[str, Path(alias="bankAccountId")],
) -> dict[str, Any]:
    # The reference also lists bankAccountId as a query parameter; the path is what identifies it.
    return bank_account_body(service.get_bank_account(session, bank_account_id, principal.investor_id))


@router.get(
    "/bank-accounts",
    operation_id="bankAccounts.getBankAccounts",
    summary="Get bank accounts of an investor",
    description="Get list of bank account's info of an investor (IBAN / BIC)",
)
def list_bank_accounts(
    principal: CurrentPrincipal,
    session: DbSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
) -> list[dict[str, Any]]:
    owner = check_investor_param(principal, str(investor_id))
    return [bank_account_body(row) for row in service.list_bank_accounts(session, owner)]
