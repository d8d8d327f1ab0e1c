"""Properties of the pure money rules: exact floors and ceilings, checked with integer arithmetic."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spiko.domain.money import (
    MoneyError,
    amount_for_shares,
    exact_sum,
    format_amount,
    format_decimal,
    minor_units,
    parse_non_negative,
    quantum,
    round_down,
    round_up,
    shares_for_amount,
    shares_to_raise,
    shares_to_withdraw,
    value_of,
    withdrawal_estimate,
)
from spiko.domain.positions import holdings_value

navs = st.integers(min_value=1, max_value=10**10).map(lambda n: Decimal(n).scaleb(-6))  # up to 10000.000000
amounts = st.integers(min_value=0, max_value=10**14).map(lambda n: Decimal(n).scaleb(-2))  # cents
share_decimals = st.integers(min_value=0, max_value=8)
currencies = st.sampled_from(["EUR", "USD", "GBP", "CHF", "JPY", "SGD"])


def as_fraction(value: Decimal) -> tuple[int, int]:
    """value == numerator / 10**scale, exactly."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    numerator = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if exponent >= 0:
        return numerator * 10**exponent, 1
    return numerator, 10**-exponent


def exact_product_le(left: Decimal, right: Decimal, bound: Decimal) -> bool:
    """left * right <= bound, in integers."""
    ln, ld = as_fraction(left)
    rn, rd = as_fraction(right)
    bn, bd = as_fraction(bound)
    return ln * rn * bd <= bn * ld * rd


@given(amounts, navs, share_decimals)
def test_a_deposit_buys_the_exact_floor_of_shares(amount, nav, decimals):
    shares = shares_for_amount(amount, nav, decimals)
    step = quantum(decimals)
    assert shares >= 0
    assert shares == shares.quantize(step)
    # shares * nav <= amount < (shares + step) * nav: exact, with integers.
    assert exact_product_le(shares, nav, amount)
    sn, sd = as_fraction(shares + step)
    nn, nd = as_fraction(nav)
    an, ad = as_fraction(amount)
    assert sn * nn * ad > an * sd * nd  # strictly more than the amount: the floor is the largest


@given(amounts, navs, share_decimals)
def test_an_amount_withdrawal_redeems_the_exact_ceiling(amount, nav, decimals):
    shares = shares_to_raise(amount, nav, decimals)
    step = quantum(decimals)
    assert shares == shares.quantize(step)
    # (shares - step) * nav < amount <= shares * nav
    sn, sd = as_fraction(shares)
    nn, nd = as_fraction(nav)
    an, ad = as_fraction(amount)
    assert an * sd * nd <= sn * nn * ad
    if shares > 0:
        pn, pd = as_fraction(shares - step)
        assert pn * nn * ad < an * pd * nd


@given(
    st.integers(min_value=0, max_value=10**15).map(lambda n: Decimal(n).scaleb(-5)),
    navs,
    currencies,
)
def test_a_redemption_pays_the_floor_to_the_minor_unit(shares, nav, currency):
    paid = amount_for_shares(shares, nav, currency)
    unit = Decimal(1) if currency == "JPY" else Decimal("0.01")
    assert paid == paid.quantize(unit)
    assert exact_product_le(Decimal(1), paid, shares * nav)  # paid <= shares * nav (exact product)
    assert shares * nav < paid + unit


@given(amounts, navs, share_decimals)
def test_an_amount_withdrawal_pays_at_least_the_amount(amount, nav, decimals):
    """Redeeming ceil(amount / nav) shares pays floor(shares * nav) >= amount (amounts in cents)."""
    shares = shares_to_raise(amount, nav, decimals)
    assert amount_for_shares(shares, nav, "EUR") >= amount


@given(st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, places=9), st.integers(0, 8))
def test_round_down_and_up_bracket_the_value(value, decimals):
    low, high = round_down(value, decimals), round_up(value, decimals)
    assert low <= value <= high
    assert high - low in (0, quantum(decimals))


