"""Investors, users and their API keys."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spiko.auth import roles
from spiko.auth import scopes as api_scopes
from spiko.auth.api_keys import ApiKeyVerifier, new_client_id, new_client_secret
from spiko.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from spiko.auth.secrets import constant_time_equals
from spiko.core.text import TextKind, is_clean
from spiko.db.models.identity import ApiKey, Investor, User
from spiko.db.types import utcnow
from spiko.errors import ApplicationError, ConflictError, NotFoundError
from spiko.outbox import snapshots

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
MAX_API_KEY_NAME = 100


class ValidationFailed(ApplicationError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_investor(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    investor_type: str = "organization",
    country: str = "FR",
    address: str = "",
    zip_code: str = "",
    city: str = "",
    registration_number: str | None = None,
    legal_entity_type: str | None = None,
    tax_identification_number: str | None = None,
) -> tuple[Investor, User]:
    email = normalize_email(email)
    name = name.strip()
    if not name:
        raise ValidationFailed("name must not be empty")
    if not is_clean(name) or not is_clean(email, TextKind.EMAIL):
        raise ValidationFailed("name and email must not contain control characters")
    if not EMAIL_RE.match(email):
        raise ValidationFailed("email is not a valid address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if investor_type not in ("organization", "individual"):
        raise ValidationFailed("type must be organization or individual")
    country = country.upper()
    if not COUNTRY_RE.match(country):
        raise ValidationFailed("country must be an ISO 3166-1 alpha-2 code")
    if session.scalar(select(User.id).where(User.email == email)):
        raise ConflictError("a user with this email already exists")
    investor = Investor(
        type=investor_type,
        name=name,
        country=country,
        address=address,
        zip_code=zip_code,
        city=city,
        registration_number=(registration_number or "") if investor_type == "organization" else None,
        legal_entity_type=(legal_entity_type or "SAS") if investor_type == "organization" else None,
        tax_identification_number=tax_identification_number if investor_type == "individual" else None,
        tax_information_updated_at=utcnow() if tax_identification_number else None,
    )
    session.add(investor)
    session.flush()
    user = User(investor_id=investor.id, email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return investor, user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


@dataclass(frozen=True)
class PasswordCheck:
    """A sign-in's first step, done without holding a write transaction: the slow argon2
    verification of the password against the hash that was read (``user_id`` is None when no
    user has the email; the verification costs the same)."""

    user_id: str | None
    password_hash: str | None
    matches: bool


def check_password(session: Session, email: str, password: str) -> PasswordCheck:
    user = find_user_by_email(session, email)
    password_hash = user.password_hash if user else None
    return PasswordCheck(user.id if user else None, password_hash, verify_password(password_hash, password))


def confirm_sign_in(session: Session, check: PasswordCheck, password: str) -> User | None:
    """The second step, in the write transaction that records the session: the user, unless the
    password did not match or was changed since it was checked."""
    if not check.matches or check.user_id is None:
        return None
    user = session.get(User, check.user_id)
    if user is None or not constant_time_equals(user.password_hash, check.password_hash or ""):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # parameters were raised since it was stored
    return user


def authenticate_user(session: Session, email: str, password: str) -> User | None:
    """The user whose password matches, or None; costs one argon2 verification either way."""
    return confirm_sign_in(session, check_password(session, email, password), password)


def get_investor(session: Session, investor_id: str) -> Investor:
    investor = session.get(Investor, investor_id)
    if investor is None:
        raise NotFoundError("Investor not found")
    return investor


@dataclass(frozen=True)
class CreatedApiKey:
    id: str
    name: str
    client_id: str
    client_secret: str  # returned once, never stored
    created_at: datetime
    scopes: str | None = None  # None: full access


def create_api_key(
    session: Session,
    verifier: ApiKeyVerifier,
    *,
    investor_id: str,
    name: str,
    max_live_keys: int,
    scopes: Iterable[str] | None = None,
    created_by_user_id: str | None = None,
    creator_role: str | None = None,
) -> CreatedApiKey:
    """A new key; ``scopes`` narrows it to those investor-API scopes (None: full access).

    A key created by a member (``created_by_user_id``, with their ``creator_role``) may not reach
    beyond that role; an operator's key (no member) may reach anything.
    """
    stored_scopes = _api_key_scopes(scopes)
    if creator_role is not None and roles.exceeds(stored_scopes, creator_role):
        allowed = ", ".join(roles.allowed_scopes(creator_role))
        raise ValidationFailed(
            f"As {creator_role}, you can only create keys within your role; choose among: {allowed}"
        )
    name = name.strip()
    if not name:
        raise ValidationFailed("An API key needs a name")
    if not is_clean(name):
        raise ValidationFailed("An API key name must not contain control characters")
    if len(name) > MAX_API_KEY_NAME:
        raise ValidationFailed(f"An API key name has at most {MAX_API_KEY_NAME} characters")
    # Lock the investor row so two concurrent creations cannot both pass the limit check.
    session.execute(select(Investor.id).where(Investor.id == investor_id).with_for_update())
    live = session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.investor_id == investor_id, ApiKey.revoked_at.is_(None))
    )
    if (live or 0) >= max_live_keys:
        raise ValidationFailed(
            f"You already have {max_live_keys} active API keys, the maximum; revoke one to create another"
        )
    client_id, secret = new_client_id(), new_client_secret()
    key = ApiKey(
        investor_id=investor_id,
        name=name,
        client_id=client_id,
        secret_hash=verifier.hash_secret(secret),
        scopes=stored_scopes,
        created_by_user_id=created_by_user_id,
    )
    session.add(key)
    session.flush()
    snapshots.api_key(session, "created", key)
    return CreatedApiKey(key.id, key.name, client_id, secret, key.created_at, stored_scopes)


def _api_key_scopes(scopes: Iterable[str] | None) -> str | None:
    if scopes is None:
        return None
    try:
        stored = api_scopes.normalize(scopes)
    except api_scopes.UnknownScopeError as unknown:
        raise ValidationFailed(str(unknown)) from None
    if not stored:
        raise ValidationFailed("Choose at least one scope for a key without full access")
    return stored


def list_api_keys(session: Session, investor_id: str, *, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.investor_id == investor_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query.order_by(ApiKey.created_at.desc(), ApiKey.id)))


def revoke_api_key(
    session: Session, *, client_id: str, investor_id: str | None = None, created_by_user_id: str | None = None
) -> ApiKey:
    """Revoke a key; with ``investor_id`` only that investor's key (anything else is not found),
    with ``created_by_user_id`` only a key that member created.

    The caller drops the key from the verification cache once the transaction has committed.
    """
    query = select(ApiKey).where(ApiKey.client_id == client_id)
    if investor_id is not None:
        query = query.where(ApiKey.investor_id == investor_id)
    if created_by_user_id is not None:
        query = query.where(ApiKey.created_by_user_id == created_by_user_id)
    key = session.scalar(query)
    if key is None:
        raise NotFoundError("API key not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        snapshots.api_key(session, "revoked", key)
    return key


def list_investors(session: Session) -> list[Investor]:
    """Every investor with its users, oldest first."""
    from sqlalchemy.orm import selectinload

    query = select(Investor).options(selectinload(Investor.users))
    return list(session.scalars(query.order_by(Investor.created_at, Investor.id)))


def set_password(session: Session, email: str, password: str) -> tuple[User, int]:
    """Give a user a new password and sign out every browser signed in as them (a reset is often
    done because the old password leaked); the user and how many sessions ended."""
    from sqlalchemy import delete

    from spiko.db.models.identity import WebSession

    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    user = find_user_by_email(session, email)
    if user is None:
        raise NotFoundError(f"no user with email {normalize_email(email)}")
    user.password_hash = hash_password(password)
    ended = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return user, int(ended.rowcount)  # type: ignore[attr-defined]
