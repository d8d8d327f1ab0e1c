"""Second factors of a user: an authenticator app (TOTP), passkeys and recovery codes; and the
operator's rule that an investor's users must have one.

Every check that consumes something (a TOTP time step, a recovery code, a WebAuthn challenge)
consumes it in the caller's transaction, so two parallel uses of one code cannot both succeed:
the TOTP row is locked while its last step is compared and moved; a recovery code is spent by an
``UPDATE … WHERE used_at IS NULL`` whose row count says who won; a challenge by an insert under
a primary key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spiko.auth import totp
from spiko.auth.passkeys import CeremonyRefused, RelyingParty, credential_id_of, user_handle_of
from spiko.auth.secrets import derive_key, keyed_hash, sha256_hex
from spiko.db.models.factors import (
    Passkey,
    RecoveryCode,
    SecondFactorPolicy,
    TotpFactor,
    UsedWebAuthnChallenge,
)
from spiko.db.models.identity import Investor, User
from spiko.db.types import utcnow
from spiko.i18n import N_

RECOVERY_CODE_COUNT = 10
# Ten characters from an alphabet without look-alikes (no 0/O, 1/I/L): 50 bits each.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
MAX_PASSKEYS = 10
MAX_PASSKEY_NAME = 100


class FactorRefused(Exception):
    """A change or a check the rules refuse; the message is shown to the user as it is."""


@dataclass(frozen=True)
class Factors:
    """What protects a user's sign-in."""

    totp: bool
    passkeys: list[Passkey]
    recovery_codes_left: int
    required: bool

    @property
    def any(self) -> bool:
        return self.totp or bool(self.passkeys)


def factors_of(session: Session, user: User) -> Factors:
    totp_on = session.scalar(
        select(func.count())
        .select_from(TotpFactor)
        .where(TotpFactor.user_id == user.id, TotpFactor.confirmed_at.is_not(None))
    )
    passkeys = list(
        session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at))
    )
    left = session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return Factors(bool(totp_on), passkeys, int(left or 0), is_required(session, user.investor_id))


# -- the operator's rule -----------------------------------------------------------------------------


def is_required(session: Session, investor_id: str) -> bool:
    policy = session.get(SecondFactorPolicy, investor_id)
    return bool(policy and policy.required)


def set_required(session: Session, investor_id: str, required: bool) -> None:
    if session.get(Investor, investor_id) is None:
        raise LookupError(f"no investor {investor_id}")
    policy = session.get(SecondFactorPolicy, investor_id)
    if policy is None:
        session.add(SecondFactorPolicy(investor_id=investor_id, required=required, updated_at=utcnow()))
    else:
        policy.required, policy.updated_at = required, utcnow()
    session.flush()


def reset_factors(session: Session, user: User) -> int:
    """Remove every second factor of a user (an operator's recovery when all are lost); how many."""
    removed = 0
    for table in (TotpFactor, Passkey, RecoveryCode):
        result = session.execute(delete(table).where(table.user_id == user.id))
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed


# -- TOTP ---------------------------------------------------------------------------------------------


def start_totp(session: Session, secret_key: str, user: User, issuer_name: str) -> tuple[str, str]:
    """A new, unconfirmed authenticator-app secret for ``user``: (secret, otpauth:// URI)."""
    existing = session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))
    if existing is not None and existing.confirmed_at is not None:
        raise FactorRefused(N_("An authenticator app is already set up. Remove it first to set up another."))
    secret = totp.new_secret()
    ciphertext = totp.encrypt_secret(secret_key, user.id, secret)
    if existing is None:
        session.add(TotpFactor(user_id=user.id, secret_ciphertext=ciphertext))
    else:
        existing.secret_ciphertext, existing.last_used_step = ciphertext, None
    session.flush()
    return secret, totp.provisioning_uri(secret, user.email, issuer_name)


def pending_totp_secret(session: Session, secret_key: str, user: User) -> str | None:
    row = session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id))
    if row is None or row.confirmed_at is not None:
        return None
    return totp.decrypt_secret(secret_key, user.id, row.secret_ciphertext)


