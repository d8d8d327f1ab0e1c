"""A real SMTP server in the test process (aiosmtpd), keeping every message it receives."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    envelope_from: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        return body.get_content() if body is not None else ""  # type: ignore[no-any-return]

    def link(self, path_prefix: str) -> str:
        """The first link in the text whose path starts with ``path_prefix``."""
        found = re.search(r"https?://[^\s/]+(" + re.escape(path_prefix) + r"\S*)", self.text)
        if found is None:
            raise AssertionError(f"no link to {path_prefix} in: {self.text}")
        return found.group(1)


@dataclass
class MailServer:
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str, subject: str = "") -> list[Received]:
        """The messages to ``address`` (whose subject contains ``subject``), in arrival order."""
        return [mail for mail in self.received if address in mail.recipients and subject in mail.subject]

    def wait_for(
        self, address: str, count: int = 1, timeout: float = 5.0, subject: str = ""
    ) -> list[Received]:
        """The messages to ``address`` once at least ``count`` arrived (mail sent after a commit)."""
        deadline = time.monotonic() + timeout
        while len(self.to(address, subject)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.to(address, subject)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_mail_server() -> Iterator[MailServer]:
    server = MailServer()
    server.port = _free_port()
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
