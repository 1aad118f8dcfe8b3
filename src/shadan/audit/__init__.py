"""The access log (アクセスログ): event schema, append path and queries."""
