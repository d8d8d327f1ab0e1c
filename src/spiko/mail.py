"""Mail to investors' members: through an SMTP server, or to ``./outbox/`` as ``.eml`` files.

``SPIKO_SMTP_URL`` names the server (``smtp://host:port``, or ``smtps://user:pass@host:port``
for TLS from the first byte); unset, every message is written to the outbox folder instead, one
``.eml`` file each, which any mail program opens. ``SPIKO_MAIL_FROM`` is the sender.

Mail that belongs to a change (an invitation, a notice to the owners) is queued on the
database session with ``send_after_commit`` and leaves only once the change is committed: a
rolled-back transaction sends nothing, and no SMTP round trip happens while a write lock is held.
A message that cannot be delivered is logged and dropped; it never undoes the change.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import event
from sqlalchemy.orm import Session

logger = logging.getLogger("spiko.mail")

DEFAULT_SENDER = "Spiko <no-reply@spiko.localhost>"
DEFAULT_OUTBOX = "outbox"
SMTP_TIMEOUT_SECONDS = 10.0
_PENDING = "spiko.mail.pending"
_LISTENING = "spiko.mail.listening"


@dataclass(frozen=True)
class Message:
    """One plain-text message to one or more recipients."""

    to: Sequence[str]
    subject: str
    text: str


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start (implicit TLS, RFC 8314)
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://host:port`` or ``smtps://user:pass@host:port`` as a server; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SPIKO_SMTP_URL must look like smtp://host:port or smtps://user:pass@host:port")
    tls = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if tls else 25)
    except ValueError:
        raise ValueError("SPIKO_SMTP_URL has an invalid port") from None
    return SmtpServer(
        host=parts.hostname,
        port=port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class Mailer:
    """Sends messages to the SMTP server of ``smtp_url``, or writes them to ``outbox``."""

    def __init__(
        self,
        smtp_url: str | None,
        sender: str = DEFAULT_SENDER,
        outbox: str = "",
        *,
        base_url: str = "http://127.0.0.1:8000",
    ):
        self.server = parse_smtp_url(smtp_url) if smtp_url else None
        self.sender = sender or DEFAULT_SENDER
        self.outbox = Path(outbox or DEFAULT_OUTBOX)
        self.base_url = base_url.rstrip("/")  # the links in messages start with it (SPIKO_ISSUER)

    def link(self, path: str) -> str:
        """An absolute link into the investor app, for a message."""
        return self.base_url + path

    def describe(self) -> str:
        """Where mail goes, in words for the operator (no password)."""
        if self.server is None:
            return f"mail is written to {self.outbox.resolve()}/ as .eml files (SPIKO_SMTP_URL is not set)"
        scheme = "smtps" if self.server.tls else "smtp"
        return f"mail is sent through {scheme}://{self.server.host}:{self.server.port} as {self.sender}"

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = ", ".join(message.to)
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        if message.text.isascii():
            mail.set_content(message.text, cte="7bit")  # links stay whole, even in the raw .eml
        else:
            mail.set_content(message.text)
        return mail

    def send(self, message: Message) -> None:
        """Deliver now; raises ``OSError``/``smtplib.SMTPException`` when the server refuses."""
        if not message.to:
            return
        mail = self.compose(message)
        if self.server is None:
            self._write(mail)
        else:
            self._submit(self.server, mail)

    def send_quietly(self, message: Message) -> bool:
        """Deliver now, logging instead of raising; whether it left."""
        try:
            self.send(message)
        except (OSError, smtplib.SMTPException) as failure:
            logger.error(
                "mail not sent", extra={"fields": {"subject": message.subject, "error": repr(failure)}}
            )
            return False
        return True

    def _write(self, mail: EmailMessage) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{formatdate(usegmt=True)[5:25].replace(' ', '-').replace(':', '')}-{secrets.token_hex(6)}"
        scratch = self.outbox / f".{name}.tmp"
        scratch.write_bytes(bytes(mail))
        os.replace(scratch, self.outbox / f"{name}.eml")  # readers never see half a message

    def _submit(self, server: SmtpServer, mail: EmailMessage) -> None:
        client: smtplib.SMTP
        if server.tls:
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if server.username:
                client.login(server.username, server.password or "")
            client.send_message(mail)


def send_after_commit(session: Session, mailer: Mailer | None, message: Message) -> None:
    """Send ``message`` once ``session``'s transaction commits; nothing if it rolls back.

    ``mailer`` None sends nothing (a caller with no way to mail, e.g. a bare script).
    """
    if mailer is None or not message.to:
        return
    if not session.info.get(_LISTENING):
        # Listeners stay for the session's life (one unit of work); removing one while SQLAlchemy
        # runs the listeners of the same event is not allowed.
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _drop_pending)
        session.info[_LISTENING] = True
    session.info.setdefault(_PENDING, []).append((mailer, message))


def _send_pending(session: Session) -> None:
    for mailer, message in session.info.pop(_PENDING, []):
        mailer.send_quietly(message)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
