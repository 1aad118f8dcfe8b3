"""Storage adapters: SQLAlchemy tables, repositories and Alembic migrations (SQLite and PostgreSQL)."""

# The switching tables share the store's metadata; importing them here registers them wherever the store
# schema is used (migrations, schema test, test truncation) without touching tables.py.
from shadan.store import switching_tables as switching_tables
