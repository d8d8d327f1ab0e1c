"""Tables of the ledger area (filled in by the issue that builds it)."""
