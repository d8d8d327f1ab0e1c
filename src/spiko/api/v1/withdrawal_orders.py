"""Withdrawal Orders (reference tag "Withdrawal Orders")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Withdrawal Orders"])
