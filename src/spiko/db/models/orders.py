"""Tables of the orders area (filled in by the issue that builds it)."""
