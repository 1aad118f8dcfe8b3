"""Tables of the tamper-evident log: leaves, complete-subtree hashes, checkpoints, sequencer state.

Declared on the access log's metadata so that Alembic and the schema test see one audit schema.
`log_leaves` maps each gapless zero-based leaf index to the `access_events.seq` it logs (seq may have gaps:
PostgreSQL sequences skip on rollback). `log_nodes` holds the hash of every complete subtree of level >= 1
(level 0 is `log_leaves.leaf_hash`) under a key that groups them in tiles (node_keys.py). All three
are append-only for the application; only `log_state` (one row) is updated, under the sequencing lock.

No foreign key from leaves to events: retention will delete expired events while their leaves stay, and a
missing event must be reported by verification, not prevented by a constraint the table owner can drop.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shadan.audit.log import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY is SQLite's fast rowid key

log_state = Table(
    "log_state",
    metadata,
    Column("state_id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    # Every event with seq <= horizon_seq is a leaf, or its seq is a gap that settled (never committed).
    Column("horizon_seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

log_leaves = Table(
    "log_leaves",
    metadata,
    Column("leaf_index", _ID, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    Column("sequenced_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("seq"),
)

# One integer key per node, its level and index (node_keys.py).
log_nodes = Table(
    "log_nodes",
    metadata,
    Column("node_key", _ID, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("checkpoint_id", _ID, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index(None, "tree_size"),
)

# "Who viewed supply point X": each sequenced event's resource ids, written with its leaf in the same
# transaction, so a search reads an index instead of every event's JSON list. Derived data, so it is
# checked like the rest: verification compares it with the events (search_index.py).
log_resource_ids = Table(
    "log_resource_ids",
    metadata,
    Column("resource_id", String, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Index(None, "seq"),  # retention deletes a segment's rows by seq
)

# The view's own type of `ts` (event_view.py): SQLite's text, PostgreSQL's timestamptz. A span keeps the
# value the view computes, so comparing it with a search's period is the comparison the view's `ts` gets.
SPAN_TIME = DateTime(timezone=True).with_variant(String(), "sqlite")

# "What was viewed in this period": for each block of seqs, the earliest and latest `ts` of its sequenced
# events (time_spans.py), written by the sequencer with the leaves, so a period search reads only the
# blocks whose span meets the period. Derived data, checked by verification: each span must cover the
# times of its block's events.
log_time_spans = Table(
    "log_time_spans",
    metadata,
    Column("block", BigInteger, primary_key=True, autoincrement=False),
    Column("earliest", SPAN_TIME, nullable=False),
    Column("latest", SPAN_TIME, nullable=False),
)
