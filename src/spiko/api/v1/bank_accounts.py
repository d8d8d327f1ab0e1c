"""Bank accounts (reference tag "Bank accounts")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Bank accounts"])
