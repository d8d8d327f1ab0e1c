"""The five languages of the investor app and of the account statement: en, fr, es, it, de.

- ``negotiate(accept_language)``: the best of the five for a browser's ``Accept-Language``.
- ``translations(locale)``: the gettext catalog of a language, read from the ``.po`` file shipped in
  this package (``locales/<lang>/LC_MESSAGES/messages.po``) and compiled in memory by Babel the
  first time it is asked for. English is the language the strings are written in: no catalog.
- ``format_number``, ``format_money``, ``format_percent``, ``format_date``, ``format_datetime``,
  ``format_month``: numbers, amounts, dates as CLDR (through Babel) writes them in each language.
  The pages use them as the Jinja filters ``number``, ``money``, ``percent``, ``date``,
  ``datetime`` and ``month`` (``spiko.web.rendering``).
- ``N_(text)``: marks a string that is translated later, where it is shown (extraction finds it).

This module imports nothing of HTTP: services (the PDF statement) use it as the pages do.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import get_currency_precision
from babel.support import NullTranslations, Translations

LOCALES: tuple[str, ...] = ("en", "fr", "es", "it", "de")
DEFAULT_LOCALE = "en"
# The language each locale is called in itself, for the language switch.
NATIVE_NAMES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "de": "Deutsch",
}
# The CLDR locale whose conventions each language formats with. English follows the British
# conventions (day before month, 24-hour clock), as the fund's European investors write it.
CLDR_LOCALES: dict[str, str] = {"en": "en_GB", "fr": "fr_FR", "es": "es_ES", "it": "it_IT", "de": "de_DE"}

CATALOG_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"


def N_(text: str) -> str:  # noqa: N802 - the usual gettext name
    """Mark ``text`` for extraction; it is translated where it is shown (``_(text)`` in a page)."""
    return text


def is_locale(value: object) -> bool:
    return isinstance(value, str) and value in LOCALES


def negotiate(accept_language: str | None) -> str:
    """The locale that suits an ``Accept-Language`` header best; English when none of the five does.

    Languages are taken in the order of their quality (``q``, 1 when absent; ``q=0`` refuses one);
    a regional tag (``fr-CH``) counts for its language.
    """
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(weighted):
        language = tag.replace("_", "-").split("-")[0]
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE


def catalog_path(locale: str) -> Path:
    return CATALOG_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


class GettextTranslations(Protocol):
    def gettext(self, message: str) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int) -> str: ...
    def pgettext(self, context: str, message: str) -> str | object: ...
    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str: ...


@cache
def translations(locale: str) -> GettextTranslations:
    """The compiled catalog of ``locale`` (English, and any unknown locale: the strings as written).

    Fuzzy entries are left out, so a string whose translation is in doubt shows in English.
    """
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return NullTranslations()
    with catalog_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(locale: str, message: str, **variables: Any) -> str:
    """``message`` in ``locale``, with ``%(name)s`` placeholders filled from ``variables``."""
    text = translations(locale).gettext(message)
    return text % variables if variables else text


def ngettext(locale: str, singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(locale).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


# -- numbers, amounts, dates ------------------------------------------------------------------------


def _cldr(locale: str) -> Locale:
    return Locale.parse(CLDR_LOCALES.get(locale, locale))


def _exactly(value: Decimal | int | float | str, decimals: int) -> Decimal:
    """``value`` rounded half up to ``decimals`` decimals (Decimal arithmetic, never binary floats)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _decimals_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def format_number(value: Decimal | int | float | str, locale: str, decimals: int | None = None) -> str:
    """A number with the locale's separators: ``1,234.5`` (en), ``1 234,5`` (fr), ``1.234,5`` (de).

    With ``decimals``, exactly that many (rounded half up); without, as many as ``value`` has.
    """
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    places = _decimals_of(number) if decimals is None else decimals
    cldr = _cldr(locale)
    pattern = copy.copy(cldr.decimal_formats[None])
    pattern.frac_prec = (places, places)
    return str(pattern.apply(_exactly(number, places), cldr))


def format_money(
    value: Decimal | int | float | str, currency: str, locale: str, decimals: int | None = None
) -> str:
    """An amount with its currency as the locale writes it: ``€1,234.50`` (en), ``1 234,50 €`` (fr).

    ``decimals`` defaults to the currency's own (2 for EUR, 0 for JPY); rounding is half up.
    """
    places = get_currency_precision(currency) if decimals is None else decimals
    cldr = _cldr(locale)
    pattern = copy.copy(cldr.currency_formats["standard"])
    pattern.frac_prec = (places, places)
    return str(pattern.apply(_exactly(value, places), cldr, currency=currency, currency_digits=False))


def format_percent(value: Decimal | int | float | str, locale: str, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.0345 is ``3.45%`` (en), ``3,45 %`` (fr)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    cldr = _cldr(locale)
    pattern = copy.copy(cldr.percent_formats[None])
    pattern.frac_prec = (decimals, decimals)
    return str(pattern.apply(_exactly(number * 100, decimals) / 100, cldr))


def format_date(day: date | datetime, locale: str, style: str = "medium") -> str:
    """A date in CLDR's ``short``, ``medium``, ``long`` or ``full`` style: ``28 Nov 2026`` (en,
    medium), ``28 nov. 2026`` (fr), ``28.11.2026`` (de); ``long`` spells the month out."""
    return babel_format_date(day, style, locale=_cldr(locale))


def format_datetime(moment: datetime, locale: str, tz: timezone = UTC) -> str:
    """A moment to the minute in ``tz`` (UTC unless told), with the zone's name: ``28 Nov 2026,
    14:05 UTC`` (en), ``28.11.2026, 14:05 UTC`` (de)."""
    cldr = _cldr(locale)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(tz)
    day = babel_format_date(moment, "medium", locale=cldr)
    time = format_time(moment, "short", tzinfo=tz, locale=cldr)
    joined = str(get_datetime_format("medium", locale=cldr)).replace("{1}", day).replace("{0}", time)
    return f"{joined} {moment.tzname() or 'UTC'}"


def format_month(day: date | datetime, locale: str) -> str:
    """A month and its year: ``January 2025`` (en), ``enero de 2025`` (es), ``Januar 2025`` (de)."""
    return format_skeleton("yMMMM", day, locale=_cldr(locale))


FORMATTERS: dict[str, Callable[..., str]] = {
    "number": format_number,
    "money": format_money,
    "percent": format_percent,
    "date": format_date,
    "datetime": format_datetime,
    "month": format_month,
}
