"""The account statement as a PDF (reportlab): real text, in the investor's language.

The document names the investor, the account(s), the share class (symbol, name and ISIN) and the
period; gives the opening and closing positions, the period's subscriptions, redemptions,
transfers and yield, the realized and unrealized gains, every movement, and the yield month by
month. Text is drawn with the standard Helvetica font, so any PDF reader can extract it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from spiko.services.reporting.locales import (
    LABELS,
    format_date,
    format_long_date,
    format_money,
    format_month,
    format_number,
)


@dataclass(frozen=True)
class StatementPosition:
    day: date
    shares: Decimal
    nav: Decimal | None
    value: Decimal


@dataclass(frozen=True)
class StatementMovement:
    day: date
    kind: str  # subscription | redemption | transfer_in | transfer_out
    shares: Decimal  # signed
    nav: Decimal
    amount: Decimal  # signed: + in, − out
    reference: str
    # The two rows of a correction: "reversal" (the entry taken back, negated) or "entry" (the
    # corrected one); None for every other movement.
    correction: str | None = None


@dataclass(frozen=True)
class Statement:
    investor_name: str
    investor_address: Sequence[str]
    account_label: str | None  # None: every account of the investor
    share_class_symbol: str
    share_class_name: str
    isin: str
    currency: str
    share_decimals: int
    nav_decimals: int
    period_start: date
    period_end: date
    issued_on: date
    opening: StatementPosition
    closing: StatementPosition
    subscriptions: Decimal
    redemptions: Decimal
    transfers: Decimal
    yield_: Decimal
    realized_gain: Decimal
    unrealized_gain: Decimal
    transferred_gain: Decimal = Decimal(0)
    opening_unrealized_gain: Decimal = Decimal(0)
    movements: Sequence[StatementMovement] = field(default_factory=tuple)
    monthly_yields: Sequence[tuple[date, Decimal]] = field(default_factory=tuple)

    @property
    def total_gain(self) -> Decimal:
        """Realized + transferred + change in unrealized gain over the period: the period's yield."""
        return (
            self.realized_gain + self.transferred_gain + self.unrealized_gain - self.opening_unrealized_gain
        )


_DARK = colors.HexColor("#1f2937")
_GRID = colors.HexColor("#d1d5db")
_HEAD = colors.HexColor("#f3f4f6")