def confirm_totp(session: Session, secret_key: str, user: User, code: str, now: float | None = None) -> None:
    """Turn the app on with a first code from it."""
    row = session.scalar(select(TotpFactor).where(TotpFactor.user_id == user.id).with_for_update())
    if row is None or row.confirmed_at is not None:
        raise FactorRefused(N_("There is no authenticator app being set up. Start again."))
    secret = totp.decrypt_secret(secret_key, user.id, row.secret_ciphertext)
    step = totp.matching_step(secret, code, after_step=row.last_used_step, now=now) if secret else None
    if step is None:
        raise FactorRefused(
            N_("That code is not the one your app shows now. Check the app's clock and try again.")
        )
    row.confirmed_at, row.last_used_step = utcnow(), step


def check_totp(session: Session, secret_key: str, user: User, code: str, now: float | None = None) -> bool:
    row = session.scalar(
        select(TotpFactor)
        .where(TotpFactor.user_id == user.id, TotpFactor.confirmed_at.is_not(None))
        .with_for_update()
    )
    if row is None:
        return False
    secret = totp.decrypt_secret(secret_key, user.id, row.secret_ciphertext)
    step = totp.matching_step(secret, code, after_step=row.last_used_step, now=now) if secret else None
    if step is None:
        return False
    row.last_used_step = step
    return True


def remove_totp(session: Session, user: User) -> None:
    _refuse_removing_the_last_required_factor(session, user, removing_totp=True)
    session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))
    _forget_recovery_codes_without_factor(session, user)


# -- recovery codes -----------------------------------------------------------------------------------


def _recovery_hash(secret_key: str, user_id: str, code: str) -> str:
    return keyed_hash(derive_key(secret_key, "recovery-code"), user_id + ":" + code)


def _normalize_recovery_code(code: str) -> str:
    return totp.normalize_code(code).lower()


def new_recovery_codes(session: Session, secret_key: str, user: User) -> list[str]:
    """Ten fresh codes in place of any earlier ones; shown once, stored as keyed hashes."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(secret_key, user.id, raw)))
    session.flush()
    return codes


def use_recovery_code(session: Session, secret_key: str, user: User, code: str) -> bool:
    normalized = _normalize_recovery_code(code)
    if len(normalized) != 10:
        return False
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(secret_key, user.id, normalized),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(spent.rowcount) == 1  # type: ignore[attr-defined]


def check_code(
    session: Session, secret_key: str, user: User, code: str, now: float | None = None
) -> str | None:
    """What the typed code was — "totp" or "recovery_code" — when it was good (and is now spent)."""
    if len(code) > 64:
        return None
    if check_totp(session, secret_key, user, code, now):
        return "totp"
    if use_recovery_code(session, secret_key, user, code):
        return "recovery_code"
    return None


def _forget_recovery_codes_without_factor(session: Session, user: User) -> None:
    session.flush()
    if not factors_of(session, user).any:
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _refuse_removing_the_last_required_factor(
    session: Session, user: User, *, removing_totp: bool = False, removing_passkey: str | None = None
) -> None:
    factors = factors_of(session, user)
    left = (factors.totp and not removing_totp) or any(p.id != removing_passkey for p in factors.passkeys)
    if factors.required and not left:
        raise FactorRefused(
            N_("Your organization requires a second factor: add another one before removing this one.")
        )


# -- passkeys -----------------------------------------------------------------------------------------


def user_handle(user: User) -> bytes:
    """What authenticators keep as the passkey's user: the user's id, no personal data."""
    return user.id.encode()


def registration_options(session: Session, party: RelyingParty, user: User) -> str:
    existing = [p.credential_id for p in session.scalars(select(Passkey).where(Passkey.user_id == user.id))]
    return party.registration_options(
        user_handle=user_handle(user),
        user_name=user.email,
        display_name=user.email,
        exclude=existing,
        subject=user.id,
    )


def add_passkey(
    session: Session, party: RelyingParty, user: User, credential_json: str, name: str
) -> Passkey:
    name = " ".join(name.split())[:MAX_PASSKEY_NAME] or "Passkey"
    count = session.scalar(select(func.count()).select_from(Passkey).where(Passkey.user_id == user.id))
    if (count or 0) >= MAX_PASSKEYS:
        raise FactorRefused(N_("You have the most passkeys allowed already. Remove one to add another."))
    try:
        registered, challenge = party.verify_registration(credential_json, subject=user.id)
    except CeremonyRefused as refused:
        raise FactorRefused(N_("The passkey could not be registered. Try again.")) from refused
    spend_challenge(session, challenge)
    if session.scalar(select(Passkey.id).where(Passkey.credential_id == registered.credential_id)):
        raise FactorRefused(N_("This passkey is registered already."))
    passkey = Passkey(
        user_id=user.id,
        credential_id=registered.credential_id,
        public_key=registered.public_key,
        sign_count=registered.sign_count,
        name=name,
        transports=registered.transports,
    )
    session.add(passkey)
    session.flush()
    return passkey


def remove_passkey(session: Session, user: User, passkey_id: str) -> Passkey:
    passkey = session.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))
    if passkey is None:
        raise FactorRefused(N_("No such passkey."))
    _refuse_removing_the_last_required_factor(session, user, removing_passkey=passkey.id)
    session.delete(passkey)
    _forget_recovery_codes_without_factor(session, user)
    return passkey


def authentication_options(
    session: Session, party: RelyingParty, *, purpose: str, subject: str, user: User | None
) -> str | None:
    """Options for a passkey prompt: any of this site's (``user`` None, passwordless sign-in) or
    the user's own (None when they have none)."""
    if user is None:
        return party.authentication_options(purpose=purpose, subject=subject, allow=None)
    ids = [p.credential_id for p in session.scalars(select(Passkey).where(Passkey.user_id == user.id))]
    if not ids:
        return None
    return party.authentication_options(purpose=purpose, subject=subject, allow=ids)


