"""The investor app's own Jinja filters, on the page's locale (``spiko.i18n``, CLDR):

``amount`` (``money`` that prints an en dash for a missing amount), ``shares`` and ``nav`` (a
number of shares or a NAV with the share class's decimals) and ``day`` (a ``<time>`` element: a
date, or a moment to the minute in UTC, with its ISO form in ``datetime``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from spiko import i18n

MISSING = "–"


def _locale(context: Context) -> str:
    locale = context.get("locale")
    return locale if isinstance(locale, str) and i18n.is_locale(locale) else i18n.DEFAULT_LOCALE


@pass_context
def amount(context: Context, value: Decimal | None, currency: str) -> str:
    return MISSING if value is None else i18n.format_money(value, currency, _locale(context))


@pass_context
def shares(context: Context, value: Decimal | None, decimals: int) -> str:
    return MISSING if value is None else i18n.format_number(value, _locale(context), decimals)


@pass_context
def nav(context: Context, value: Decimal | None, decimals: int, currency: str) -> str:
    return MISSING if value is None else i18n.format_money(value, currency, _locale(context), decimals)


@pass_context
def day(context: Context, value: date | datetime | None) -> Markup | str:
    if value is None:
        return MISSING
    locale = _locale(context)
    text = (
        i18n.format_datetime(value, locale)
        if isinstance(value, datetime)
        else i18n.format_date(value, locale)
    )
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), escape(text))


FILTERS: dict[str, Callable[..., Any]] = {"amount": amount, "shares": shares, "nav": nav, "day": day}
