"""The cost of the second step at sign-in: password alone, password + TOTP code, passkey alone.

In-process (the ASGI app through Starlette's TestClient, no network), on a fresh SQLite database
(or --database-url, an empty database migrated here). Each round signs in three users, in turn:

- password: ``GET /login`` + ``POST /login`` for a user without a second factor;
- second step: the same for a user with an authenticator app, then ``GET /login/verify`` +
  ``POST /login/verify`` with the current code (timed apart, and with the password step);
- passkey: ``GET /login`` + ``POST /login/passkey`` with a software authenticator's P-256 answer.

Prints one JSON object: median milliseconds of each step, and the ratios that matter (the
second step against the password step it follows; a passkey sign-in against a password one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyotp  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from tests.web.authenticator import SoftAuthenticator, passkey_options  # noqa: E402
from tests.world import csrf_token  # noqa: E402

from spiko.app import create_app  # noqa: E402
from spiko.config import Settings  # noqa: E402
from spiko.context import AppContext  # noqa: E402
from spiko.db.migrate import upgrade  # noqa: E402
from spiko.services import factors, identity  # noqa: E402

PASSWORD = "bench passphrase 1"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="spiko-2fa-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    upgrade(url)
    ctx = AppContext(Settings(database_url=url, issuer="http://testserver", secret_key="bench-" + "k" * 40))
    clock = Clock()
    ctx.factor_clock = clock
    users = {}
    with ctx.transaction() as session:
        for name in ("password", "totp", "passkey"):
            _, user = identity.create_investor(
                session, name=f"Bench {name}", email=f"{name}@bench.example", password=PASSWORD
            )
            users[name] = user
        secret, _ = factors.start_totp(session, ctx.settings.secret_key, users["totp"], "Spiko")
        factors.confirm_totp(
            session, ctx.settings.secret_key, users["totp"], pyotp.TOTP(secret).at(clock.now), clock.now
        )
    app = create_app(ctx=ctx)
    device = SoftAuthenticator()
    with TestClient(app, base_url="http://testserver") as browser:
        # The passkey user registers a passkey through the page, signed in with the password.
        browser.post(
            "/login",
            data={
                "email": "passkey@bench.example",
                "password": PASSWORD,
                "csrf_token": csrf_token(browser.get("/login").text),
            },
        )
        page = browser.get("/settings/security")
        registered = browser.post(
            "/settings/security/passkeys",
            data={
                "csrf_token": csrf_token(page.text),
                "credential": device.create(passkey_options(page.text, "passkey-register")),
                "name": "bench",
            },
        )
        assert registered.status_code == 200, registered.text[:300]
        browser.cookies.clear()

        timings: dict[str, list[float]] = {
            "password": [],
            "totp_password_step": [],
            "totp_second_step": [],
            "passkey": [],
        }

        def password_step(email: str) -> float:
            started = time.perf_counter()
            token = csrf_token(browser.get("/login").text)
            answer = browser.post(
                "/login",
                data={"email": email, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert answer.status_code == 303, answer.text[:300]
            return time.perf_counter() - started

        for _ in range(args.rounds):
            timings["password"].append(password_step("password@bench.example"))
            browser.cookies.clear()

            timings["totp_password_step"].append(password_step("totp@bench.example"))
            clock.now += 30  # a new code each round: a code is accepted once
            started = time.perf_counter()
            token = csrf_token(browser.get("/login/verify").text)
            answer = browser.post(
                "/login/verify",
                data={"code": pyotp.TOTP(secret).at(clock.now), "csrf_token": token},
                follow_redirects=False,
            )
            timings["totp_second_step"].append(time.perf_counter() - started)
            assert answer.status_code == 303, answer.text[:300]
            browser.cookies.clear()

            started = time.perf_counter()
            page = browser.get("/login")
            answer = browser.post(
                "/login/passkey",
                data={
                    "csrf_token": csrf_token(page.text),
                    "credential": device.get(passkey_options(page.text, "passkey-form")),
                },
                follow_redirects=False,
            )
            timings["passkey"].append(time.perf_counter() - started)
            assert answer.status_code == 303, answer.text[:300]
            browser.cookies.clear()
    ctx.close()

    median = {name: round(statistics.median(values) * 1000, 1) for name, values in timings.items()}
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "database": "postgresql" if url.startswith("postgres") else "sqlite",
                "median_ms": median,
                "second_step_over_password_step": round(
                    median["totp_second_step"] / median["totp_password_step"], 2
                ),
                "sign_in_with_totp_over_password_only": round(
                    (median["totp_password_step"] + median["totp_second_step"]) / median["password"], 2
                ),
                "passkey_over_password_only": round(median["passkey"] / median["password"], 2),
                "load_average": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
