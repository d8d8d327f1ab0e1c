"""Tables of the idempotency area (filled in by the issue that builds it)."""
