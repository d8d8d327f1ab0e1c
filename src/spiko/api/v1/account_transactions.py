"""Account Transactions (reference tag "Account Transactions")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Account Transactions"])