def render_statement(statement: Statement, locale: str = "en", show_shares: bool = False) -> bytes:
    labels = LABELS[locale]
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName="Helvetica", fontSize=9, leading=12)
    small = ParagraphStyle(
        "small", parent=body, fontSize=7.5, leading=10, textColor=colors.HexColor("#4b5563")
    )
    title = ParagraphStyle(
        "title", parent=styles["Title"], fontName="Helvetica-Bold", fontSize=18, alignment=0
    )
    heading = ParagraphStyle("heading", parent=styles["Heading2"], fontName="Helvetica-Bold", fontSize=12)

    def money(value: Decimal) -> str:
        return format_money(value, statement.currency, locale)

    def shares(value: Decimal) -> str:
        return format_number(value, statement.share_decimals, locale)

    def nav(value: Decimal | None) -> str:
        return "-" if value is None else format_number(value, statement.nav_decimals, locale)

    story: list[Any] = [Paragraph(escape(labels["title"]), title), Spacer(1, 4 * mm)]

    identity_rows = [
        [labels["investor"], statement.investor_name],
        *[["", line] for line in statement.investor_address if line],
        [labels["account"], statement.account_label or labels["all_accounts"]],
        [labels["share_class"], f"{statement.share_class_symbol} - {statement.share_class_name}"],
        [labels["isin"], statement.isin],
        [labels["currency"], statement.currency],
        [
            labels["period"],
            labels["period_range"].format(
                start=format_long_date(statement.period_start, locale),
                end=format_long_date(statement.period_end, locale),
            ),
        ],
        [labels["generated"], format_long_date(statement.issued_on, locale)],
    ]
    identity = Table(
        [[Paragraph(escape(a), body), Paragraph(escape(b), body)] for a, b in identity_rows],
        colWidths=[40 * mm, 130 * mm],
        hAlign="LEFT",
    )
    identity.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])
    )
    story += [identity, Spacer(1, 6 * mm), Paragraph(escape(labels["summary"]), heading)]

    def position_row(label: str, position: StatementPosition) -> list[str]:
        row = [label.format(day=format_date(position.day, locale))]
        if show_shares:
            row.append(shares(position.shares))
        row += [nav(position.nav), money(position.value)]
        return row

    summary_head = [""] + ([labels["shares"]] if show_shares else []) + [labels["nav"], labels["value"]]
    blank = [""] * (2 if show_shares else 1)
    summary_rows = [
        summary_head,
        position_row(labels["opening"], statement.opening),
        [labels["subscriptions"], *blank, money(statement.subscriptions)],
        [labels["redemptions"], *blank, money(-statement.redemptions)],
        [labels["transfers"], *blank, money(statement.transfers)],
        [labels["yield"], *blank, money(statement.yield_)],
        position_row(labels["closing"], statement.closing),
        [labels["realized_gain"], *blank, money(statement.realized_gain)],
        [labels["transferred_gain"], *blank, money(statement.transferred_gain)],
        [labels["unrealized_gain"], *blank, money(statement.unrealized_gain)],
        [labels["opening_unrealized_gain"], *blank, money(-statement.opening_unrealized_gain)],
        [labels["total_gain"], *blank, money(statement.total_gain)],
    ]
    widths = [70 * mm] + ([35 * mm] if show_shares else []) + [30 * mm, 40 * mm]
    summary = Table(summary_rows, colWidths=widths, hAlign="LEFT")
    summary.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, 1), "Helvetica-Bold", 9),
                ("FONT", (0, 6), (-1, 6), "Helvetica-Bold", 9),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, _GRID),
                ("LINEABOVE", (0, 6), (-1, 6), 0.5, _DARK),
                ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
            ]
        )
    )
    story += [summary, Spacer(1, 6 * mm), Paragraph(escape(labels["movements"]), heading)]

    if statement.movements:
        head = [labels["date"], labels["type"]] + ([labels["shares"]] if show_shares else [])
        head += [labels["nav"], labels["amount"], labels["reference"]]
        rows: list[list[str]] = [head]
        for movement in statement.movements:
            kind = labels[movement.kind]
            if movement.correction is not None:
                kind += f" ({labels['reversal' if movement.correction == 'reversal' else 'corrected']})"
            row = [format_date(movement.day, locale), kind]
            if show_shares:
                row.append(shares(movement.shares))
            row += [nav(movement.nav), money(movement.amount), movement.reference[:8]]
            rows.append(row)
        widths = [24 * mm, 38 * mm] + ([30 * mm] if show_shares else []) + [26 * mm, 36 * mm, 20 * mm]
        movements = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        movements.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), "Helvetica", 8.5),
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
                    ("ALIGN", (2, 0), (-2, -1), "RIGHT"),
                    ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, _GRID),
                ]
            )
        )
        story.append(movements)
    else:
        story.append(Paragraph(escape(labels["no_movements"]), body))

    if statement.monthly_yields:
        monthly = Table(
            [[labels["month"], labels["yield"]]]
            + [[format_month(month, locale), money(amount)] for month, amount in statement.monthly_yields],
            colWidths=[50 * mm, 40 * mm],
            hAlign="LEFT",
        )
        monthly.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), "Helvetica", 8.5),
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, _GRID),
                ]
            )
        )
        story += [
            Spacer(1, 6 * mm),
            KeepTogether([Paragraph(escape(labels["monthly_yield"]), heading), monthly]),
        ]

    story += [Spacer(1, 8 * mm), Paragraph(escape(labels["note"]), small)]

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        text = (
            f"{statement.investor_name} - {statement.share_class_symbol} ({statement.isin}) - "
            f"{format_date(statement.period_start, locale)} - {format_date(statement.period_end, locale)}"
        )
        canvas.drawString(18 * mm, 10 * mm, text)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, labels["page"].format(page=document.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{labels['title']} {statement.share_class_symbol}",
        author=statement.investor_name,
        subject=f"{statement.share_class_symbol} {statement.isin}",
        invariant=True,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
