"""The investor app: server-rendered pages for sign-in, API keys and authorized apps."""
