"""RFC 6238 time-based one-time passwords (via pyotp), and how their shared secrets are kept.

The server must read a TOTP secret back to check codes, so hashing it is not an option: it is
encrypted with AES-256-GCM under a subkey of ``SPIKO_SECRET_KEY`` (``derive_key(..., "totp-secret")``),
with the user's id as associated data, so a ciphertext copied onto another user's row does not open.
A stolen database alone yields no secret; changing ``SPIKO_SECRET_KEY`` makes every TOTP factor
unreadable (users then sign in with a passkey or a recovery code and set the app up again).
"""

from __future__ import annotations

import base64
import os
import time

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from spiko.auth.secrets import constant_time_equals, derive_key

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after the current one are accepted too (clock drift, typing time).
DRIFT_STEPS = 1
_VERSION = "v1:"


def new_secret() -> str:
    """A random base32 secret of 160 bits, as authenticator apps expect (RFC 4226 §4)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def encrypt_secret(secret_key: str, user_id: str, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(derive_key(secret_key, "totp-secret")).encrypt(nonce, secret.encode(), user_id.encode())
    return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(secret_key: str, user_id: str, ciphertext: str) -> str | None:
    """The secret, or None when the ciphertext does not open under this key for this user."""
    if not ciphertext.startswith(_VERSION):
        return None
    try:
        raw = base64.urlsafe_b64decode(ciphertext[len(_VERSION) :])
        opened = AESGCM(derive_key(secret_key, "totp-secret")).decrypt(raw[:12], raw[12:], user_id.encode())
    except (InvalidTag, ValueError):
        return None
    return opened.decode()


def normalize_code(code: str) -> str:
    return "".join(char for char in code if not char.isspace() and char != "-")


def matching_step(secret: str, code: str, *, after_step: int | None, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (within the drift allowed), provided it is later than
    ``after_step`` (the last step accepted: a code is good once); None otherwise."""
    code = normalize_code(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if constant_time_equals(totp.at(step * STEP_SECONDS), code):
            return step
    return None
