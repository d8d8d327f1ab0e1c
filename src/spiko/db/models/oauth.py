"""Tables of the oauth area (filled in by the issue that builds it)."""
