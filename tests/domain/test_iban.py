"""ISO 13616 IBANs and BICs (on schwifty's registry): the IBANs the system builds, and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spiko.domain import iban

digits = st.text(alphabet="0123456789", min_size=5, max_size=5)
account_numbers = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=11, max_size=11)


def mod97(text: str) -> int:
    """ISO 7064 MOD 97-10 of an IBAN's rearranged form, written out here independently."""
    return int("".join(str(int(char, 36)) for char in text)) % 97


@pytest.mark.parametrize(
    "text",
    [
        "FR14 2004 1010 0505 0001 3M02 606",
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "NL91ABNA0417164300",
        "fr7630006000011234567890189",
        "XK051212012345678906",  # countries beyond SEPA are checked against their own format
        "BR1800360305000010009795493C1",
    ],
)
def test_published_examples_are_valid(text):
    assert iban.is_valid_iban(text)
    assert iban.validate_iban(text) == text.replace(" ", "").upper()


@given(digits, digits, account_numbers)
def test_french_ibans_built_here_pass_mod_97(bank, branch, account):
    value = iban.french_iban(bank, branch, account)
    assert len(value) == 27
    assert iban.is_valid_iban(value)
    assert mod97(value[4:] + value[:4]) == 1
    assert value[4:9] == bank and value[9:14] == branch and value[14:25] == account


@given(digits, digits, account_numbers, st.data())
def test_every_single_character_substitution_is_caught(bank, branch, account, data):
    """A digit mistyped as another digit, or a letter as another letter: mod 97 always notices.

    (A digit typed as a letter changes the length of the numeric form, which the check does not
    cover; the country's fixed length and the letters' positions catch most of those.)
    """
    value = iban.french_iban(bank, branch, account)
    position = data.draw(st.integers(min_value=2, max_value=len(value) - 1))
    alphabet = "0123456789" if value[position].isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != value[position]]))
    changed = value[:position] + replacement + value[position + 1 :]
    assert not iban.is_valid_iban(changed)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "FR",
        "FR7630006000011234567890188",
        "DE8937040044053201300",
        "1234567890123456",
        "FR76-3000-6000",
        "XK05121201234567890",  # one character short of Kosovo's 20
        "FR7630006000011234567890A89",  # a letter where the French format has digits only
    ],
)
def test_invalid_ibans_are_refused_with_a_reason(text):
    assert not iban.is_valid_iban(text)
    with pytest.raises(iban.IbanError):
        iban.validate_iban(text)


# ISO 9362:2022 lets the first four characters be digits too ("1EUTDEFF").
@pytest.mark.parametrize("text", ["DEUTDEFF", "DEUTDEFFXXX", "bnpafrpp", "MEMOFRP2XXX", "1EUTDEFF"])
def test_valid_bics(text):
    assert iban.is_valid_bic(text)


@pytest.mark.parametrize("text", ["", "DEUT", "DEUTDEF", "DEUTDEFFXX", "DEUTZZFF", "DEUTDEFFXXXX", "DEUT DE"])
def test_invalid_bics(text):
    assert not iban.is_valid_bic(text)
