"""Deposit Orders (reference tag "Deposit Orders")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Deposit Orders"])
