"""The investor app in five languages: which one a browser gets, the switch that remembers it, the
catalogs that must translate every string of every page, and Babel's (CLDR) numbers and dates."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from spiko import i18n
from spiko.i18n import catalogs
from tests.world import csrf_token, sign_in

ROOT = Path(__file__).resolve().parents[2]
LANG_RE = re.compile(r'<html lang="([a-z]+)">')


def _lang(page: str) -> str:
    match = LANG_RE.search(page)
    assert match, page[:200]
    return match.group(1)


def test_every_string_of_every_page_is_translated_in_every_catalog():
    """Extracts the strings of the templates and of the Python code with Babel, as
    ``python -m spiko.i18n.catalogs update`` does, and compares them with each ``.po`` file."""
    wanted = {message.id for message in catalogs.extract() if message.id}
    assert "Sign in" in wanted and "Create API key" in wanted and "Invalid email or password." in wanted
    assert list(catalogs.problems()) == []


def test_the_check_finds_a_string_no_catalog_has(tmp_path):
    templates = tmp_path / "web" / "templates"
    templates.mkdir(parents=True)
    (templates / "new_page.html").write_text('<p>{{ _("A sentence no translator has seen yet") }}</p>')
    (tmp_path / "notices.py").write_text('notice = translate(request, "Sign out")\n')  # known to all
    found = list(catalogs.problems(tmp_path))
    assert sorted(line.split(":")[0] for line in found) == ["de", "es", "fr", "it"]
    assert all("A sentence no translator has seen yet" in line for line in found)


def test_catalogs_ship_as_package_data():
    """A wheel (not only an editable install) carries every catalog: pyproject's package-data
    patterns match each ``.po`` file and the template."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["spiko"]
    package = ROOT / "src" / "spiko"
    shipped = [path for path in (package / "i18n" / "locales").rglob("*.po*")]
    assert len(shipped) == 5  # four languages and the template
    for path in shipped:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("de-CH", "de"),
        ("pt-BR,pt;q=0.9,it;q=0.5,es;q=0.4", "it"),
        ("es;q=0.2, fr;q=0.9", "fr"),
        ("fr;q=0, es", "es"),
        ("ja, zh", "en"),
        ("*", "en"),
    ],
)
def test_accept_language_chooses_the_page_language(client, header, locale):
    headers = {"Accept-Language": header} if header else {}
    page = client.get("/login", headers=headers)
    assert page.status_code == 200
    assert _lang(page.text) == locale
    assert page.headers["content-language"] == locale
    title = {"en": "Sign in", "fr": "Se connecter", "es": "Iniciar sesión", "it": "Accedi", "de": "Anmelden"}
    assert f"<h1>{title[locale]}</h1>" in page.text


