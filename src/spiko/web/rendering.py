"""Rendering pages with Jinja2, each carrying the browser's CSRF token, in the browser's language.

The language of a page (``page_locale``) is the one the browser chose with the switch in the header
(the ``spiko_locale`` cookie, see ``spiko.web.locale``), else the best match of its
``Accept-Language`` among en, fr, es, it and de, else English. ``render`` gives the template that
language's gettext functions (so ``_()`` and ``{% trans %}`` translate) and the filters of
``spiko.i18n``: ``money``, ``number``, ``percent``, ``date``, ``datetime``, ``month``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from spiko import i18n
from spiko.auth.sessions import CSRF_COOKIE, csrf_seed, csrf_token_for
from spiko.web import formatting

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
LOCALE_COOKIE = "spiko_locale"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# Every user-visible string in a template is wrapped in ``_()`` (or ``{% trans %}``). The
# null translations only set the new-style gettext up; ``render`` passes each page the gettext
# functions of its language, which take the place of these.
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
environment.filters.update(formatting.FILTERS)


def _locale_of(context: Context) -> str:
    locale = context.get("locale")
    return locale if isinstance(locale, str) and i18n.is_locale(locale) else i18n.DEFAULT_LOCALE


def _amount_parts(value: Any, currency: str | None) -> tuple[Any, str]:
    """An amount's value and currency: ``value`` itself with ``currency``, or an object with
    ``.value`` and ``.currency`` (such as the API's ``Amount``) or a mapping of those."""
    if currency is None:
        if isinstance(value, dict):
            return value["value"], str(value["currency"])
        return value.value, str(value.currency)
    return value, currency


@pass_context
def _money(context: Context, value: Any, currency: str | None = None, decimals: int | None = None) -> str:
    amount, code = _amount_parts(value, currency)
    return i18n.format_money(amount, code, _locale_of(context), decimals)


@pass_context
def _number(context: Context, value: Any, decimals: int | None = None) -> str:
    return i18n.format_number(value, _locale_of(context), decimals)


@pass_context
def _percent(context: Context, value: Any, decimals: int = 2) -> str:
    return i18n.format_percent(value, _locale_of(context), decimals)


@pass_context
def _date(context: Context, value: Any, style: str = "medium") -> str:
    return i18n.format_date(value, _locale_of(context), style)


@pass_context
def _datetime(context: Context, value: Any) -> str:
    return i18n.format_datetime(value, _locale_of(context))


@pass_context
def _month(context: Context, value: Any) -> str:
    return i18n.format_month(value, _locale_of(context))


environment.filters.update(
    money=_money, number=_number, percent=_percent, date=_date, datetime=_datetime, month=_month
)
environment.globals.update(locales=i18n.LOCALES, locale_names=i18n.NATIVE_NAMES)


def _filled(context: Context, text: str, variables: dict[str, Any]) -> str:
    """Jinja2's new-style gettext: ``%(name)s`` filled from keyword arguments, escaped in HTML."""
    if context.eval_ctx.autoescape:
        # The catalogs are ours (trusted markup, as in the templates); the variables are escaped.
        return Markup(text) % variables  # noqa: S704
    return text % variables


def _newstyle(catalog: i18n.GettextTranslations) -> dict[str, Callable[..., str]]:
    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        return _filled(context, catalog.gettext(message), variables)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, /, **variables: Any) -> str:
        variables.setdefault("num", num)
        return _filled(context, catalog.ngettext(singular, plural, num), variables)

    @pass_context
    def pgettext(context: Context, message_context: str, message: str, /, **variables: Any) -> str:
        return _filled(context, str(catalog.pgettext(message_context, message)), variables)

    @pass_context
    def npgettext(
        context: Context, message_context: str, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        return _filled(context, catalog.npgettext(message_context, singular, plural, num), variables)

    return {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext, "npgettext": npgettext}


@cache
def page_gettext(locale: str) -> dict[str, Callable[..., str]]:
    """The gettext functions a template of ``locale`` calls (``_`` resolves to ``gettext``)."""
    return _newstyle(i18n.translations(locale))


def page_locale(request: Request) -> str:
    """The language of the pages for this browser: its switch, else ``Accept-Language``, else English."""
    chosen = getattr(request.state, "locale", None)
    if i18n.is_locale(chosen):
        return str(chosen)
    remembered = request.cookies.get(LOCALE_COOKIE)
    locale = (
        remembered if i18n.is_locale(remembered) else i18n.negotiate(request.headers.get("accept-language"))
    )
    assert locale is not None  # noqa: S101 - for mypy: negotiate always answers
    request.state.locale = locale
    return locale


def translate(request: Request, message: str, /, **variables: Any) -> str:
    """``message`` in the page's language (for text made in Python: notices, errors, titles)."""
    return i18n.gettext(page_locale(request), message, **variables)


def translate_plural(request: Request, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    """The form of ``singular``/``plural`` for ``num`` in the page's language (``%(num)s`` is ``num``)."""
    return i18n.ngettext(page_locale(request), singular, plural, num, **variables)


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; form-action 'self' http: https:; "
    "frame-ancestors 'none'",
}


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    *,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page in the browser's language with its CSRF token (setting the seed cookie if none)."""
    seed = csrf_seed(request)
    locale = page_locale(request)
    context.setdefault("user", None)
    html = environment.get_template(template).render(
        request=request,
        csrf_token=csrf_token_for(request, seed),
        locale=locale,
        **page_gettext(locale),
        **context,
    )
    response = HTMLResponse(
        html,
        status_code=status_code,
        headers={
            **SECURITY_HEADERS,
            "Content-Language": locale,
            "Vary": "Accept-Language, Cookie",
            **(headers or {}),
        },
    )
    if request.cookies.get(CSRF_COOKIE) != seed:
        csrf_seed(request, response)
    return response
