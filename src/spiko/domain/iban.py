"""IBAN (ISO 13616) and BIC (ISO 9362) rules, and the construction of virtual IBANs, on ``schwifty``.

``schwifty`` keeps the registry of national IBAN formats (each country's length and BBAN
structure, the national check digits some countries add, such as the French RIB key) and of BIC
country codes; this module only adds the system's error type and the virtual IBANs it issues.
"""

from __future__ import annotations

import secrets

from schwifty import BIC, IBAN, exceptions, registry
from schwifty.exceptions import SchwiftyException


class IbanError(ValueError):
    """A value that is not a valid IBAN or BIC."""


def normalize(text: str) -> str:
    """Upper-case, without the spaces of the printed form ("FR76 3000 ..." -> "FR763000...")."""
    return "".join(text.split()).upper()


def validate_iban(text: str) -> str:
    """The normalized IBAN, or :class:`IbanError` saying what is wrong (checksum, the country's
    length and BBAN format, national check digits)."""
    value = normalize(text)
    if not value.isalnum():
        raise IbanError("an IBAN is a country code, two check digits and letters or digits only")
    try:
        return str(IBAN(value, validate_bban=True).compact)
    except exceptions.InvalidChecksumDigits:
        raise IbanError("the IBAN's check digits do not match (ISO 13616 mod-97)") from None
    except exceptions.InvalidLength:
        expected = registry.get_iban_spec(value[:2]).iban_length
        raise IbanError(f"an IBAN of {value[:2]} has {expected} characters, not {len(value)}") from None
    except exceptions.InvalidCountryCode:
        raise IbanError(f"{value[:2]!r} is not a country that issues IBANs") from None
    except SchwiftyException as error:
        raise IbanError(f"not a valid IBAN: {error}") from None


def is_valid_iban(text: str) -> bool:
    try:
        validate_iban(text)
    except IbanError:
        return False
    return True


def validate_bic(text: str) -> str:
    """The normalized BIC (8 or 11 characters, a known country), or :class:`IbanError`."""
    value = normalize(text)
    if not value.isalnum():
        raise IbanError("a BIC is 8 or 11 letters or digits")
    try:
        return str(BIC(value).compact)
    except SchwiftyException as error:
        raise IbanError(f"not a valid BIC: {error}") from None


def is_valid_bic(text: str) -> bool:
    try:
        validate_bic(text)
    except IbanError:
        return False
    return True


def french_iban(bank: str, branch: str, account: str) -> str:
    """A French IBAN from its bank code (5 digits), branch code (5) and account number (11), with
    the national RIB key and the IBAN check digits."""
    try:
        return str(IBAN.generate("FR", bank_code=bank, branch_code=branch, account_code=account).compact)
    except SchwiftyException as error:
        raise IbanError(f"cannot build a French IBAN: {error}") from None


def random_french_iban(bank: str, branch: str) -> str:
    """A fresh virtual IBAN at the given bank and branch (11 random digits of account number)."""
    account = "".join(secrets.choice("0123456789") for _ in range(11))
    return french_iban(bank, branch, account)


def printable(iban: str) -> str:
    """Groups of four, as printed on statements."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
