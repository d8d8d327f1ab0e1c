"""HTTP endpoints of the OAuth 2.0 authorization server."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
