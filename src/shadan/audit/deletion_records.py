"""Deletion records as `shadan audit verify` sees them: the leaf ranges whose events were deleted lawfully.

A range counts as deleted only if its record in `log_deletions` is signed by a trusted key of this log,
names the same segment and leaves as its row, and carries the subtree hashes the stored tree has over
those leaves — the hashes the rebuilt tree is checked against, so the record is about exactly the leaves
that the signed checkpoints cover. Events missing anywhere else are still reported as deleted.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from shadan.audit.archive_format import DeletionRecord
from shadan.audit.merkle import ProofError
from shadan.audit.note import Verifier
from shadan.audit.record_tables import log_deletions
from shadan.audit.segment_hashes import stored_subtrees
from shadan.audit.tree_store import node_reader


@dataclass(frozen=True, slots=True)
class DeletedRanges:
    """Disjoint leaf ranges [first, end), sorted."""

    firsts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    def covers(self, leaf_index: int) -> bool:
        at = bisect_right(self.firsts, leaf_index) - 1
        return at >= 0 and leaf_index < self.ends[at]


@dataclass(frozen=True, slots=True)
class InvalidDeletion:
    deletion_id: int
    segment: str
    first_leaf: int
    end_leaf: int
    reason: str


def check_deletion_records(
    connection: Connection, verifiers: Sequence[Verifier], origin: str, tree_size: int
) -> tuple[DeletedRanges, list[InvalidDeletion]]:
    valid: list[tuple[int, int]] = []
    invalid: list[InvalidDeletion] = []
    rows = connection.execute(select(log_deletions).order_by(log_deletions.c.first_leaf))
    for row in rows:
        first, end = int(row.first_leaf), int(row.end_leaf)
        reason = _problem(connection, row.record, (row.segment_id, first, end), verifiers, origin, tree_size)
        if reason is None and (not valid or valid[-1][1] <= first):
            valid.append((first, end))
        else:
            reason = reason or "its leaves overlap another deletion record"
            invalid.append(InvalidDeletion(int(row.deletion_id), row.segment_id, first, end, reason))
    return DeletedRanges(tuple(f for f, _ in valid), tuple(e for _, e in valid)), invalid


def _problem(
    connection: Connection,
    note: str,
    claimed: tuple[str, int, int],
    verifiers: Sequence[Verifier],
    origin: str,
    tree_size: int,
) -> str | None:
    try:
        record = DeletionRecord.open(note, verifiers, origin)
    except ValueError as exc:  # malformed, unsigned, signed by another key or for another log
        return str(exc)
    if (record.segment, record.first_leaf, record.end_leaf) != claimed:
        return "the signed record names other leaves than its row"
    if record.end_leaf > tree_size:
        return "the record names leaves beyond the tree"
    try:
        stored = stored_subtrees(node_reader(connection), record.first_leaf, record.end_leaf)
    except ProofError as exc:
        return str(exc)
    if stored != record.subtrees:
        return "the record's subtree hashes differ from the stored leaves"
    return None
