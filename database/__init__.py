"""Database engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""
