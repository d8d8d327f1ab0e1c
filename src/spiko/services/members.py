"""An investor's members: invitations, roles, removal; password resets and email verification.

Every link sent by mail carries a random 256-bit token; only its SHA-256 is stored
(``MemberToken``), it works once and until it expires, and an unknown, used or expired token
changes nothing. Requests that name an email (a password reset) answer the same whether or not
a user has it: only the mailbox's owner learns anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from spiko.auth import roles
from spiko.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from spiko.auth.secrets import random_token, sha256_hex
from spiko.core.text import TextKind, is_clean
from spiko.db.models.identity import ApiKey, Investor, User, WebSession
from spiko.db.models.members import MemberToken
from spiko.db.types import utcnow
from spiko.errors import ApplicationError, NotFoundError
from spiko.i18n import N_
from spiko.mail import Mailer, Message, send_after_commit
from spiko.services import identity, security_events
from spiko.services.security_events import Origin

INVITATION = "invitation"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a password
EMAIL_VERIFICATION = "email_verification"
MAX_PASSWORD_LENGTH = 1024


class MemberError(ApplicationError):
    """A change to members that the rules refuse (the reason is shown to the member)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


LINK_NOT_VALID = N_("This link is not valid. Check that you copied all of it, or ask for a new one.")


class LinkRefused(Exception):
    """A link sent by mail that cannot be used: unknown, already used or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- links ------------------------------------------------------------------------------------


def _issue(
    session: Session,
    purpose: str,
    *,
    investor_id: str,
    email: str,
    ttl_seconds: int,
    user_id: str | None = None,
    role: str | None = None,
    created_by_user_id: str | None = None,
) -> str:
    token = random_token(32)
    now = utcnow()
    session.add(
        MemberToken(
            purpose=purpose,
            token_hash=sha256_hex(token),
            investor_id=investor_id,
            user_id=user_id,
            email=email,
            role=role,
            created_by_user_id=created_by_user_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    session.flush()
    return token


def find_link(session: Session, purpose: str, token: str, *, lock: bool = False) -> MemberToken:
    """The live link of ``purpose`` whose token is ``token``; ``LinkRefused`` otherwise."""
    if not token or len(token) > 100 or not token.isascii():
        raise LinkRefused(
            N_("This link is not valid. Check that you copied all of it, or ask for a new one.")
        )
    query = select(MemberToken).where(
        MemberToken.token_hash == sha256_hex(token), MemberToken.purpose == purpose
    )
    if lock:
        query = query.with_for_update()
    link = session.scalar(query)
    if link is None:
        raise LinkRefused(
            N_("This link is not valid. Check that you copied all of it, or ask for a new one.")
        )
    if link.used_at is not None:
        raise LinkRefused(
            N_("This link was already used; each link works once. Ask for a new one if you need to.")
        )
    if link.expires_at <= utcnow():
        raise LinkRefused(N_("This link has expired. Ask for a new one."))
    return link


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise MemberError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise MemberError(f"The password has at most {MAX_PASSWORD_LENGTH} characters.")


# --- members ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    id: str
    email: str
    role: str
    invited_by: str | None
    expires_at: object


def list_members(session: Session, investor_id: str) -> list[User]:
    """The investor's members, highest role first, then by email."""
    members = session.scalars(select(User).where(User.investor_id == investor_id).order_by(User.email))
    return sorted(members, key=lambda user: -roles.rank(user.role))


def pending_invitations(session: Session, investor_id: str) -> list[Invitation]:
    inviter = User.__table__.alias("inviter")
    rows = session.execute(
        select(MemberToken, inviter.c.email)
        .outerjoin(inviter, inviter.c.id == MemberToken.created_by_user_id)
        .where(
            MemberToken.investor_id == investor_id,
            MemberToken.purpose == INVITATION,
            MemberToken.used_at.is_(None),
            MemberToken.expires_at > utcnow(),
        )
        .order_by(MemberToken.created_at.desc())
    )
    return [
        Invitation(link.id, link.email, link.role or roles.VIEWER, by, link.expires_at) for link, by in rows
    ]


