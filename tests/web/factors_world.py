"""Helpers of the second-factor tests: turn an authenticator app on through the pages, read codes."""

from __future__ import annotations

import html
import re
from typing import Any

import pyotp

from tests.world import csrf_token

SECRET_RE = re.compile(r'data-testid="totp-secret">([A-Z2-7]+)<')
RECOVERY_RE = re.compile(r'data-testid="recovery-code">([^<]+)<')


class Clock:
    """The app's TOTP clock (``ctx.factor_clock``), moved by the tests instead of waiting."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def next_step(self) -> None:
        self.now += 30


def code(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def turn_on_totp(client: Any, clock: Clock) -> tuple[str, list[str]]:
    """Set up an authenticator app on /settings/security: (its secret, the ten recovery codes)."""
    started = client.post(
        "/settings/security/totp", data={"csrf_token": csrf_token(client.get("/settings/security").text)}
    )
    assert started.status_code == 200, started.text
    secret = SECRET_RE.search(started.text)
    assert secret, "the page shows no key to type"
    confirmed = client.post(
        "/settings/security/totp/confirm",
        data={"csrf_token": csrf_token(started.text), "code": code(secret.group(1), clock)},
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.next_step()
    return secret.group(1), [html.unescape(c) for c in RECOVERY_RE.findall(confirmed.text)]


def verify(client: Any, typed: str, next_path: str = "") -> Any:
    """Post the second step's form as a browser does."""
    page = client.get("/login/verify")
    data = {"csrf_token": csrf_token(page.text), "code": typed}
    if next_path:
        data["next"] = next_path
    return client.post("/login/verify", data=data, follow_redirects=False)
