"""Chromium, on a desktop and a phone viewport, uses the investor app as a treasurer does: signs in,
adds a bank account, places a deposit, sees it funded and executed once the sandbox advances, sees
the dashboard and its chart change, exports CSV, downloads a statement in French and cancels a
pending withdrawal."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from spiko.context import AppContext
from spiko.i18n import format_money
from tests.chromium import chromium
from tests.conftest import LiveServer, run_cli, start_server, stop_server
from tests.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.server]

TODAY = date(2025, 3, 3)  # a Monday
PREVIOUS = date(2025, 2, 28)
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def app_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    # No cooling-off: the bank account added in the test is at once a withdrawal destination.
    server = start_server(database_url, tmp_path, extra_env={"SPIKO_BANK_ACCOUNT_COOLING_OFF_HOURS": "0"})
    yield server
    stop_server(server)


def _text(page: Any, test_id: str) -> str:
    return str(page.get_by_test_id(test_id).first.inner_text()).strip()


def _total(page: Any) -> Decimal:
    """The dashboard's total value, as the page states it (``data-value``)."""
    return Decimal(page.get_by_test_id("total-value").get_attribute("data-value"))


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_a_treasurer_runs_the_whole_cycle_in_the_browser(
    viewport: str, ctx: AppContext, database_url: str, app_server: LiveServer, tmp_path: Path
) -> None:
    world = build_world(
        ctx, TODAY, until_year=2026, navs=[("EUTBL", PREVIOUS, "1.045000"), ("EUTBL", TODAY, "1.045100")]
    )
    person = world.investor("Browser Treasury SAS")
    account = world.open_account(person, name="Treasury")
    world.book_deposit(person, account, "100000.00")
    world.execute()
    base = app_server.url
    shots = os.environ.get("SPIKO_SCREENSHOT_DIR") or str(tmp_path)

    with chromium() as browser:
        context = browser.new_context(viewport=VIEWPORTS[viewport], accept_downloads=True)
        page = context.new_page()
        page.goto(base + "/")
        assert page.url.startswith(base + "/login")
        page.fill("input[name=email]", person.email)
        page.fill("input[name=password]", person.password)
        page.click("main button[type=submit]")
        page.wait_for_url(base + "/")
        total_before = _total(page)
        assert 99_990 < total_before <= 100_000
        assert _text(page, "total-value") == format_money(total_before, "EUR", "en")
        points = page.get_by_test_id("chart-table-EUTBL").locator("tbody tr")
        chart_before = points.last.text_content()

        # A withdrawal destination of the investor's own.
        page.goto(base + "/bank-accounts")
        page.fill("#holder", "Browser Treasury SAS")
        page.fill("#iban", "DE89 3704 0044 0532 0130 00")
        page.fill("#bic", "COBADEFFXXX")
        page.click("text=Add bank account")
        page.get_by_test_id("notice").wait_for()
        assert page.locator('[data-testid="status"][data-status="active"]').count() == 1

        # A deposit: reviewed, placed once (a double click on the button), wire instructions shown.
        page.goto(base + "/orders/new?kind=deposit")
        page.fill("#amount", "25000.00")
        page.click("text=Review")
        assert _text(page, "review-amount") == "€25,000.00"
        page.dblclick("text=Place the order")
        page.get_by_test_id("wire-instructions").wait_for()
        reference = _text(page, "wire-reference")
        assert re.fullmatch(r"[A-Z0-9]+", reference)
        deposit_url = page.url.split("?")[0]

        # The sandbox advances a day: the wire arrives and the order executes at that day's NAV.
        advanced = run_cli(database_url, "sandbox", "advance", "--days", "1")
        assert advanced.returncode == 0, advanced.stderr
        page.goto(deposit_url)
        assert page.get_by_test_id("order-status").get_attribute("data-status") == "executed"

        page.goto(base + "/")
        total_after = _total(page)
        assert total_after > total_before + 24_990
        assert page.get_by_test_id("chart-EUTBL").locator("svg polyline").count() == 1
        chart_after = page.get_by_test_id("chart-table-EUTBL").locator("tbody tr").last.text_content()
        assert (
            chart_after != chart_before
        )  # the chart's last point holds the new day  # the new day's holdings
        page.screenshot(path=os.path.join(shots, f"dashboard-{viewport}.png"), full_page=True)

        # Export the account's transactions as CSV: the deposit is in it.
        page.goto(base + f"/accounts/{account}")
        with page.expect_download() as download:
            page.get_by_test_id("export-csv").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
        rows_csv = list(csv.DictReader(io.StringIO(exported)))
        assert any(row["reference"] == reference and row["status"] == "executed" for row in rows_csv)

        # A statement in French.
        page.goto(base + "/statements")
        page.fill("#first", TODAY.isoformat())
        page.fill("#last", "2025-03-04")  # the day the sandbox advanced to
        page.select_option("#locale", "fr")
        with page.expect_download() as statement:
            page.get_by_test_id("download-statement").click()
        pdf = Path(statement.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF")

        # A withdrawal to the new bank account, then canceled while pending.
        page.goto(base + "/orders/new?kind=withdrawal")
        page.fill("#amount", "1000.00")
        page.click("text=Review")
        page.get_by_test_id("review-trade-day").wait_for()
        page.click("text=Place the order")
        page.get_by_test_id("cancel-order").wait_for()
        withdrawal_id = page.get_by_test_id("order").get_attribute("data-order-id")
        page.get_by_test_id("cancel-order").click()
        page.wait_for_url(re.compile(r".*/orders\?notice=canceled$"))
        row = page.locator(f'tr[data-order-id="{withdrawal_id}"]')
        assert row.get_attribute("data-status") == "canceled"
        page.screenshot(path=os.path.join(shots, f"orders-{viewport}.png"), full_page=True)
        context.close()
