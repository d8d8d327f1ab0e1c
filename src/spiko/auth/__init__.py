"""Who is calling: passwords, browser sessions and CSRF, API keys, OAuth 2.0 and the principal."""
