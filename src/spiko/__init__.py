"""Spiko: an investor API platform for money-market fund share classes."""

__version__ = "0.1.0"
