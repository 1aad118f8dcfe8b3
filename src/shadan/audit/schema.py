"""The whole audit schema on one metadata: the access log's tables (log.py), the tree's (tree_tables.py)
and the records' (record_tables.py), for the migrations and the schema test."""

from __future__ import annotations

from shadan.audit import record_tables, tree_tables
from shadan.audit.log import metadata

# The table modules are imported for what they declare on `metadata`.
__all__ = ["metadata", "record_tables", "tree_tables"]
