"""Investor API v1: one module per tag of the reference specification."""
