"""NAV and rate rules: precision checks and growth rounding (pure, no database)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spiko.domain import nav as rules

navs = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("500"), places=6)
rates = st.decimals(min_value=Decimal("-0.05"), max_value=Decimal("0.20"), places=4)
decimals = st.integers(min_value=0, max_value=10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", "1.000000"), ("1.0236", "1.023600"), ("1.0236000000", "1.023600"), ("0.000001", "0.000001")],
)
def test_nav_values_are_quantized_to_the_share_class_decimals(value: str, expected: str) -> None:
    checked = rules.check_nav_value(Decimal(value), 6)
    assert str(checked) == expected


@pytest.mark.parametrize("value", ["0", "-1.02", "1.0000001", "NaN", "Infinity", "0.0000001"])
def test_invalid_nav_values_are_refused(value: str) -> None:
    with pytest.raises(rules.InvalidValueError):
        rules.check_nav_value(Decimal(value), 6)


@pytest.mark.parametrize("rate", ["0", "-1.1", "1.0000000000001", "NaN", "1E+20"])
def test_invalid_fx_rates_are_refused(rate: str) -> None:
    with pytest.raises(rules.InvalidValueError):
        rules.check_fx_rate(Decimal(rate))


def test_growth_over_a_weekend_compounds_three_calendar_days() -> None:
    friday = Decimal("1.000000")
    monday = rules.grow_nav(friday, Decimal("0.035"), 3, 6)
    # 1.035 ** (3/365) = 1.000282786... -> half-even to 6 decimals
    assert monday == Decimal("1.000283")
    assert rules.grow_nav(friday, Decimal("0.035"), 0, 6) == friday


def test_public_eutbl_path_is_reproduced() -> None:
    """1.000000 on 2024-04-30 growing at 3.5 %/year reaches about 1.0236 at the end of 2024."""
    value = rules.grow_nav(Decimal("1.000000"), Decimal("0.035"), 245, 6)
    assert Decimal("1.0230") < value < Decimal("1.0240")


@given(navs, rates, st.integers(min_value=0, max_value=400), decimals)
def test_growth_is_the_exact_compound_rounded_half_even(
    previous: Decimal, rate: Decimal, days: int, places: int
) -> None:
    grown = rules.grow_nav(previous, rate, days, places)
    assert grown.as_tuple().exponent == -places
    exact = Context(prec=60).multiply(
        previous, Context(prec=60).power(1 + rate, Context(prec=60).divide(Decimal(days), Decimal(365)))
    )
    # Within half a quantum of the exact value (plus the 34-digit working precision).
    assert abs(grown - exact) <= rules.quantum(places) / 2 + Decimal("1e-25")
    assert grown == exact.quantize(rules.quantum(places), rounding=ROUND_HALF_EVEN) or abs(
        abs(grown - exact) - rules.quantum(places) / 2
    ) < Decimal("1e-25")


@given(navs, st.decimals(min_value=Decimal("0"), max_value=Decimal("0.20"), places=4), st.integers(1, 30))
def test_non_negative_growth_never_lowers_a_nav(previous: Decimal, rate: Decimal, days: int) -> None:
    assert rules.grow_nav(previous, rate, days, 6) >= previous


@given(navs, st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.20"), places=4))
def test_growth_is_monotonic_in_elapsed_days(previous: Decimal, rate: Decimal) -> None:
    values = [rules.grow_nav(previous, rate, days, 6) for days in range(0, 40, 3)]
    assert values == sorted(values)


def test_growth_refuses_time_travel_and_total_loss() -> None:
    with pytest.raises(rules.InvalidValueError):
        rules.grow_nav(Decimal(1), Decimal("0.03"), -1, 6)
    with pytest.raises(rules.InvalidValueError):
        rules.grow_nav(Decimal(1), Decimal("-1"), 1, 6)


def test_annualized_return() -> None:
    assert rules.annualized_return(Decimal("1"), Decimal("1.001"), 365 // 5) == Decimal("0.005")
    with pytest.raises(rules.InvalidValueError):
        rules.annualized_return(Decimal("1"), Decimal("1"), 0)
