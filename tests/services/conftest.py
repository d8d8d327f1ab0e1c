"""Fixtures for the service tests: the reference data of the shared test world."""

from __future__ import annotations

from tests.reference.conftest import reference_only, seeded  # noqa: F401 - fixtures, shared with the public API's tests
