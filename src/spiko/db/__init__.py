"""Persistence: the engine, sessions, ORM tables and Alembic migrations."""
