"""Operator commands: JSON on stdout, one-line errors on stderr, a non-zero exit on refusal."""

from __future__ import annotations

from typing import Any

import pytest

from spiko.cli import main
from tests.conftest import run_cli


@pytest.fixture
def spiko(database_url: str, tmp_path: Any) -> Any:
    def run(*argv: str, ok: bool = True) -> Any:
        done = run_cli(database_url, *argv, cwd=tmp_path)
        if ok:
            assert done.returncode == 0, done.stderr
            return done.json()
        assert done.returncode == 1 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        return done.stderr

    # Monday 2024-07-01: the NAVs these tests publish are for days that have come.
    run("clock", "set", "--day", "2024-07-01")
    run("reference", "seed")
    return run


def test_nav_publish_prints_the_nav(spiko: Any) -> None:
    nav = spiko("nav", "publish", "--share-class", "EUTBL", "--day", "2024-07-01", "--value", "1.0123")
    assert nav["shareClassSymbol"] == "EUTBL" and nav["day"] == "2024-07-01"
    assert nav["amount"] == {"value": "1.012300", "currency": "EUR"}
    again = spiko("nav", "publish", "--share-class", "EUTBL", "--day", "2024-07-01", "--value", "1.0123")
    assert again["id"] == nav["id"]
    listed = spiko("nav", "list", "--share-class", "EUTBL", "--start-day", "2024-06-01")
    assert [n["id"] for n in listed] == [nav["id"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--day", "2024-06-29", "--value", "1.01"), "not a business day"),
        (("--day", "2024-07-01", "--value", "1.0000001"), "at most 6 decimals"),
        (("--day", "2024-07-01", "--value", "-1"), "positive"),
    ],
)
def test_nav_publish_refusals(spiko: Any, args: tuple[str, ...], message: str) -> None:
    assert message in spiko("nav", "publish", "--share-class", "EUTBL", *args, ok=False)
    assert spiko("nav", "list", "--share-class", "EUTBL", "--start-day", "2024-01-01") == []


def test_nav_publish_conflict_and_unknown_share_class(spiko: Any) -> None:
    spiko("nav", "publish", "--share-class", "EUTBL", "--day", "2024-07-01", "--value", "1.01")
    assert "already published" in spiko(
        "nav", "publish", "--share-class", "EUTBL", "--day", "2024-07-01", "--value", "1.02", ok=False
    )
    assert "SAFO" in spiko(
        "nav", "publish", "--share-class", "SAFO", "--day", "2024-07-01", "--value", "1", ok=False
    )


def test_bad_arguments_exit_non_zero(spiko: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["nav", "publish", "--share-class", "EUTBL", "--day", "tomorrow", "--value", "1"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        main(["nav", "publish", "--share-class", "EUTBL", "--day", "2024-07-01", "--value", "abc"])


def test_growth_and_sandbox_clock(spiko: Any) -> None:
    spiko("clock", "set", "--day", "2024-06-28")
    shown = spiko("clock", "show")
    assert (shown["today"], shown["sandbox"]) == ("2024-06-28", True)
    assert shown["now"].startswith("2024-06-28T09:00")  # a set day starts at 09:00 UTC
    spiko("nav", "publish", "--share-class", "EUTBL", "--day", "2024-06-28", "--value", "1")
    assert "in the future" in spiko(
        "nav", "publish", "--share-class", "EUTBL", "--day", "2024-07-01", "--value", "1", ok=False
    )
    spiko("clock", "set", "--day", "2024-07-01", "--time", "15:30")
    assert spiko("clock", "show")["now"].startswith("2024-07-01T15:30")
    grown = spiko("nav", "grow", "--annual-rate", "0.035")
    assert [(n["shareClassSymbol"], n["day"], n["amount"]["value"]) for n in grown] == [
        ("EUTBL", "2024-07-01", "1.000283")
    ]
    real = spiko("clock", "set", "--real")
    assert real["sandbox"] is False


def test_fx_publish_and_show(spiko: Any) -> None:
    everywhere = spiko(
        "fx", "publish", "--base", "EUR", "--quote", "USD", "--day", "2024-06-28", "--rate", "1.0705"
    )
    assert sorted(r["fund"] for r in everywhere) == ["EUTBL", "UKTBL", "USTBL"]
    assert {r["fxRate"] for r in everywhere} == {"1.0705"}
    one = spiko(
        "fx",
        "publish",
        "--base",
        "EUR",
        "--quote",
        "GBP",
        "--day",
        "2024-06-28",
        "--rate",
        "0.8461",
        "--fund",
        "UKTBL",
    )
    assert [r["fund"] for r in one] == ["UKTBL"]
    shown = spiko("fx", "show", "--base", "EUR", "--quote", "GBP", "--day", "2024-06-30")
    assert (shown["fxRate"], shown["day"]) == ("0.8461", "2024-06-28")
    assert "no EUR/JPY" in spiko("fx", "show", "--base", "EUR", "--quote", "JPY", ok=False)
    assert "already published" in spiko(
        "fx", "publish", "--base", "EUR", "--quote", "USD", "--day", "2024-06-28", "--rate", "1.08", ok=False
    )
    assert "currency" in spiko(
        "fx", "publish", "--base", "EUR", "--quote", "ABC", "--day", "2024-06-28", "--rate", "1", ok=False
    )


def test_calendar_commands(spiko: Any) -> None:
    added = spiko("calendar", "add-holiday", "--fund", "EUTBL", "--day", "2024-07-01", "--label", "Closure")
    assert added == {"fund": "EUTBL", "day": "2024-07-01", "label": "Closure"}
    check = spiko("calendar", "check", "--fund", "EUTBL", "--day", "2024-07-01")
    assert check["businessDay"] is False and check["nextBusinessDay"] == "2024-07-02"
    assert {"day": "2024-07-01", "label": "Closure"} in spiko("calendar", "list", "--fund", "EUTBL")
    assert "weekend" in spiko("calendar", "add-holiday", "--fund", "EUTBL", "--day", "2024-06-29", ok=False)
    assert spiko("calendar", "remove-holiday", "--fund", "EUTBL", "--day", "2024-07-01")["removed"] is True
    assert spiko("calendar", "check", "--fund", "EUTBL", "--day", "2024-07-01")["businessDay"] is True
    assert "XXX" in spiko("calendar", "list", "--fund", "XXX", ok=False)


def test_listings_and_seed_with_history(spiko: Any) -> None:
    assert [f["slug"] for f in spiko("funds", "list")] == ["EUTBL", "USTBL", "UKTBL"]
    assert [s["symbol"] for s in spiko("share-classes", "list")] == ["EUTBL", "UKTBL", "USTBL"]
    seeded = spiko("reference", "seed", "--history")
    assert seeded["shareClasses"] == ["EUTBL", "UKTBL", "USTBL"]
    assert seeded["netAssetValues"] > 80 and seeded["exchangeRates"] > 0
    assert spiko("reference", "seed", "--history") == seeded
