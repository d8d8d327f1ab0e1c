"""Who a /v1 caller is (``Principal``), and the refusal of a credential (``AuthFailure``).

Shared by every scheme (``spiko.auth.principal`` for Basic API keys and the dispatch,
``spiko.auth.bearer`` and ``spiko.auth.dpop_bearer`` for OAuth tokens), and importing none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from spiko.errors import InvestorAuthenticationError


@dataclass(frozen=True)
class Principal:
    investor_id: str
    credential: Literal["api_key", "oauth"]
    credential_id: str  # the API key's id, or the OAuth grant's id
    client_id: str
    # The investor-API families this credential reaches (``spiko.auth.scopes``); None: all of them.
    # Required by name, so that no new kind of credential gets full access by omission.
    scopes: frozenset[str] | None = field(kw_only=True)


class AuthFailure(InvestorAuthenticationError):
    """A refused credential; ``reason_code`` is the low-cardinality label counted in metrics."""

    def __init__(self, reason: str, reason_code: str, *, scheme: str = "Basic", error: str | None = None):
        super().__init__(reason, scheme=scheme, error=error)
        self.reason_code = reason_code