def check_passkey(
    session: Session,
    party: RelyingParty,
    credential_json: str,
    *,
    purpose: str,
    subject: str,
    user: User | None,
) -> Passkey:
    """The passkey that signed this challenge. With ``user`` None (passwordless sign-in) the
    passkey may be anyone's, and the authenticator must have verified its user (PIN, biometrics),
    which makes it two factors in one."""
    credential_id = credential_id_of(credential_json)
    if credential_id is None or len(credential_json) > 20_000:
        raise FactorRefused(N_("The passkey's answer could not be read. Try again."))
    query = select(Passkey).where(Passkey.credential_id == credential_id)
    if user is not None:
        query = query.where(Passkey.user_id == user.id)
    passkey = session.scalar(query.with_for_update())
    if passkey is None:
        raise FactorRefused(N_("This passkey is not registered here."))
    handle = user_handle_of(credential_json)
    if handle is not None and handle != passkey.user_id:
        raise FactorRefused(N_("This passkey is not registered here."))
    try:
        new_count, challenge = party.verify_authentication(
            credential_json,
            purpose=purpose,
            subject=subject,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
            require_user_verification=user is None,
        )
    except CeremonyRefused as refused:
        raise FactorRefused(N_("The passkey did not confirm this sign-in. Try again.")) from refused
    spend_challenge(session, challenge)
    passkey.sign_count, passkey.last_used_at = new_count, utcnow()
    return passkey


def spend_challenge(session: Session, challenge: bytes) -> None:
    """Record a challenge as answered; a second answer to it is refused (replay)."""
    now = utcnow()
    expires = datetime.fromtimestamp(int.from_bytes(challenge[32:40], "big"), UTC)
    session.execute(delete(UsedWebAuthnChallenge).where(UsedWebAuthnChallenge.expires_at < now))
    try:
        with session.begin_nested():
            session.add(UsedWebAuthnChallenge(challenge_hash=sha256_hex(challenge.hex()), expires_at=expires))
    except IntegrityError as replayed:
        raise FactorRefused(N_("This passkey answer was used already. Try again.")) from replayed
