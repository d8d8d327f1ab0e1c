"""A correction is visible where the investor looks: the reversal and the new entry are two dated,
executed items of the order's type in ``GET /v1/account-transactions`` (valid against the reference),
rows of the investor app's account page and CSV export, and labelled rows of the PDF statement."""

from __future__ import annotations

import csv
import io
from datetime import date, time
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from spiko.db.models.ledger import ShareMovement
from spiko.services import clock
from tests.orders.conftest import TODAY
from tests.spec import assert_matches
from tests.world import sign_in

TUESDAY = date(2025, 3, 4)


def _corrected(world, investor, cli):
    """10,000 EUTBL shares bought for 10,453.00 and 1,000 redeemed for 1,045.30 on Monday (closed);
    on Tuesday both orders are corrected to a NAV of 1."""
    account = world.account(investor, name="Corrected")
    bank = world.bank_account(investor)
    for symbol, value in (("EUTBL", "1.045300"), ("USTBL", "1.062100"), ("UKTBL", "1.000000")):
        world.publish(symbol, TODAY, value)
    deposit = world.invest(investor, account, "10453.00")
    withdrawal = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "1000"}).json()["id"]
    assert cli("close-day")[0] == 0
    with world.ctx.transaction() as session:
        clock.set_today(session, TUESDAY, time(10, 30))
    for order_id in (deposit, withdrawal):
        code, _, err = cli("orders", "correct", order_id, "--nav", "1", "--reason", "NAV restated")
        assert code == 0, err
    with world.ctx.transaction(write=False) as session:
        entries = {
            (row.order_id, "reversal" if row.amount < 0 else "entry"): row.id
            for row in session.scalars(select(ShareMovement).where(ShareMovement.correction_id.is_not(None)))
        }
    return account, deposit, withdrawal, entries


def _transactions(world, investor, account, **params):
    query = "&".join(f"{key}={value}" for key, value in {"accountId": account, **params}.items())
    response = world.client.get(f"/v1/account-transactions?{query}", headers=investor.basic)
    assert response.status_code == 200, response.text
    return assert_matches(response, "/account-transactions/")


def test_the_reversal_and_the_new_entry_are_listed_as_two_items_of_the_order(world, investor, cli):
    account, deposit, withdrawal, entries = _corrected(world, investor, cli)
    items = {item["id"]: item for item in _transactions(world, investor, account, limit="100")["items"]}
    shown = {
        key: (
            item["orderType"],
            item["status"],
            item["sharesAmount"],
            item["amount"]["value"],
            item["netAssetValue"]["value"],
            item["createdAt"][:10],
        )
        for key, entry_id in entries.items()
        for item in [items[entry_id]]
    }
    assert shown == {
        (deposit, "reversal"): (
            "Subscription",
            "executed",
            "-10000.00000",
            "-10453.00",
            "1.045300",
            "2025-03-04",
        ),
        (deposit, "entry"): ("Subscription", "executed", "10453.00000", "10453.00", "1.000000", "2025-03-04"),
        (withdrawal, "reversal"): (
            "Redemption",
            "executed",
            "-1000.00000",
            "-1045.30",
            "1.045300",
            "2025-03-04",
        ),
        (withdrawal, "entry"): ("Redemption", "executed", "1000.00000", "1000.00", "1.000000", "2025-03-04"),
    }
    # The orders themselves are listed as they executed, never rewritten.
    assert (items[deposit]["sharesAmount"], items[deposit]["amount"]["value"]) == ("10000.00000", "10453.00")
    assert (items[withdrawal]["sharesAmount"], items[withdrawal]["amount"]["value"]) == (
        "1000.00000",
        "1045.30",
    )
    assert items[entries[(deposit, "entry")]]["wireReference"] == items[deposit]["wireReference"]
    assert (
        items[entries[(withdrawal, "entry")]]["bankAccountNumber"] == items[withdrawal]["bankAccountNumber"]
    )
    # The type filter and a search for the order's id find the order and its two entries.
    for kind, order_id in (("withdrawal", withdrawal), ("deposit", deposit)):
        typed = _transactions(world, investor, account, transactionType=kind)["items"]
        assert {item["id"] for item in typed} == {
            order_id,
            entries[(order_id, "reversal")],
            entries[(order_id, "entry")],
        }
        found = _transactions(world, investor, account, search=order_id)["items"]
        assert {item["id"] for item in found} == {item["id"] for item in typed}
    # Page by page (one item a page, both directions), every item comes exactly once, in order.
    for direction in ("desc", "asc"):
        walked, cursor = [], None
        while True:
            params = {"limit": "1", "direction": direction, **({"cursor": cursor} if cursor else {})}
            page = _transactions(world, investor, account, **params)
            walked += [item["id"] for item in page["items"]]
            if not page["hasMore"]:
                break
            cursor = page["nextCursor"]
        assert sorted(walked) == sorted(items) and len(walked) == len(set(walked))
        expected = sorted(
            items.values(), key=lambda i: (i["createdAt"], i["id"]), reverse=direction == "desc"
        )
        assert walked == [item["id"] for item in expected]


def test_the_statement_and_the_account_page_show_both_entries(world, investor, cli, client):
    account, deposit, withdrawal, entries = _corrected(world, investor, cli)
    response = world.client.get(
        "/v1/accounting-positions/account-statement",
        params={
            "investorId": investor.investor_id,
            "accountId": account,
            "shareClassSymbol": "EUTBL",
            "from": "2025-03-01",
            "to": TUESDAY.isoformat(),
            "showNumberOfShares": "true",
        },
        headers=investor.basic,
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    # pypdf gives the movements table cell by cell: date, type, shares, NAV, amount, reference.
    cells = text.split("Reference\n", 1)[1].split("\nYield by month", 1)[0].splitlines()
    rows = [tuple(cells[index : index + 6]) for index in range(0, len(cells), 6)]
    d, w = deposit[:8], withdrawal[:8]
    assert rows == [
        ("3 Mar 2025", "Subscription", "10,000.00000", "1.045300", "€10,453.00", d),
        ("3 Mar 2025", "Redemption", "-1,000.00000", "1.045300", "-€1,045.30", w),
        # Each correction: the reversal (negated), then the new entry; a redemption's reversal
        # puts back the cash it paid out, and its new entry pays the corrected amount.
        ("4 Mar 2025", "Subscription (reversal)", "-10,000.00000", "1.045300", "-€10,453.00", d),
        ("4 Mar 2025", "Subscription (correction)", "10,453.00000", "1.000000", "€10,453.00", d),
        ("4 Mar 2025", "Redemption (reversal)", "1,000.00000", "1.045300", "€1,045.30", w),
        ("4 Mar 2025", "Redemption (correction)", "-1,000.00000", "1.000000", "-€1,000.00", w),
    ]
    assert "Redemptions\n-€1,000.00" in text  # the period's redemptions, as corrected

    client.cookies.clear()
    assert sign_in(client, investor.email, investor.password).status_code == 303
    page = client.get(f"/accounts/{account}")
    assert page.status_code == 200
    for entry_id in entries.values():
        assert f'data-transaction-id="{entry_id}"' in page.text
    exported = client.get(f"/accounts/{account}/transactions.csv")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))}
    assert (
        rows[entries[(withdrawal, "reversal")]]["amount"],
        rows[entries[(withdrawal, "reversal")]]["shares"],
    ) == (
        "-1045.30",
        "-1000.00000",
    )
    assert rows[entries[(deposit, "entry")]]["type"] == "Subscription"
    assert Decimal(rows[entries[(deposit, "entry")]]["amount"]) == Decimal("10453.00")
