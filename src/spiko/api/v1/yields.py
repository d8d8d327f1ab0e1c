"""Yields (reference tag "Yields")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Yields"])
