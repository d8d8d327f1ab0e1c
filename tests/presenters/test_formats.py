"""The one formatter each for timestamps, money and shares, on the domain's minor-unit table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from spiko.domain.money import CURRENCIES, MINOR_UNITS
from spiko.presenters.formats import (
    amount_text,
    day_start_epoch,
    money,
    plain_decimal,
    share_units,
    shares_text,
    timestamp,
)


def test_every_currency_of_the_wire_has_a_minor_unit_and_no_other():
    assert set(CURRENCIES) == set(MINOR_UNITS)


def test_timestamps_are_utc_with_milliseconds_whatever_the_offset():
    paris = timezone(timedelta(hours=2))
    assert timestamp(datetime(2024, 4, 30, 19, 0, 0, 123456, tzinfo=paris)) == "2024-04-30T17:00:00.123Z"
    assert timestamp(datetime(2024, 4, 30, 17, 0, tzinfo=UTC)) == "2024-04-30T17:00:00.000Z"
    assert timestamp(None) is None


def test_amounts_have_their_currency_minor_unit():
    assert money(Decimal("1000"), "EUR") == {"value": "1000.00", "currency": "EUR"}
    assert amount_text(Decimal("1000"), "JPY") == "1000"
    assert amount_text(Decimal("-0.5"), "USD") == "-0.50"


def test_shares_have_the_share_class_decimals_and_units_round_down():
    assert shares_text(Decimal("12.5"), 5) == "12.50000"
    assert shares_text(None, 5) is None
    assert share_units(Decimal("1.234569"), 5) == "123456"


def test_plain_decimals_drop_needless_zeros_without_exponent():
    assert plain_decimal(Decimal("1000.000")) == "1000"
    assert plain_decimal(Decimal("0.002500")) == "0.0025"


def test_day_start_epoch_is_midnight_utc():
    assert day_start_epoch(date(1970, 1, 2)) == "86400"
