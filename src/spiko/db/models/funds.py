"""Tables of the funds area (filled in by the issue that builds it)."""
