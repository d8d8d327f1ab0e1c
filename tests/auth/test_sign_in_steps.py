"""Signing in in two steps: the password checked in a read transaction, the session recorded in a
write transaction that refuses anything that changed in between."""

from __future__ import annotations

from sqlalchemy import select

from spiko.auth.passwords import hash_password
from spiko.db.models.identity import User
from spiko.services import identity


def _user(ctx, email):  # type: ignore[no-untyped-def]
    with ctx.transaction(write=False) as session:
        return session.scalar(select(User).where(User.email == email))


def test_a_matching_password_signs_in(ctx, investor):
    with ctx.transaction(write=False) as session:
        check = identity.check_password(session, investor.email, investor.password)
    assert check.matches and check.user_id == _user(ctx, investor.email).id
    with ctx.transaction() as session:
        assert identity.confirm_sign_in(session, check, investor.password) is not None


def test_a_wrong_password_or_an_unknown_email_never_signs_in(ctx, investor):
    with ctx.transaction(write=False) as session:
        wrong = identity.check_password(session, investor.email, "not the password")
        unknown = identity.check_password(session, "nobody@example.com", investor.password)
    assert not wrong.matches and not unknown.matches and unknown.user_id is None
    with ctx.transaction() as session:
        assert identity.confirm_sign_in(session, wrong, "not the password") is None
        assert identity.confirm_sign_in(session, unknown, investor.password) is None


def test_a_password_changed_between_the_steps_refuses_the_sign_in(ctx, investor):
    with ctx.transaction(write=False) as session:
        check = identity.check_password(session, investor.email, investor.password)
    assert check.matches
    with ctx.transaction() as session:  # e.g. an operator resets it meanwhile
        session.scalar(select(User).where(User.email == investor.email)).password_hash = hash_password(
            "new one"
        )
    with ctx.transaction() as session:
        assert identity.confirm_sign_in(session, check, investor.password) is None


def test_an_outdated_hash_is_replaced_at_sign_in(ctx, investor):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(investor.password)
    with ctx.transaction() as session:
        session.scalar(select(User).where(User.email == investor.email)).password_hash = weak
    with ctx.transaction(write=False) as session:
        check = identity.check_password(session, investor.email, investor.password)
    with ctx.transaction() as session:
        assert identity.confirm_sign_in(session, check, investor.password) is not None
    stored = _user(ctx, investor.email).password_hash
    assert stored != weak and stored.startswith("$argon2id$")
    with ctx.transaction(write=False) as session:
        assert identity.check_password(session, investor.email, investor.password).matches
