"""The access log (アクセスログ): event schema, append path and queries.

The package imports nothing itself: verification's worker processes load only the modules their chunks
need (no SQLAlchemy). The whole audit schema, for migrations and the schema test, is `schema.metadata`.
"""
