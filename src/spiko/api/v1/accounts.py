"""Accounts (reference tag "Accounts")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Accounts"])
