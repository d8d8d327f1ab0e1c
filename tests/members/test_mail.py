"""Mail leaves through a real SMTP server, or lands in the outbox as .eml files, after the commit."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from spiko.context import AppContext
from spiko.mail import Mailer, Message, parse_smtp_url, send_after_commit
from tests.mailserver import running_mail_server


def test_a_message_goes_through_the_smtp_server_with_the_configured_sender() -> None:
    with running_mail_server() as smtp:
        mailer = Mailer(smtp.url, "Treasury Desk <desk@example.org>")
        mailer.send(Message(to=["ana@example.org"], subject="Hello", text="A line.\nAnother."))
        [mail] = smtp.to("ana@example.org")
    assert mail.subject == "Hello"
    assert mail.envelope_from == "desk@example.org"
    assert mail.message["From"] == "Treasury Desk <desk@example.org>"
    assert "Another." in mail.text


def test_without_an_smtp_url_messages_are_written_to_the_outbox(tmp_path: Path) -> None:
    mailer = Mailer(None, outbox=str(tmp_path / "outbox"))
    mailer.send(Message(to=["bo@example.org"], subject="Stored", text="Kept on disk."))
    [file] = list((tmp_path / "outbox").glob("*.eml"))
    message = message_from_bytes(file.read_bytes(), policy=policy.default)
    assert message["To"] == "bo@example.org"
    assert message["Subject"] == "Stored"
    assert "outbox" in mailer.describe()


def test_smtp_urls_are_read_with_their_credentials_and_bad_ones_refused() -> None:
    server = parse_smtp_url("smtps://mailer:s%40cret@mail.example.org:2465")
    assert (server.host, server.port, server.tls, server.username, server.password) == (
        "mail.example.org",
        2465,
        True,
        "mailer",
        "s@cret",
    )
    assert parse_smtp_url("smtp://localhost").port == 25
    with pytest.raises(ValueError, match="smtp://host:port"):
        parse_smtp_url("http://mail.example.org")


def test_mail_queued_in_a_transaction_leaves_only_when_it_commits(ctx: AppContext) -> None:
    with running_mail_server() as smtp:
        mailer = Mailer(smtp.url)
        with pytest.raises(RuntimeError), ctx.transaction() as session:
            send_after_commit(session, mailer, Message(["gone@example.org"], "Rolled back", "no"))
            raise RuntimeError("the change failed")
        with ctx.transaction() as session:
            send_after_commit(session, mailer, Message(["kept@example.org"], "Committed", "yes"))
            assert smtp.to("kept@example.org") == []  # not before the commit
        assert [mail.subject for mail in smtp.received] == ["Committed"]


def test_an_unreachable_server_does_not_undo_the_change(ctx: AppContext) -> None:
    with running_mail_server() as smtp:
        url = smtp.url
    mailer = Mailer(url)  # the server is gone
    with ctx.transaction() as session:
        send_after_commit(session, mailer, Message(["x@example.org"], "Lost", "never arrives"))
    assert mailer.send_quietly(Message(["x@example.org"], "Lost", "never arrives")) is False
