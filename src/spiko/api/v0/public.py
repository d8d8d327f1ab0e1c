"""Public API v0: funds, share classes, NAVs, yields, totals and exchange rates (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Public"])
