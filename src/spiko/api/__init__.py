"""The HTTP APIs: /v1 (investor API) and /v0 (public API)."""
