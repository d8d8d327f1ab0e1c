"""Redemption Orders (deprecated) (reference tag "Redemption Orders (deprecated)")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Redemption Orders (deprecated)"])
