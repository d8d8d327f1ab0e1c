"""Subscription Orders (deprecated) (reference tag "Subscription Orders (deprecated)")."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Subscription Orders (deprecated)"])
