"""The statement PDF: real, extractable text with the investor's language and number formats."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from spiko.services.reporting.locales import LOCALES, format_date, format_money, format_number
from spiko.services.reporting.statement_pdf import (
    Statement,
    StatementMovement,
    StatementPosition,
    render_statement,
)


def _statement(movements: int = 3) -> Statement:
    items = [
        StatementMovement(
            day=date(2025, 1, 6 + index % 20),
            kind=("subscription", "redemption", "transfer_in", "transfer_out")[index % 4],
            shares=Decimal("1234.56789") * (1 if index % 4 in (0, 2) else -1),
            nav=Decimal("1.012345"),
            amount=Decimal("1249.80") * (1 if index % 4 in (0, 2) else -1),
            reference=f"order{index:04d}-0000",
        )
        for index in range(movements)
    ]
    return Statement(
        investor_name="Alice Treasury SAS",
        investor_address=["1 rue de la Paix", "75002 Paris"],
        account_label="Main treasury",
        share_class_symbol="EUTBL",
        share_class_name="Spiko EU T-Bills Money Market Fund",
        isin="FR001400SPK1",
        currency="EUR",
        share_decimals=5,
        nav_decimals=6,
        period_start=date(2025, 1, 1),
        period_end=date(2025, 3, 31),
        issued_on=date(2025, 4, 1),
        opening=StatementPosition(
            date(2024, 12, 31), Decimal("98765.43210"), Decimal("1.010000"), Decimal("99753.09")
        ),
        closing=StatementPosition(
            date(2025, 3, 31), Decimal("100000"), Decimal("1.018765"), Decimal("101876.50")
        ),
        subscriptions=Decimal("1249.80"),
        redemptions=Decimal("1249.80"),
        transfers=Decimal("0"),
        yield_=Decimal("2123.41"),
        realized_gain=Decimal("12.34"),
        unrealized_gain=Decimal("1876.50"),
        movements=items,
        monthly_yields=[(date(2025, 1, 1), Decimal("700.11")), (date(2025, 2, 1), Decimal("650.00"))],
    )


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize(
    ("locale", "title", "value", "period"),
    [
        # Amounts, dates and month names as CLDR writes them (Babel), not as written by hand.
        ("en", "Account statement", "€101,876.50", "from 1 January 2025 to 31 March 2025"),
        ("fr", "Relevé de compte", "101\u00a0876,50\u00a0€", "du 1 janvier 2025 au 31 mars 2025"),
        ("es", "Extracto de cuenta", "101.876,50\u00a0€", "del 1 de enero de 2025 al 31 de marzo de 2025"),
        ("it", "Estratto conto", "101.876,50\u00a0€", "dal 1 gennaio 2025 al 31 marzo 2025"),
        ("de", "Kontoauszug", "101.876,50\u00a0€", "vom 1. Januar 2025 bis 31. März 2025"),
    ],
)
def test_statement_text_is_extractable_and_localized(
    locale: str, title: str, value: str, period: str
) -> None:
    pdf = render_statement(_statement(), locale=locale)
    assert pdf.startswith(b"%PDF")
    text = _text(pdf).replace("\u00a0", " ")
    yield_text = format_money(Decimal("2123.41"), "EUR", locale)
    for expected in (title, "Alice Treasury SAS", "EUTBL", "FR001400SPK1", value, period, yield_text):
        assert expected.replace("\u00a0", " ") in text
    # Shares are hidden unless asked for.
    assert format_number(Decimal("98765.43210"), 5, locale).replace("\u00a0", " ") not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_show_number_of_shares_adds_share_quantities(locale: str) -> None:
    text = _text(render_statement(_statement(), locale=locale, show_shares=True)).replace("\u00a0", " ")
    assert format_number(Decimal("98765.43210"), 5, locale).replace("\u00a0", " ") in text
    assert format_number(Decimal("100000"), 5, locale).replace("\u00a0", " ") in text
    assert format_number(Decimal("-1234.56789"), 5, locale).replace("\u00a0", " ") in text


def test_every_movement_is_listed_across_pages() -> None:
    statement = _statement(movements=120)
    reader = PdfReader(io.BytesIO(render_statement(statement, locale="en")))
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    for index in range(120):
        assert f"order{index:04d}"[:8] in text
    assert text.count("Transfer out") == 30
    assert "Page 3" in text


def test_empty_period_says_so() -> None:
    statement = _statement(movements=0)
    text = _text(render_statement(statement, locale="fr"))
    assert "Aucun mouvement sur la période." in text
    assert format_money(Decimal("-1249.80"), "EUR", "fr").replace("\u00a0", " ") in text.replace(
        "\u00a0", " "
    )


@pytest.mark.parametrize(
    ("locale", "january", "first_day"),
    [
        ("en", "January 2025", "1 Jan 2025"),
        ("fr", "janvier 2025", "1 janv. 2025"),
        ("es", "enero de 2025", "1 ene 2025"),
        ("it", "gennaio 2025", "1 gen 2025"),
        ("de", "Januar 2025", "01.01.2025"),
    ],
)
def test_month_names_and_dates_come_from_cldr(locale: str, january: str, first_day: str) -> None:
    statement = _statement()
    text = _text(render_statement(statement, locale=locale))
    assert january in text  # the yield by month
    assert format_date(statement.period_start, locale) == first_day
    assert first_day in text  # the footer
    # Helvetica has no narrow no-break space: CLDR's French separators are drawn as no-break spaces.
    assert "\u202f" not in format_money(Decimal("-1249.80"), "EUR", locale)
    assert "\u202f" not in format_number(Decimal("1234567.5"), 2, locale)
