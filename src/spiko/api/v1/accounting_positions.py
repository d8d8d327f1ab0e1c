"""Accounting positions (reference tag "Accounting positions")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Accounting positions"])
