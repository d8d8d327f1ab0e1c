"""Step-up: sensitive changes ask the user to prove it is them again when the last proof is old.

A session remembers when its user last proved who they are (``verified_at``: the sign-in, or a
later confirmation). Creating an API key, authorizing an app, adding a withdrawal destination,
changing members or security settings call :func:`require_recent_factor` first; past
``step_up_seconds`` (default 5 minutes) it answers a redirect to ``/login/step-up``, where the user
gives a second factor (a code from their app, a recovery code or a passkey; the password when they
have no second factor), and comes back to resubmit.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from spiko.auth.sessions import SignedInUser
from spiko.db.types import utcnow

STEP_UP_PATH = "/login/step-up"


def is_recent(request: Request, user: SignedInUser) -> bool:
    window = timedelta(seconds=request.app.state.ctx.settings.step_up_seconds)
    return user.verified_at is not None and utcnow() - user.verified_at <= window


def require_recent_factor(
    request: Request, user: SignedInUser, *, back_to: str | None = None
) -> Response | None:
    """None when the user proved who they are recently enough for a sensitive change; else the
    redirect to the step-up page, which brings the user back to ``back_to`` (default: this path;
    only same-site paths are followed) to submit again."""
    if is_recent(request, user):
        return None
    target = back_to or request.url.path
    return RedirectResponse(f"{STEP_UP_PATH}?next={quote(target, safe='')}", status_code=303)
