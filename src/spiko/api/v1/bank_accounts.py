"""Bank accounts (reference tag "Bank accounts"): the investor's own accounts, where withdrawals are paid."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from spiko.api.deps import CurrentPrincipal, ReadSession, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.presenters.bank_accounts import BankAccountBody, bank_account
from spiko.services import bank_accounts as service

router = APIRouter(tags=["Bank accounts"], route_class=PresentedRoute)


@router.get(
    "/bank-accounts/{bankAccountId}",
    operation_id="bankAccounts.getBankAccountById",
    summary="Get bank account",
    description="Get info of a bank account (currency / IBAN / BIC)",
)
def get_bank_account(
    principal: CurrentPrincipal,
    session: ReadSession,
    bank_account_id: Annotated[str, Path(alias="bankAccountId")],
) -> BankAccountBody:
    # The reference also lists bankAccountId as a query parameter; the path is what identifies it.
    return bank_account(service.get_bank_account(session, bank_account_id, principal.investor_id))


@router.get(
    "/bank-accounts",
    operation_id="bankAccounts.getBankAccounts",
    summary="Get bank accounts of an investor",
    description="Get list of bank account's info of an investor (IBAN / BIC)",
)
def list_bank_accounts(
    principal: CurrentPrincipal,
    session: ReadSession,
    investor_id: Annotated[uuid.UUID, Query(alias="investorId")],
) -> list[BankAccountBody]:
    owner = check_investor_param(principal, str(investor_id))
    return [bank_account(row) for row in service.list_bank_accounts(session, owner)]
