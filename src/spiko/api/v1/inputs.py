"""Request pieces shared by the account and order routes: strict bodies, amounts and shares."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from spiko.domain.money import Currency, MoneyError, minor_units, parse_non_negative
from spiko.errors import HttpApiDecodeError


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmountIn(StrictModel):
    value: str
    currency: Currency


def parse_amount(amount: AmountIn, path: list[str | int]) -> Decimal:
    """The amount, with no more decimals than its currency's minor unit (every order type)."""
    try:
        return parse_non_negative(amount.value, max_decimals=minor_units(amount.currency), what="value")
    except MoneyError as error:
        raise HttpApiDecodeError.single([*path, "value"], str(error), "Refinement") from None


def parse_shares(text: str, path: list[str | int]) -> Decimal:
    try:
        return parse_non_negative(text, max_decimals=18, what="shares")
    except MoneyError as error:
        raise HttpApiDecodeError.single(path, str(error), "Refinement") from None
