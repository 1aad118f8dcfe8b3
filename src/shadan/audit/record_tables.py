"""Tables of what is done *to* the log: verification runs, witness cosignatures, archive segments,
signed deletion records and legal holds (DESIGN §4.3). On the access log's metadata, like the tree.

The application role may read and append all of them; it updates only the fields that record a later
state (a segment's deletion, a hold's release). It can never delete events: expired segments are deleted
with the owner role (docs/access-log.md, "Retention").
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
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

_ID = BigInteger().with_variant(Integer, "sqlite")

log_verifications = Table(
    "log_verifications",
    metadata,
    Column("verification_id", _ID, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("origin", String(200), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("events_checked", BigInteger, nullable=False),
    Column("checkpoints_checked", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("first_bad_seq", BigInteger, nullable=True),
    Column("exit_code", Integer, nullable=False),
    # One JSON object per failure: kind, seq, leaf_index, detail_ja, detail_en.
    Column("failures", Text, nullable=False),
    Column("trusted_size", BigInteger, nullable=True),
    Column("run_by", String(64), nullable=False),
)

log_cosignatures = Table(
    "log_cosignatures",
    metadata,
    Column("cosignature_id", _ID, primary_key=True, autoincrement=True),
    Column("witness_name", String(200), nullable=False),
    Column("witness_key", Text, nullable=False),  # the witness's verifier key (signed-note text form)
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("signature_line", Text, nullable=False),  # the note signature line, as the witness sent it
    Column("cosigned_at", DateTime(timezone=True), nullable=False),  # the cosignature's own timestamp
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index(None, "tree_size"),
    Index(None, "witness_name", "tree_size", "cosignature_id"),  # each witness's newest (log_search.py)
)

log_segments = Table(
    "log_segments",
    metadata,
    Column("segment_id", String(7), primary_key=True),  # the month, YYYY-MM (UTC)
    Column("first_leaf", BigInteger, nullable=False),
    Column("end_leaf", BigInteger, nullable=False),  # exclusive
    Column("event_count", BigInteger, nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("checkpoint_size", BigInteger, nullable=False),
    Column("manifest", Text, nullable=False),  # the segment's manifest JSON, as written beside the file
    Column("archived_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("first_leaf"),
)

log_deletions = Table(
    "log_deletions",
    metadata,
    Column("deletion_id", _ID, primary_key=True, autoincrement=True),
    Column("segment_id", String(7), nullable=False),
    Column("first_leaf", BigInteger, nullable=False),
    Column("end_leaf", BigInteger, nullable=False),
    Column("record", Text, nullable=False),  # the signed deletion record (a signed note)
    Column("deleted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("segment_id"),
)

log_legal_holds = Table(
    "log_legal_holds",
    metadata,
    Column("hold_id", _ID, primary_key=True, autoincrement=True),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("placed_by", String(64), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("released_by", String(64), nullable=True),
    Column("released_at", DateTime(timezone=True), nullable=True),
)
