"""Investors: the authenticated investor (reference tag "Investors")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from spiko.api.deps import CurrentPrincipal, DbSession
from spiko.db.models.identity import Investor
from spiko.services.identity import get_investor

router = APIRouter(tags=["Investors"])


def investor_body(investor: Investor) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": investor.id,
        "name": investor.name,
        "address": investor.address,
        "zipCode": investor.zip_code,
        "city": investor.city,
        "country": investor.country,
        "nationality": None,
        "type": investor.type,
    }
    if investor.type == "individual":
        tax_information = None
        if investor.tax_identification_number:
            updated = investor.tax_information_updated_at or investor.created_at
            tax_information = {
                "taxIdentificationNumber": investor.tax_identification_number,
                "updatedAt": updated.date().isoformat(),
            }
        body["taxInformationByCountryOfResidence"] = [
            {"country": investor.country, "taxInformation": tax_information}
        ]
    else:
        body["registrationNumber"] = investor.registration_number or ""
        body["legalEntityType"] = investor.legal_entity_type or ""
    return body


@router.get("/investors/me", operation_id="investors.getInvestor", summary="Get investor info")
def get_me(principal: CurrentPrincipal, session: DbSession) -> dict[str, Any]:
    return investor_body(get_investor(session, principal.investor_id))


@router.get(
    "/investors",
    operation_id="investors.getInvestors",
    summary="List investors (deprecated: use /investors/me)",
    deprecated=True,
)
def list_investors(principal: CurrentPrincipal, session: DbSession) -> list[dict[str, Any]]:
    return [investor_body(get_investor(session, principal.investor_id))]
