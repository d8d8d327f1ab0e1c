"""The operator command line never guesses a database, reads ``.env`` in the current folder,
always prints JSON, onboards investors and derives exchange rates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from spiko.db.models.identity import Investor
from spiko.services import identity
from tests.conftest import TEST_SECRET_KEY, run_cli
from tests.web.conftest import sign_in


def spiko_bare(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None):  # noqa: ANN201
    """``spiko ARGS…`` with no SPIKO_* variable but those given: what an operator's shell has."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SPIKO_")}
    return subprocess.run(
        [sys.executable, "-m", "spiko.cli", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        cwd=cwd,
    )


def printed(result: subprocess.CompletedProcess[str]):  # noqa: ANN201
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode != 0
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    for fragment in fragments:
        assert fragment in line, line
    return line


# --- the CLI never guesses a database ------------------------------------------------------------


def test_a_command_run_where_there_is_no_database_refuses_and_creates_nothing(tmp_path):
    elsewhere = tmp_path / "another-folder"
    elsewhere.mkdir()
    result = spiko_bare("api-keys", "list", "--email", "treasurer@example.com", cwd=elsewhere)
    refused(result, "spiko api-keys list: error:", str(elsewhere / "spiko.db"), "spiko db upgrade")
    assert list(elsewhere.iterdir()) == []  # neither a database nor a secret key was created


def test_a_missing_sqlite_file_named_in_the_url_is_refused(tmp_path):
    missing = tmp_path / "typo.db"
    result = spiko_bare("investors", "list", cwd=tmp_path, env={"SPIKO_DATABASE_URL": f"sqlite:///{missing}"})
    refused(result, str(missing), "SPIKO_DATABASE_URL")
    assert not missing.exists()


def test_a_missing_or_unmigrated_postgresql_database_is_refused(databases, tmp_path):
    from tests.databases import _pg_url

    missing = _pg_url("spiko_no_such_database")
    result = spiko_bare("funds", "list", cwd=tmp_path, env={"SPIKO_DATABASE_URL": missing})
    refused(result, "no database postgresql://", "spiko_no_such_database", "createdb")

    empty = databases.empty() if databases.is_postgres else f"sqlite:///{tmp_path / 'empty.db'}"
    if not databases.is_postgres:
        (tmp_path / "empty.db").touch()  # a file that is not a Spiko database
    try:
        result = spiko_bare(
            "funds", "list", cwd=tmp_path, env={"SPIKO_DATABASE_URL": empty, "SPIKO_SECRET_KEY": "k" * 40}
        )
        refused(result, "has no Spiko schema", "spiko db upgrade")
    finally:
        if databases.is_postgres:
            databases.drop(empty)


def test_a_command_never_generates_a_secret_key(database_url, tmp_path):
    result = run_cli(database_url, "investors", "list", cwd=tmp_path, extra_env={"SPIKO_SECRET_KEY": ""})
    if database_url.startswith("sqlite"):
        expected = database_url[len("sqlite:///") :] + ".secret-key"
    else:
        expected = str(tmp_path / ".spiko-secret-key")
    refused(result, "no secret key", expected)
    assert not Path(expected).exists()


def test_db_upgrade_and_serve_are_the_commands_that_create_a_database(tmp_path):
    result = spiko_bare("db", "upgrade", cwd=tmp_path)
    assert printed(result) == {}
    assert (tmp_path / "spiko.db").is_file() and (tmp_path / "spiko.db.secret-key").is_file()
    assert printed(spiko_bare("investors", "list", cwd=tmp_path)) == []


# --- .env --------------------------------------------------------------------------------------


def test_dotenv_in_the_current_folder_is_read_and_the_environment_wins(database_url, ctx, tmp_path):
    (tmp_path / ".env").write_text(
        f"# the operator's settings\nSPIKO_DATABASE_URL={database_url}\nSPIKO_SECRET_KEY={TEST_SECRET_KEY}\n"
    )
    created = printed(
        spiko_bare(
            "investors", "create", "--name", "Dotenv SAS", "--email", "dotenv@example.com",
            "--password", "long enough password", cwd=tmp_path,
        )
    )  # fmt: skip
    with ctx.transaction(write=False) as session:
        assert session.get(Investor, created["investorId"]).name == "Dotenv SAS"
    # A variable set in the environment wins over the file.
    missing = tmp_path / "set-in-the-environment.db"
    result = spiko_bare("investors", "list", cwd=tmp_path, env={"SPIKO_DATABASE_URL": f"sqlite:///{missing}"})
    refused(result, str(missing))
    # And only the current folder's file counts, not one in a parent folder.
    child = tmp_path / "child"
    child.mkdir()
    refused(spiko_bare("investors", "list", cwd=child), str(child / "spiko.db"))


# --- JSON on stdout ------------------------------------------------------------------------------


def test_commands_with_nothing_to_say_print_an_empty_object(database_url, tmp_path, investor):
    assert printed(run_cli(database_url, "db", "upgrade", cwd=tmp_path)) == {}
    assert printed(run_cli(database_url, "api-keys", "revoke", investor.client_id, cwd=tmp_path)) == {}
    app = printed(
        run_cli(
            database_url, "oauth-clients", "create", "--name", "App",
            "--redirect-uri", "https://app.example/callback", cwd=tmp_path,
        )
    )  # fmt: skip
    assert printed(run_cli(database_url, "oauth-clients", "revoke", app["client_id"], cwd=tmp_path)) == {}


# --- investor onboarding -------------------------------------------------------------------------


def test_investors_create_takes_every_field_and_list_shows_them(database_url, ctx, tmp_path):
    organization = printed(
        run_cli(
            database_url, "investors", "create", "--name", "Acme Treasury SAS",
            "--email", "CFO@Acme.example", "--password", "long enough password",
            "--type", "organization", "--country", "de", "--address", "1 Hauptstrasse",
            "--zip-code", "10115", "--city", "Berlin", "--registration-number", "HRB 12345",
            "--legal-entity-type", "GmbH", cwd=tmp_path,
        )
    )  # fmt: skip
    person = printed(
        run_cli(
            database_url, "investors", "create", "--name", "Ada Lovelace", "--email", "ada@example.com",
            "--password", "long enough password", "--type", "individual",
            "--tax-identification-number", "FR1234567890", cwd=tmp_path,
        )
    )  # fmt: skip
    with ctx.transaction(write=False) as session:
        row = session.get(Investor, organization["investorId"])
        assert (row.country, row.address, row.zip_code, row.city) == (
            "DE",
            "1 Hauptstrasse",
            "10115",
            "Berlin",
        )
        assert (row.registration_number, row.legal_entity_type) == ("HRB 12345", "GmbH")
        assert session.get(Investor, person["investorId"]).tax_identification_number == "FR1234567890"

    listed = printed(run_cli(database_url, "investors", "list", cwd=tmp_path))
    by_id = {entry["investorId"]: entry for entry in listed}
    assert by_id[organization["investorId"]]["emails"] == ["cfo@acme.example"]
    assert by_id[organization["investorId"]]["type"] == "organization"
    assert by_id[person["investorId"]]["name"] == "Ada Lovelace"
    assert all("password" not in json.dumps(entry) for entry in listed)


def test_set_password_replaces_the_password_and_signs_browsers_out(database_url, client, investor, tmp_path):
    assert sign_in(client, investor.email, investor.password).status_code == 303
    assert client.get("/integrations", follow_redirects=False).status_code == 200

    # From standard input: the password stays out of the shell history and the process list.
    settings = {"SPIKO_DATABASE_URL": database_url, "SPIKO_SECRET_KEY": TEST_SECRET_KEY}
    command = ("investors", "set-password", "--email")
    refused(
        spiko_bare(*command, investor.email, cwd=tmp_path, env=settings, stdin="\n"), "at least 8 characters"
    )
    reset = spiko_bare(
        *command, investor.email.upper(), cwd=tmp_path, env=settings, stdin="a brand new passphrase\n"
    )
    assert printed(reset) == {"investorId": investor.investor_id, "email": investor.email, "sessionsEnded": 1}

    assert client.get("/integrations", follow_redirects=False).status_code == 303  # signed out
    assert sign_in(client, investor.email, investor.password).status_code == 400
    assert sign_in(client, investor.email, "a brand new passphrase").status_code == 303

    again = run_cli(
        database_url, "investors", "set-password", "--email", investor.email,
        "--password", "yet another passphrase", cwd=tmp_path,
    )  # fmt: skip
    assert printed(again)["sessionsEnded"] == 1
    unknown = run_cli(
        database_url, "investors", "set-password", "--email", "nobody@example.com",
        "--password", "whatever passphrase", cwd=tmp_path,
    )  # fmt: skip
    refused(unknown, "no user with email nobody@example.com")


def test_set_password_goes_through_the_service_rules(ctx, investor):
    with ctx.transaction() as session:
        user, ended = identity.set_password(session, investor.email, "twelve chars!")
        assert ended == 0 and user.email == investor.email
    with ctx.transaction(write=False) as session:
        assert identity.authenticate_user(session, investor.email, "twelve chars!") is not None
        assert session.scalar(select(Investor.id).where(Investor.id == investor.investor_id))


# --- fx show -------------------------------------------------------------------------------------


def test_fx_show_inverts_and_crosses_published_rates(database_url, tmp_path):
    assert printed(run_cli(database_url, "reference", "seed", cwd=tmp_path))
    for quote, day, rate in (("USD", "2025-03-03", "1.05"), ("GBP", "2025-03-04", "0.83")):
        result = run_cli(
            database_url, "fx", "publish", "--base", "EUR", "--quote", quote, "--day", day, "--rate", rate,
            "--fund", "EUTBL", cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    def show(base: str, quote: str, *extra: str) -> dict:
        return printed(
            run_cli(database_url, "fx", "show", "--base", base, "--quote", quote, *extra, cwd=tmp_path)
        )

    published = show("EUR", "USD")
    assert (published["fxRate"], published["derivation"], published["day"]) == (
        "1.05",
        "published",
        "2025-03-03",
    )
    assert published["id"]

    inverse = show("usd", "eur")
    assert inverse["derivation"] == "inverse" and inverse["id"] is None
    assert Decimal(inverse["fxRate"]) == (Decimal(1) / Decimal("1.05")).quantize(Decimal("1e-12"))
    assert [leg["inverted"] for leg in inverse["from"]] == [True]

    cross = show("USD", "GBP")
    assert cross["derivation"] == "cross"
    assert Decimal(cross["fxRate"]) == (Decimal("0.83") / Decimal("1.05")).quantize(Decimal("1e-12"))
    assert cross["day"] == "2025-03-03"  # as old as its oldest published rate
    assert [(leg["baseCurrency"], leg["quoteCurrency"]) for leg in cross["from"]] == [
        ("EUR", "USD"),
        ("EUR", "GBP"),
    ]

    # On a day before the GBP rate was published there is nothing to cross.
    refused(run_cli(database_url, "fx", "show", "--base", "USD", "--quote", "GBP", "--day", "2025-03-03",
                    cwd=tmp_path), "no USD/GBP rate")  # fmt: skip


def test_serve_reads_dotenv_in_the_current_folder_too(database_url, tmp_path):
    from tests.conftest import free_port

    port = free_port()
    issuer = f"http://localhost:{port}"  # not the default http://127.0.0.1:PORT
    (tmp_path / ".env").write_text(
        f"SPIKO_DATABASE_URL={database_url}\nSPIKO_SECRET_KEY={TEST_SECRET_KEY}\nSPIKO_ISSUER={issuer}\n"
    )
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SPIKO_")}
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "spiko.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=clean,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        import httpx

        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/openid-configuration", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answer.json()["issuer"] == issuer
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
