"""IBAN (ISO 13616) and BIC (ISO 9362) rules, and the construction of valid IBANs.

An IBAN is a country code, two check digits and a country-specific BBAN. It is valid when,
with the first four characters moved to the end and every letter replaced by two digits
(A = 10 ... Z = 35), the resulting number is 1 modulo 97 (ISO 7064 MOD 97-10). That check
catches every single-character substitution and almost every transposition.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

# IBAN lengths of the countries of SEPA and of a few other common ones (the full registry is
# longer; a country not listed here is checked for format and checksum only).
IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21,
    "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27,
}  # fmt: skip

_IBAN_SHAPE: Final = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC_SHAPE: Final = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


class IbanError(ValueError):
    """A value that is not a valid IBAN or BIC."""


def normalize(text: str) -> str:
    """Upper-case, without the spaces of the printed form ("FR76 3000 ..." -> "FR763000...")."""
    return "".join(text.split()).upper()


def _as_digits(text: str) -> str:
    return "".join(str(int(char, 36)) for char in text)


def mod97(text: str) -> int:
    """``int(digits(text)) % 97``, computed piecewise as ISO 7064 describes."""
    remainder = 0
    for char in _as_digits(text):
        remainder = (remainder * 10 + int(char)) % 97
    return remainder


def check_digits(country: str, bban: str) -> str:
    """The two check digits that make ``country + digits + bban`` valid."""
    if not re.fullmatch(r"[A-Z]{2}", country) or not re.fullmatch(r"[A-Z0-9]+", bban):
        raise IbanError("country must be two letters and the BBAN letters and digits")
    return f"{98 - mod97(bban + country + '00'):02d}"


def make_iban(country: str, bban: str) -> str:
    return country + check_digits(country, bban) + bban


def is_valid_iban(text: str) -> bool:
    iban = normalize(text)
    if not _IBAN_SHAPE.match(iban):
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    return mod97(iban[4:] + iban[:4]) == 1


def validate_iban(text: str) -> str:
    """The normalized IBAN, or :class:`IbanError` saying what is wrong."""
    iban = normalize(text)
    if not _IBAN_SHAPE.match(iban):
        raise IbanError("an IBAN is a country code, two check digits and up to 30 letters or digits")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        raise IbanError(f"an IBAN of {iban[:2]} has {expected} characters, not {len(iban)}")
    if mod97(iban[4:] + iban[:4]) != 1:
        raise IbanError("the IBAN's check digits do not match (ISO 13616 mod-97)")
    return iban


def is_valid_bic(text: str) -> bool:
    return bool(_BIC_SHAPE.match(normalize(text)))


def validate_bic(text: str) -> str:
    bic = normalize(text)
    if not _BIC_SHAPE.match(bic):
        raise IbanError(
            "a BIC is 4 letters (bank), 2 letters (country), 2 letters or digits and an optional branch of 3"
        )
    return bic


def rib_key(bank: str, branch: str, account: str) -> str:
    """The French RIB key of a BBAN (letters of the account number map to digits as the RIB says)."""
    letters = {
        c: str(d)
        for d, group in enumerate(("AJ", "BKS", "CLT", "DMU", "ENV", "FOW", "GPX", "HQY", "IRZ"), 1)
        for c in group
    }
    digits = "".join(letters.get(c, c) for c in (bank + branch + account).upper())
    return f"{97 - (int(digits[:5]) * 89 + int(digits[5:10]) * 15 + int(digits[10:]) * 3) % 97:02d}"


def french_iban(bank: str, branch: str, account: str) -> str:
    """A French IBAN from its bank code (5 digits), branch code (5) and account number (11)."""
    if not (re.fullmatch(r"\d{5}", bank) and re.fullmatch(r"\d{5}", branch)):
        raise IbanError("bank and branch codes are 5 digits each")
    if not re.fullmatch(r"[0-9A-Z]{11}", account):
        raise IbanError("a French account number is 11 letters or digits")
    return make_iban("FR", bank + branch + account + rib_key(bank, branch, account))


def random_french_iban(bank: str, branch: str) -> str:
    """A fresh virtual IBAN at the given bank and branch (11 random digits of account number)."""
    account = "".join(secrets.choice("0123456789") for _ in range(11))
    return french_iban(bank, branch, account)


def printable(iban: str) -> str:
    """Groups of four, as printed on statements."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