def _check_role(role: str) -> str:
    if role not in roles.ROLES:
        raise MemberError(f"Choose a role among {', '.join(roles.ROLES)}.")
    return role


def invite(
    session: Session,
    mailer: Mailer | None,
    *,
    investor_id: str,
    invited_by: str | None,
    email: str,
    role: str,
    ttl_seconds: int,
    origin: Origin = security_events.OPERATOR,
) -> None:
    """Mail ``email`` a link to join the investor with ``role``.

    An address that already signs in to another investor gets a mail saying so instead of a
    link, and the page answers the same either way: inviting tells nobody who has an account.
    """
    email = identity.normalize_email(email)
    _check_role(role)
    if not is_clean(email, TextKind.EMAIL) or not identity.EMAIL_RE.match(email) or len(email) > 320:
        raise MemberError("Enter a valid email address.")
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None and existing.investor_id == investor_id:
        raise MemberError(f"{email} is already a member.")
    investor = session.get(Investor, investor_id)
    if investor is None:
        raise NotFoundError("Investor not found")
    inviter = session.get(User, invited_by) if invited_by else None
    by = inviter.email if inviter else "an operator"
    # A new invitation replaces any earlier one to the same address.
    session.execute(
        update(MemberToken)
        .where(
            MemberToken.investor_id == investor_id,
            MemberToken.purpose == INVITATION,
            MemberToken.email == email,
            MemberToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    security_events.record(
        session,
        investor_id,
        invited_by,
        security_events.MEMBER_INVITED,
        {"email": email, "role": role},
        origin,
    )
    if existing is not None:
        send_after_commit(
            session,
            mailer,
            Message(
                to=[email],
                subject=f"{investor.name} invited you to Spiko",
                text=f"{by} invited this address to join {investor.name} on Spiko as {role}.\n\n"
                "This address already signs in to Spiko for another organization, and one address "
                "belongs to one organization. Ask them to invite another address of yours.",
            ),
        )
        return
    token = _issue(
        session,
        INVITATION,
        investor_id=investor_id,
        email=email,
        ttl_seconds=ttl_seconds,
        role=role,
        created_by_user_id=invited_by,
    )
    days = max(1, ttl_seconds // 86400)
    link = mailer.link(f"/invitations/{token}") if mailer else f"/invitations/{token}"
    send_after_commit(
        session,
        mailer,
        Message(
            to=[email],
            subject=f"{investor.name} invited you to Spiko",
            text=f"{by} invited you to join {investor.name} on Spiko as {role}: "
            f"{roles.ROLE_DESCRIPTIONS[role]}\n\n"
            f"Choose your password here to accept (the link works once, for {days} day(s)):\n{link}\n\n"
            "If you did not expect this, ignore this message.",
        ),
    )


def cancel_invitation(
    session: Session, *, investor_id: str, invitation_id: str, actor_id: str, origin: Origin
) -> str:
    link = session.scalar(
        select(MemberToken).where(
            MemberToken.id == invitation_id,
            MemberToken.investor_id == investor_id,
            MemberToken.purpose == INVITATION,
            MemberToken.used_at.is_(None),
        )
    )
    if link is None:
        raise NotFoundError("No such invitation")
    link.used_at = utcnow()
    security_events.record(
        session, investor_id, actor_id, security_events.INVITATION_CANCELED, {"email": link.email}, origin
    )
    return link.email


def invitation_for(session: Session, token: str) -> tuple[MemberToken, Investor]:
    """The live invitation of ``token`` with its investor (``LinkRefused`` otherwise)."""
    link = find_link(session, INVITATION, token)
    investor = session.get(Investor, link.investor_id)
    if investor is None:
        raise LinkRefused(N_("This invitation is no longer valid."))
    return link, investor


def accept_invitation(
    session: Session, token: str, password: str, *, origin: Origin = security_events.OPERATOR
) -> User:
    """The new member, with the invitation's role and a verified email (the link proved it)."""
    _check_password(password)
    link = find_link(session, INVITATION, token, lock=True)
    if session.scalar(select(User.id).where(User.email == link.email)):
        raise LinkRefused(
            N_("This address already has a Spiko sign-in; ask for an invitation to another address.")
        )
    now = utcnow()
    link.used_at = now
    user = User(
        investor_id=link.investor_id,
        email=link.email,
        password_hash=hash_password(password),
        role=link.role or roles.VIEWER,
        email_verified_at=now,
    )
    session.add(user)
    session.flush()
    security_events.record(
        session,
        link.investor_id,
        user.id,
        security_events.MEMBER_JOINED,
        {"email": user.email, "role": user.role},
        origin,
    )
    return user


def _member(session: Session, investor_id: str, member_id: str, *, lock: bool = False) -> User:
    query = select(User).where(User.id == member_id, User.investor_id == investor_id)
    if lock:
        query = query.with_for_update()
    member = session.scalar(query)
    if member is None:
        raise NotFoundError("No such member")
    return member


def _other_owners(session: Session, investor_id: str, member_id: str) -> int:
    # Lock the investor row: two owners demoting each other at once cannot both pass the check.
    session.execute(select(Investor.id).where(Investor.id == investor_id).with_for_update())
    count = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.investor_id == investor_id, User.role == roles.OWNER, User.id != member_id)
    )
    return int(count or 0)


def change_role(
    session: Session, *, investor_id: str, actor_id: str | None, member_id: str, role: str, origin: Origin
) -> User:
    """Give a member another role; an investor always keeps at least one owner."""
    _check_role(role)
    member = _member(session, investor_id, member_id, lock=True)
    if member.role == role:
        return member
    if member.role == roles.OWNER and _other_owners(session, investor_id, member_id) == 0:
        raise MemberError("An organization needs at least one owner: make another member an owner first.")
    before = member.role
    member.role = role
    session.flush()
    security_events.record(
        session,
        investor_id,
        actor_id,
        security_events.MEMBER_ROLE_CHANGED,
        {"email": member.email, "from": before, "to": role},
        origin,
    )
    return member


@dataclass(frozen=True)
class Removed:
    email: str
    revoked_client_ids: list[str]
    sessions_ended: int


def remove_member(
    session: Session, *, investor_id: str, actor_id: str | None, member_id: str, origin: Origin
) -> Removed:
    """Remove a member: their sessions end, the API keys they created are revoked and the apps
    they authorized lose their grants (the grants go with the member's row)."""
    member = _member(session, investor_id, member_id, lock=True)
    if member.role == roles.OWNER and _other_owners(session, investor_id, member_id) == 0:
        raise MemberError("An organization needs at least one owner: make another member an owner first.")
    email = member.email
    keys = list(
        session.scalars(
            select(ApiKey).where(ApiKey.created_by_user_id == member.id, ApiKey.revoked_at.is_(None))
        )
    )
    for key in keys:
        identity.revoke_api_key(session, client_id=key.client_id, investor_id=investor_id)
        security_events.record(
            session,
            investor_id,
            actor_id,
            security_events.API_KEY_REVOKED,
            {"name": key.name, "client_id": key.client_id, "reason": f"{email} was removed"},
            origin,
        )
    ended = session.execute(delete(WebSession).where(WebSession.user_id == member.id))
    security_events.record(
        session,
        investor_id,
        actor_id,
        security_events.MEMBER_REMOVED,
        {"email": email, "role": member.role},
        origin,
    )
    session.execute(delete(User).where(User.id == member.id))
    session.flush()
    return Removed(email, [key.client_id for key in keys], int(ended.rowcount))  # type: ignore[attr-defined]


# --- password reset and email verification ----------------------------------------------------


def _reissue(session: Session, purpose: str, user: User, ttl_seconds: int) -> str:
    """A new link of ``purpose`` for ``user``, and the end of every earlier one: only the newest
    link works (an older one may sit in a mailbox someone else reads)."""
    session.execute(
        update(MemberToken)
        .where(MemberToken.user_id == user.id, MemberToken.purpose == purpose, MemberToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return _issue(
        session,
        purpose,
        investor_id=user.investor_id,
        email=user.email,
        user_id=user.id,
        ttl_seconds=ttl_seconds,
    )


def request_password_reset(
    session: Session, mailer: Mailer | None, email: str, *, ttl_seconds: int, origin: Origin
) -> None:
    """Mail a reset link to ``email`` if a user has it; otherwise do nothing, and say nothing."""
    user = identity.find_user_by_email(session, email) if len(email) <= 320 else None
    if user is None:
        return
    token = _reissue(session, PASSWORD_RESET, user, ttl_seconds)
    security_events.record(
        session, user.investor_id, user.id, security_events.PASSWORD_RESET_REQUESTED, {}, origin
    )
    minutes = max(1, ttl_seconds // 60)
    link = mailer.link(f"/password-reset/{token}") if mailer else f"/password-reset/{token}"
    send_after_commit(
        session,
        mailer,
        Message(
            to=[user.email],
            subject="Reset your Spiko password",
            text="Someone asked to reset the password of this Spiko sign-in"
            + (f" from {origin.ip}" if origin.ip else "")
            + f".\n\nChoose a new password here (the link works once, for {minutes} minutes):\n{link}\n\n"
            "If it was not you, ignore this message: your password stays as it is.",
        ),
    )


def reset_password(
    session: Session, mailer: Mailer | None, token: str, password: str, *, origin: Origin
) -> User:
    """Set the new password, end every session of the user and use up the link."""
    _check_password(password)
    link = find_link(session, PASSWORD_RESET, token, lock=True)
    user = session.get(User, link.user_id) if link.user_id else None
    if user is None:
        raise LinkRefused(N_("This link is not valid any more. Ask for a new one."))
    now = utcnow()
    link.used_at = now
    user.password_hash = hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = now  # the link reached this mailbox
    ended = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    security_events.record(
        session,
        user.investor_id,
        user.id,
        security_events.PASSWORD_CHANGED,
        {"via": "reset link", "sessions_ended": int(ended.rowcount)},  # type: ignore[attr-defined]
        origin,
    )
    send_after_commit(
        session,
        mailer,
        Message(
            to=[user.email],
            subject="Your Spiko password was changed",
            text="The password of this Spiko sign-in was just changed with a reset link"
            + (f" from {origin.ip}" if origin.ip else "")
            + ", and every browser signed in with it was signed out.\n\n"
            "If it was not you, reset your password again at once and tell an owner of your organization.",
        ),
    )
    return user


def send_email_verification(
    session: Session, mailer: Mailer | None, user_id: str, *, ttl_seconds: int
) -> bool:
    """Mail the user a link proving their address; False when it is already verified."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("No such user")
    if user.email_verified_at is not None:
        return False
    token = _reissue(session, EMAIL_VERIFICATION, user, ttl_seconds)
    link = mailer.link(f"/verify-email/{token}") if mailer else f"/verify-email/{token}"
    send_after_commit(
        session,
        mailer,
        Message(
            to=[user.email],
            subject="Confirm your email address for Spiko",
            text=f"Confirm that this address is yours (the link works once):\n{link}\n\n"
            "If you did not ask for this, ignore this message.",
        ),
    )
    return True


def verify_email(session: Session, token: str, *, origin: Origin) -> User:
    link = find_link(session, EMAIL_VERIFICATION, token, lock=True)
    user = session.get(User, link.user_id) if link.user_id else None
    if user is None or user.email != link.email:
        raise LinkRefused(N_("This link is not valid any more. Ask for a new one."))
    link.used_at = utcnow()
    user.email_verified_at = link.used_at
    security_events.record(
        session, user.investor_id, user.id, security_events.EMAIL_VERIFIED, {"email": user.email}, origin
    )
    return user
