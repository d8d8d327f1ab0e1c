"""DPoP-bound access tokens on /v1 (RFC 9449 section 7): ``Authorization: DPoP <token>`` with a
``DPoP`` proof made for this very request (method, URL, access token hash, server nonce).

The token is looked up exactly as a Bearer token is (``spiko.auth.bearer``, the one-second
cache); the proof costs one signature check and one single-use ``jti`` record shared by every
worker and server: in Redis when it is configured, else in the database, recorded together with
those of concurrent requests (group commit: see ``GroupCommit`` in ``spiko.auth.oauth.replay``).
The request is answered only once its ``jti`` is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spiko.auth.bearer import live_entry
from spiko.auth.credentials import AuthFailure, Principal
from spiko.auth.oauth.dpop import SIGNING_ALGORITHMS, DPoPProofError
from spiko.auth.oauth.replay import DeferredRecord
from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.roles import clamp
from spiko.auth.scopes import permissions

if TYPE_CHECKING:
    from spiko.context import AppContext

SCHEME = "DPoP"


def request_path(scope: dict[str, Any]) -> str:
    """The request's path as ``request.url.path`` gives it, read from the ASGI scope without
    building the whole URL (the query is not part of ``htu``)."""
    path: str = scope["path"]
    if "?" in path or "#" in path or "\\" in path:
        path = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return path


def refused(
    reason: str, reason_code: str, error: str = "invalid_token", nonce: str | None = None
) -> AuthFailure:
    failure = AuthFailure(reason, reason_code, scheme=SCHEME, error=error)
    headers = dict(failure.headers or {})
    headers["WWW-Authenticate"] += f', algs="{" ".join(SIGNING_ALGORITHMS)}"'
    if nonce:
        headers["DPoP-Nonce"] = nonce
    failure.headers = headers
    return failure


async def authenticate_dpop(ctx: AppContext, token: str, request: Any) -> Principal:
    entry = await live_entry(ctx, token, refused)
    if not entry.jkt:
        raise refused("This access token is not DPoP-bound: send it as Bearer", "not_bound")
    proofs = request.headers.getlist("dpop") if request is not None else []
    if len(proofs) != 1:
        raise refused(
            "Send exactly one DPoP proof with a DPoP-bound token", "dpop_proof", "invalid_dpop_proof"
        )
    url = ctx.settings.issuer + request_path(request.scope)
    server = oauth_server(ctx)
    # The proof is checked on the event loop (a signature check is cheaper than a thread hop);
    # its identifier is recorded only once everything else holds.
    deferred = DeferredRecord()
    try:
        proof = server.dpop.verify(
            proofs[0], method=request.method, url=url, access_token=token, replay=deferred
        )
    except DPoPProofError as error:
        raise refused(error.description, "dpop_proof", error.error, error.nonce) from None
    if not await server.resource_replay.first_use_async(deferred.key, deferred.expires_at, proof.iat):
        raise refused("This DPoP proof was already used (jti)", "dpop_proof", "invalid_dpop_proof")
    if proof.jkt != entry.jkt:
        raise refused(
            "The DPoP proof is not made with the key this token is bound to", "dpop_key", "invalid_dpop_proof"
        )
    scopes = clamp(
        permissions(entry.scope), entry.role, has_creator=True
    )  # a bound grant is narrowed exactly as a Bearer one
    return Principal(entry.investor_id, "oauth", entry.grant_id, entry.client_id, scopes=scopes)
