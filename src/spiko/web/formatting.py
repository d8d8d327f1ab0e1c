"""How the investor app's pages print money, shares and days (Jinja filters).

Amounts keep their currency's minor-unit decimals (``presenters.formats``), grouped by
thousands; the locale-aware forms replace these once a page knows its reader's locale.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from spiko.presenters.formats import amount_text, decimal_text


def _grouped(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}"
    return sign + grouped + (f".{fraction}" if fraction else "")


def money(value: Decimal | None, currency: str) -> str:
    """``1,234.56 EUR``; an en dash when there is no amount."""
    if value is None:
        return "–"
    return f"{_grouped(amount_text(value, currency))} {currency}"


def shares(value: Decimal | None, decimals: int) -> str:
    if value is None:
        return "–"
    return _grouped(decimal_text(value, decimals))


def nav(value: Decimal | None, decimals: int, currency: str) -> str:
    if value is None:
        return "–"
    return f"{decimal_text(value, decimals)} {currency}"


def day(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


FILTERS: dict[str, Callable[..., Any]] = {"money": money, "shares": shares, "nav": nav, "day": day}