@pytest.mark.parametrize("text", ["", "-1", "1e3", "NaN", "Infinity", "1.2.3", ".5", "5.", " ", "+1", "0x10"])
def test_wire_decimals_are_parsed_strictly(text):
    with pytest.raises(MoneyError):
        parse_non_negative(text, max_decimals=2)


def test_too_many_decimals_are_refused_but_trailing_zeros_are_fine():
    assert parse_non_negative("10.500", max_decimals=2) == Decimal("10.5")
    with pytest.raises(MoneyError):
        parse_non_negative("10.505", max_decimals=2)


def test_wire_formats():
    assert format_amount(Decimal("1000"), "EUR") == "1000.00"
    assert format_amount(Decimal("1000"), "JPY") == "1000"
    assert format_decimal(Decimal("12.5"), 5) == "12.50000"
    with pytest.raises(MoneyError):
        format_decimal(Decimal("0.123456"), 5)
    with pytest.raises(MoneyError):
        amount_for_shares(Decimal(1), Decimal(1), "XXX")
    with pytest.raises(MoneyError):
        shares_for_amount(Decimal(1), Decimal(0), 5)


# --- one rounding rule per figure ------------------------------------------------------------

held_shares = st.integers(min_value=0, max_value=10**15).map(lambda n: Decimal(n).scaleb(-5))


@given(held_shares, navs, currencies)
def test_the_value_of_a_holding_is_what_withdrawing_all_of_it_pays(shares, nav, currency):
    """One number: the value shown is the payment for every share, and the positions' holdings."""
    shown = value_of(shares, nav, currency)
    assert shown == amount_for_shares(shares, nav, currency)
    assert holdings_value(shares, nav, minor_units(currency)) == shown


@given(held_shares, navs, st.integers(min_value=0, max_value=8), currencies)
def test_the_value_shown_is_withdrawable_in_full_by_amount(shares, nav, decimals, currency):
    """Asking for exactly the value shown redeems every share and pays exactly that value; asking
    for one minor unit less never redeems more shares than are held."""
    shares = round_down(shares, decimals)
    shown = value_of(shares, nav, currency)
    redeemed = shares_to_withdraw(shown, nav, shares, decimals, currency)
    assert redeemed == shares
    assert amount_for_shares(redeemed, nav, currency) == shown
    unit = quantum(minor_units(currency))
    if shown >= unit:
        less = shares_to_withdraw(shown - unit, nav, shares, decimals, currency)
        assert less <= shares
        assert amount_for_shares(less, nav, currency) >= shown - unit


@given(held_shares, navs, st.sampled_from(["shares", "total", "amount"]), amounts)
def test_a_pending_estimate_follows_the_rule_of_execution(shares, nav, mode, amount):
    """What a pending withdrawal shows is floor(redeemed x NAV), the redeemed shares being those
    execution at that NAV takes: never more than they are worth, never less than an amount asked."""
    asked = amount if mode == "amount" else None
    reserved = shares if mode != "amount" else min(shares_to_raise(amount, nav, 5), shares)
    estimate = withdrawal_estimate(mode, nav, "EUR", 5, amount=asked, shares=reserved)
    redeemed = reserved if mode != "amount" else shares_to_withdraw(amount, nav, reserved, 5, "EUR")
    exact = Fraction(redeemed) * Fraction(nav)
    assert Fraction(estimate) <= exact < Fraction(estimate) + Fraction(1, 100)
    assert estimate == estimate.quantize(Decimal("0.01"))
    if mode == "amount" and reserved == shares_to_raise(amount, nav, 5):
        assert estimate >= amount


@given(st.lists(st.integers(min_value=0, max_value=10**23).map(lambda n: Decimal(n).scaleb(-5)), max_size=40))
def test_sums_are_exact_where_floats_are_not(values):
    """Up to 10^18 with five decimals (23 digits): float sums drift, the exact sum never does."""
    total = exact_sum(values)
    assert total == sum((Fraction(value) for value in values), Fraction(0))


def test_exact_sum_refuses_floats():
    with pytest.raises(MoneyError):
        exact_sum([Decimal(1), 0.1])  # type: ignore[list-item]
