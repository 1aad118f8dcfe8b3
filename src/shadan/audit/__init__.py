"""The access log (アクセスログ): event schema, append path and queries."""

# The tree and record tables share the access log's metadata; importing them here registers them wherever the
# audit schema is used (migrations, schema test), without touching the append path in log.py.
from shadan.audit import record_tables as record_tables
from shadan.audit import tree_tables as tree_tables
