"""Switching tables (DESIGN §5): submitted files, every row of them with its outcome, and the history of
state changes per supply point. On the store's metadata, so migrations and the schema test see them.

Only what matching, statistics and fraud heuristics need is kept: the customer's name, address and
contract number are checked against the registry and not copied here. Cells come from applicants, so
free-text columns are unbounded rather than cut or refused by the database.

The application role appends submissions, rows and history and updates only a row's state and pairing
(migration 0005); history is append-only.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shadan.store.tables import metadata

switching_submissions = Table(
    "switching_submissions",
    metadata,
    Column("submission_id", Integer, primary_key=True, autoincrement=True),
    Column("half", String(8), nullable=False),
    Column("file_name", Text, nullable=False),
    # A file is taken once: the same bytes again are a replay.
    Column("file_sha256", String(64), nullable=False, unique=True),
    Column("encoding", String(16), nullable=False),
    Column("strict", Boolean, nullable=False),
    Column("submitted_by", String(64), nullable=False),
    # The submitter's area; NULL for the operator's command line, which acts for every area.
    Column("area", String(2), nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("accepted_count", Integer, nullable=False),
    Column("rejected_count", Integer, nullable=False),
    Column("invalid_count", Integer, nullable=False),
)

switching_applications = Table(
    "switching_applications",
    metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "submission_id",
        Integer,
        ForeignKey("switching_submissions.submission_id"),
        nullable=False,
    ),
    Column("line", Integer, nullable=False),
    Column("half", String(8), nullable=False),
    Column("application_id", Text, nullable=False),
    # The application id a well-formed row holds for its new retailer; NULL for an invalid row, which
    # holds nothing. Unique, so two submissions racing with the same id cannot both be stored.
    Column("claimed_id", Text, nullable=True),
    Column("supply_point_id", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=True),
    Column("current_retailer_code", Text, nullable=False),
    Column("new_retailer_code", Text, nullable=False),
    Column("new_retailer_staff", Text, nullable=False),
    Column("building", Text, nullable=False),
    # cancel_date of a cancellation, start_date of a start application.
    Column("switch_date", Date, nullable=True),
    Column("result", String(16), nullable=False),
    Column("error_codes", String(64), nullable=False),
    Column("strict_error_codes", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_changed_at", DateTime(timezone=True), nullable=False),
    Column("partner_row_id", Integer, ForeignKey("switching_applications.row_id"), nullable=True),
    UniqueConstraint("claimed_id", "new_retailer_code"),
    Index(None, "submission_id", "line"),
    Index(None, "supply_point_id", "state"),
    Index(None, "received_at"),
    Index(None, "state", "received_at"),
)

switching_history = Table(
    "switching_history",
    metadata,
    Column("history_id", Integer, primary_key=True, autoincrement=True),
    Column("supply_point_id", String(22), nullable=False),
    Column("row_id", Integer, ForeignKey("switching_applications.row_id"), nullable=False),
    Column("state", String(16), nullable=False),
    # The registry status the supply point was left in by this change.
    Column("registry_status", String(32), nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Index(None, "supply_point_id", "history_id"),
)
