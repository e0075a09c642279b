"""Storage: tables, the group-committing database, and Alembic migrations."""
