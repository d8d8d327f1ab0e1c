"""The OAuth 2.0 authorization server, built on Authlib."""
