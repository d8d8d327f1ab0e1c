"""Use cases: each function works inside the one transaction (``Session``) its caller opened."""
