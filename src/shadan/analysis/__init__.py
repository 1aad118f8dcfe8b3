"""Access-log analysis: rule pack and engines (DuckDB default, Spark at scale)."""
