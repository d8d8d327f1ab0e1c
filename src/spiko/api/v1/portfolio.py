"""Portfolio (reference tag "Portfolio")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Portfolio"])
