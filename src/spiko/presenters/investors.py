"""Investors (reference tag "Investors"): the authenticated investor, an individual or an organization."""

from __future__ import annotations

from typing import TypedDict

from spiko.db.models.identity import Investor


class TaxInformationBody(TypedDict):
    taxIdentificationNumber: str
    updatedAt: str


class TaxResidenceBody(TypedDict):
    country: str
    taxInformation: TaxInformationBody | None


class _InvestorCommon(TypedDict):
    id: str
    name: str
    address: str
    zipCode: str
    city: str
    country: str
    nationality: None
    type: str


class IndividualBody(_InvestorCommon):
    taxInformationByCountryOfResidence: list[TaxResidenceBody]


class OrganizationBody(_InvestorCommon):
    registrationNumber: str
    legalEntityType: str


InvestorBody = IndividualBody | OrganizationBody


def _common(row: Investor) -> _InvestorCommon:
    return {
        "id": row.id,
        "name": row.name,
        "address": row.address,
        "zipCode": row.zip_code,
        "city": row.city,
        "country": row.country,
        "nationality": None,
        "type": row.type,
    }


def investor(row: Investor) -> InvestorBody:
    if row.type == "individual":
        tax_information: TaxInformationBody | None = None
        if row.tax_identification_number:
            updated = row.tax_information_updated_at or row.created_at
            tax_information = {
                "taxIdentificationNumber": row.tax_identification_number,
                "updatedAt": updated.date().isoformat(),
            }
        return {
            **_common(row),
            "taxInformationByCountryOfResidence": [
                {"country": row.country, "taxInformation": tax_information}
            ],
        }
    return {
        **_common(row),
        "registrationNumber": row.registration_number or "",
        "legalEntityType": row.legal_entity_type or "",
    }
