"""Public API v0: funds, share classes, NAVs, yields and exchange rates."""
