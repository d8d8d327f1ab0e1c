"""Transfer Orders (reference tag "Transfer Orders")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Transfer Orders"])
