"""Security events are recorded in the caller's transaction; some are mailed to the owners."""

from __future__ import annotations

import pytest

from spiko.context import AppContext
from spiko.mail import Mailer
from spiko.services import identity, security_events
from tests.mailserver import running_mail_server


def _investor(ctx: AppContext, email: str) -> tuple[str, str]:
    with ctx.transaction() as session:
        investor, user = identity.create_investor(
            session, name="Acme", email=email, password="correct horse 1"
        )
        return investor.id, user.id


def test_a_new_api_key_is_recorded_and_mailed_to_the_owners_after_the_commit(ctx: AppContext) -> None:
    investor_id, user_id = _investor(ctx, "owner@acme.example")
    origin = security_events.Origin(ip="203.0.113.7", user_agent="Firefox/128")
    with running_mail_server() as smtp:
        mailer = Mailer(smtp.url, base_url="https://app.example")
        with ctx.transaction() as session:
            security_events.record(
                session, investor_id, user_id, "api_key_created", {"name": "ERP"}, origin, mailer=mailer
            )
            assert smtp.received == []
        [mail] = smtp.to("owner@acme.example")
    assert "ERP" in mail.text and "owner@acme.example" in mail.text
    assert "203.0.113.7" in mail.text
    assert mail.link("/activity") == "/activity"
    with ctx.transaction(write=False) as session:
        [entry] = security_events.list_events(session, investor_id)
    assert (entry.kind, entry.label, entry.member, entry.ip) == (
        "api_key_created",
        "API key created",
        "owner@acme.example",
        "203.0.113.7",
    )


def test_only_a_sign_in_from_a_new_device_is_mailed(ctx: AppContext) -> None:
    investor_id, user_id = _investor(ctx, "owner2@acme.example")
    with running_mail_server() as smtp:
        mailer = Mailer(smtp.url)
        with ctx.transaction() as session:
            security_events.record(
                session, investor_id, user_id, "sign_in", {"new_device": False}, mailer=mailer
            )
            security_events.record(session, investor_id, user_id, "sign_in_failed", {}, mailer=mailer)
        assert smtp.received == []
        with ctx.transaction() as session:
            security_events.record(
                session, investor_id, user_id, "sign_in", {"new_device": True}, mailer=mailer
            )
        [mail] = smtp.to("owner2@acme.example")
    assert "device not seen before" in mail.text


def test_a_rolled_back_event_neither_shows_nor_mails(ctx: AppContext) -> None:
    investor_id, user_id = _investor(ctx, "owner3@acme.example")
    with running_mail_server() as smtp:
        with pytest.raises(RuntimeError), ctx.transaction() as session:
            security_events.record(
                session, investor_id, user_id, "factor_removed", {"factor": "totp"}, mailer=Mailer(smtp.url)
            )
            raise RuntimeError("the removal failed")
        assert smtp.received == []
    with ctx.transaction(write=False) as session:
        assert security_events.list_events(session, investor_id) == []


def test_an_unknown_kind_is_refused(ctx: AppContext) -> None:
    investor_id, user_id = _investor(ctx, "owner4@acme.example")
    with pytest.raises(ValueError, match="unknown security event kind"), ctx.transaction() as session:
        security_events.record(session, investor_id, user_id, "sign_in_sideways")
