"""The investor app with its mail going to a real SMTP server in the test process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spiko.config import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.mailserver import MailServer, running_mail_server


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture
def settings(database_url: str, smtp: MailServer) -> Settings:
    return Settings(
        database_url=database_url,
        issuer="http://testserver",
        secret_key=TEST_SECRET_KEY,
        smtp_url=smtp.url,
        mail_from="Spiko <security@spiko.test>",
    )