def test_the_switch_is_remembered_and_wins_over_accept_language(client):
    german = {"Accept-Language": "de"}
    page = client.get("/login?next=/authorized-apps", headers=german)
    assert _lang(page.text) == "de" and 'value="de" lang="de" selected' in page.text
    switched = client.post(
        "/locale",
        data={"locale": "it", "next": "/login?next=/authorized-apps", "csrf_token": csrf_token(page.text)},
        headers=german,
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login?next=/authorized-apps"
    cookie = switched.headers["set-cookie"]
    assert cookie.startswith("spiko_locale=it;") and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    again = client.get("/login", headers=german)
    assert _lang(again.text) == "it" and "<h1>Accedi</h1>" in again.text


def test_the_switch_refuses_a_foreign_form_and_ignores_an_unknown_language(client):
    page = client.get("/login")
    refused = client.post("/locale", data={"locale": "fr", "csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403 and "spiko_locale" not in refused.headers.get("set-cookie", "")
    unknown = client.post(
        "/locale",
        data={"locale": "pt", "next": "//evil.example", "csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert unknown.status_code == 303 and unknown.headers["location"] == "/integrations"
    assert "spiko_locale" not in unknown.headers.get("set-cookie", "")
    client.cookies.set("spiko_locale", "xx")  # a cookie no switch wrote: Accept-Language decides
    assert _lang(client.get("/login", headers={"Accept-Language": "es"}).text) == "es"


def test_messages_made_in_python_are_translated(client, investor):
    client.cookies.set("spiko_locale", "fr")
    refused = sign_in(client, investor.email, "not the password")
    assert refused.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in refused.text
    expired = client.post("/login", data={"email": investor.email, "password": "x", "csrf_token": "old"})
    assert expired.status_code == 403 and "<h1>Formulaire expiré</h1>" in expired.text
    missing = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "Page introuvable" in missing.text


def test_signed_in_pages_in_german_with_cldr_dates(client, investor):
    client.cookies.set("spiko_locale", "de")
    assert sign_in(client, investor.email, investor.password).status_code == 303
    page = client.get("/integrations").text
    assert _lang(page) == "de"
    for text in (
        "Integrationen",
        "Autorisierte Apps",
        "Abmelden",
        "API-Schlüssel anlegen",
        "Aktive API-Schlüssel",
    ):
        assert text in page
    assert "Create API key" not in page and "Sign out" not in page
    created = re.search(r"<td>(\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC)</td>", page)  # de: 30.11.2026, 14:05
    assert created, page
    revoke = client.post("/integrations", data={"revoke": investor.client_id, "csrf_token": csrf_token(page)})
    assert "wurde widerrufen" in revoke.text
    apps = client.get("/authorized-apps").text
    assert "Keine App hat Zugriff auf Ihr Konto." in apps


@pytest.mark.parametrize(
    ("locale", "money", "number", "percent", "long_date", "month", "moment"),
    [
        (
            "en",
            "€101,876.51",
            "-1,234.56789",
            "3.46%",
            "1 January 2025",
            "March 2025",
            "28 Nov 2026, 14:05 UTC",
        ),
        (
            "fr",
            "101\u202f876,51\u00a0€",
            "-1\u202f234,56789",
            "3,46\u00a0%",
            "1 janvier 2025",
            "mars 2025",
            "28 nov. 2026, 14:05 UTC",
        ),
        (
            "es",
            "101.876,51\u00a0€",
            "-1.234,56789",
            "3,46\u00a0%",
            "1 de enero de 2025",
            "marzo de 2025",
            "28 nov 2026, 14:05 UTC",
        ),
        (
            "it",
            "101.876,51\u00a0€",
            "-1.234,56789",
            "3,46%",
            "1 gennaio 2025",
            "marzo 2025",
            "28 nov 2026, 14:05 UTC",
        ),
        (
            "de",
            "101.876,51\u00a0€",
            "-1.234,56789",
            "3,46\u00a0%",
            "1. Januar 2025",
            "März 2025",
            "28.11.2026, 14:05 UTC",
        ),
    ],
)
def test_numbers_money_and_dates_follow_cldr(locale, money, number, percent, long_date, month, moment):
    assert i18n.format_money(Decimal("101876.505"), "EUR", locale) == money  # half up, never to even
    assert i18n.format_number(Decimal("-1234.56789"), locale) == number
    assert i18n.format_percent(Decimal("0.034567"), locale) == percent
    assert i18n.format_date(date(2025, 1, 1), locale, "long") == long_date
    assert i18n.format_month(date(2025, 3, 17), locale) == month
    assert i18n.format_datetime(datetime(2026, 11, 28, 14, 5, 59), locale) == moment


def test_money_keeps_the_currency_digits_unless_told():
    assert i18n.format_money(Decimal("1234"), "JPY", "en") == "JP¥1,234"
    assert i18n.format_money(Decimal("0.125"), "USD", "en") == "US$0.13"
    assert i18n.format_money(Decimal("1.23456"), "EUR", "de", decimals=4) == "1,2346\u00a0€"
    assert i18n.format_number(Decimal("100000"), "fr", 2) == "100\u202f000,00"


def test_template_filters_format_in_the_page_language():
    from spiko.web.rendering import environment, page_gettext

    template = environment.from_string(
        '{{ 1234.5|money("EUR") }}|{{ amount|money }}|{{ 0.5|percent(0) }}|{{ day|date }}|{{ _("Sign out") }}'
    )
    values = {"amount": {"value": "2.5", "currency": "USD"}, "day": date(2026, 9, 3)}
    assert template.render(locale="fr", **page_gettext("fr"), **values) == (
        "1\u202f234,50\u00a0€|2,50\u00a0$US|50\u00a0%|3 sept. 2026|Se déconnecter"
    )
    assert template.render(locale="en", **page_gettext("en"), **values) == (
        "€1,234.50|US$2.50|50%|3 Sept 2026|Sign out"
    )
