"""`shadan audit verify`: recompute the tree from the events and hold it against every signed checkpoint.

One read-only snapshot of the database, streamed in leaf order in chunks (memory stays O(chunk + log n)):

1. the trusted checkpoint (if given) and every stored checkpoint must carry a valid signature by a trusted
   key and name this log; their sizes must not exceed the tree (truncation, rollback);
2. for each leaf, its event's canonical entry is hashed again and compared with the stored leaf hash
   (edited, reordered: changed; no event: deleted, unless a verified deletion record of retention covers
   the leaf — deletion_records.py), the tree is rebuilt from these hashes with a compact
   range, and its root at every checkpoint size must equal the signed root (history rewritten); while the
   events agree, the stored subtree hashes that proofs are made from must equal the rebuilt ones;
3. every event at or below the sequencer's horizon must be a leaf (inserted afterwards, or unreadable);
   every entry the sequencer recorded as left out must still hold the bytes recorded, or have been set
   aside with them (left_out_records.py);
4. the search index must name exactly the resource ids of the sequenced events (search_index.py): with
   each range of leaves checked in step 2, and none for an event without a leaf; and each sequenced
   event's time must lie within its block's time span (time_spans.py).

The first failure of each kind is kept, with the sequence number where it was found.

A large log is checked in step 2 by worker processes, chunk by chunk (verify_chunks.py); they vouch only
for intact chunks, and every other chunk is scanned here, so the report is the same as with one process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select

from shadan.audit.checkpoint import Checkpoint, open_checkpoint
from shadan.audit.deletion_records import DeletedRanges, check_deletion_records
from shadan.audit.entry_safeguards import lapsed_safeguards
from shadan.audit.event_view import definition_differs
from shadan.audit.key_constraints import first_duplicate, keys_without_constraint
from shadan.audit.left_out_records import broken_records
from shadan.audit.log_completeness import first_unlogged, nodes_outside, pending_events
from shadan.audit.merkle import CompactRange, NodeId, leaf_hash
from shadan.audit.note import Verifier
from shadan.audit.search_index import first_index_difference, first_indexed_ahead
from shadan.audit.seq_span import SeqSpan
from shadan.audit.sequencer import read_state
from shadan.audit.table_hooks import hooks_on_the_log
from shadan.audit.time_spans import first_uncovered
from shadan.audit.tree_store import read_level_ranges
from shadan.audit.tree_tables import log_checkpoints, log_leaves
from shadan.audit.verify_chunks import (
    ChunkWorkers,
    Parallelism,
    fold_chunk,
    leaf_range_query,
    snapshot_of,
    stored_nodes_differ,
)
from shadan.audit.waiting import MAX_WAIT, first_waiting_since, newest_stated_time
from shadan.services.audit_log import (
    LogFailure,
    LogFailureKind,
    Progress,
    VerificationReport,
)

_PRIORITY = {kind: rank for rank, kind in enumerate(LogFailureKind)}


@dataclass(frozen=True, slots=True)
class _Target:
    label_ja: str
    label_en: str
    root_hash: bytes


@dataclass
class _Findings:
    failures: dict[LogFailureKind, LogFailure] = field(default_factory=dict)

    def add(self, kind: LogFailureKind, seq: int | None, leaf: int | None, ja: str, en: str) -> None:
        if kind not in self.failures:
            self.failures[kind] = LogFailure(kind, seq, leaf, ja, en)

    def join(self, kind: LogFailureKind, seq: int | None, leaf: int | None, ja: str, en: str) -> None:
        """For a kind that several checks report: one failure naming what each found."""
        before = self.failures.get(kind)
        if before is None:
            self.add(kind, seq, leaf, ja, en)
            return
        seqs = [s for s in (before.seq, seq) if s is not None]
        self.failures[kind] = LogFailure(
            kind,
            min(seqs, default=None),
            leaf if before.leaf_index is None else before.leaf_index,
            f"{before.detail_ja}。{ja}",
            f"{before.detail_en}; {en}",
        )

    def has_event_failure(self) -> bool:
        return bool({LogFailureKind.EVENT_CHANGED, LogFailureKind.EVENT_MISSING} & self.failures.keys())

    def ordered(self) -> tuple[LogFailure, ...]:
        return tuple(sorted(self.failures.values(), key=lambda f: (_PRIORITY[f.kind], f.seq or 0)))


class LogAudit:
    def __init__(
        self,
        engine: Engine,
        verifiers: Sequence[Verifier],
        origin: str,
        chunk: int = 20_000,
        parallelism: Parallelism | None = None,
        max_wait: dt.timedelta = MAX_WAIT,
    ) -> None:
        self._engine = engine
        self._verifiers = tuple(verifiers)
        self._origin = origin
        self._max_wait = max_wait  # SHADAN_LOG_SEQUENCING_MAX_WAIT_MINUTES (waiting.py)
        self._chunk = chunk
        self._parallelism = parallelism or Parallelism()
        self._deleted = DeletedRanges()  # leaves whose events were deleted under a valid record

    def run(self, trusted: str | None, progress: Progress) -> VerificationReport:
        found = _Findings()
        self._check_view(found)
        self._check_entry_safeguards(found)
        with self._engine.connect() as connection:
            _read_only_snapshot(connection)
            try:
                return self._run(connection, trusted, progress, found)
            finally:
                connection.rollback()

    def _run(
        self, connection: Connection, trusted: str | None, progress: Progress, found: _Findings
    ) -> VerificationReport:
        size = self._tree_size(connection, found)
        workers = None
        if self._parallelism.pays_off(size):
            # Started now, they import their modules while this process checks the checkpoints.
            workers = ChunkWorkers(self._engine, snapshot_of(connection), self._parallelism)
        with workers or nullcontext():
            return self._verify(connection, trusted, progress, found, size, workers)

    def _verify(
        self,
        connection: Connection,
        trusted: str | None,
        progress: Progress,
        found: _Findings,
        size: int,
        workers: ChunkWorkers | None,
    ) -> VerificationReport:
        targets: dict[int, list[_Target]] = {}
        self._check_keys(connection, found)
        self._check_hooks(connection, found)
        trusted_head = self._trusted(trusted, found)
        if trusted is not None and trusted_head is None:
            return self._report(0, 0, 0, 0, found, None)
        checkpoints = self._checkpoints(connection, targets, found)
        self._check_sizes(size, checkpoints, trusted_head, found)
        self._deleted = self._deletions(connection, size, found)
        if trusted_head is not None:
            targets.setdefault(trusted_head.size, []).append(
                _Target("信頼済みチェックポイント", "the trusted checkpoint", trusted_head.root_hash)
            )
        checked, spans = self._stream(connection, size, targets, found, progress, workers)
        if checked == size and not found.failures:
            self._check_node_count(connection, size, found)
        self._check_indexed_ahead(connection, found)
        horizon = read_state(connection).horizon_seq
        pending = self._unlogged(connection, horizon, size, found, spans)
        self._check_left_out(connection, found)
        self._check_waiting(connection, horizon, found)
        return self._report(size, checked, len(checkpoints), pending, found, trusted_head)

    def _check_view(self, found: _Findings) -> None:
        if definition_differs(self._engine):
            found.add(
                LogFailureKind.EVENT_VIEW,
                None,
                None,
                "ビュー access_events の定義が shadan の作成したものと異なります",
                "the definition of the view access_events is not the one shadan created",
            )

    def _check_entry_safeguards(self, found: _Findings) -> None:
        """Before the snapshot, in a transaction of its own (entry_safeguards.py); reported under the same
        kind as the keys' constraints (`_check_keys`), whose finding it shares."""
        lapses = lapsed_safeguards(self._engine)
        if not lapses.found:
            return
        seq = lapses.repeated_event_id
        again_ja = (
            "" if seq is None else f"（連番 {seq} のイベントが前のイベントと同じイベントIDを持っています）"
        )
        again_en = "" if seq is None else f" (the event with seq {seq} repeats an earlier event's id)"
        found.join(
            LogFailureKind.KEY_CONSTRAINT,
            seq,
            None,
            "、".join(lapse.ja() for lapse in lapses.found) + again_ja,
            "; ".join(lapse.en() for lapse in lapses.found) + again_en,
        )

    @staticmethod
    def _check_keys(connection: Connection, found: _Findings) -> None:
        missing = keys_without_constraint(connection)
        if not missing:
            return
        names = ", ".join(f"{column.table.name}.{column.name}" for column in missing)
        duplicate = first_duplicate(connection, missing[0])
        seq = duplicate if missing[0].name == "seq" else None
        leaf = duplicate if missing[0].name == "leaf_index" else None
        again_ja = "" if duplicate is None else f"（{missing[0].name} = {duplicate} の行が複数あります）"
        again_en = "" if duplicate is None else f" ({missing[0].name} {duplicate} is held by several rows)"
        found.join(
            LogFailureKind.KEY_CONSTRAINT,
            seq,
            leaf,
            f"{names} に一意制約がありません{again_ja}",
            f"no unique constraint any more on {names}{again_en}",
        )

    @staticmethod
    def _check_hooks(connection: Connection, found: _Findings) -> None:
        hooks = hooks_on_the_log(connection)
        if not hooks:
            return
        found.add(
            LogFailureKind.TABLE_HOOK,
            None,
            None,
            "、".join(hook.ja() for hook in hooks) + " があります",
            "found " + ", ".join(hook.en() for hook in hooks),
        )

    def _report(
        self,
        size: int,
        checked: int,
        checkpoints: int,
        pending: int,
        found: _Findings,
        trusted: Checkpoint | None,
    ) -> VerificationReport:
        trusted_size = None if trusted is None else trusted.size
        return VerificationReport(
            self._origin, size, checked, checkpoints, pending, found.ordered(), trusted_size
        )

    def _trusted(self, trusted: str | None, found: _Findings) -> Checkpoint | None:
        if trusted is None:
            return None
        try:
            return open_checkpoint(trusted, self._verifiers, self._origin).checkpoint
        except ValueError as exc:
            found.add(
                LogFailureKind.TRUSTED_CHECKPOINT_INVALID,
                None,
                None,
                f"信頼済みチェックポイントを検証できません: {exc}",
                f"the trusted checkpoint does not verify: {exc}",
            )
            return None

    def _checkpoints(
        self, connection: Connection, targets: dict[int, list[_Target]], found: _Findings
    ) -> list[Checkpoint]:
        valid: list[Checkpoint] = []
        rows = connection.execute(
            select(log_checkpoints).order_by(log_checkpoints.c.tree_size, log_checkpoints.c.checkpoint_id)
        )
        for row in rows:
            try:
                checkpoint = open_checkpoint(row.note, self._verifiers, self._origin).checkpoint
            except ValueError as exc:
                self._bad_checkpoint(found, row.checkpoint_id, row.tree_size, str(exc))
                continue
            if checkpoint.size != row.tree_size or checkpoint.root_hash != bytes(row.root_hash):
                self._bad_checkpoint(found, row.checkpoint_id, row.tree_size, "record differs from its note")
                continue
            valid.append(checkpoint)
            targets.setdefault(checkpoint.size, []).append(
                _Target(
                    f"チェックポイント #{row.checkpoint_id}",
                    f"checkpoint #{row.checkpoint_id}",
                    checkpoint.root_hash,
                )
            )
        return valid

    @staticmethod
    def _bad_checkpoint(found: _Findings, checkpoint_id: int, size: int, why: str) -> None:
        found.add(
            LogFailureKind.CHECKPOINT_SIGNATURE,
            None,
            int(size),
            f"チェックポイント #{checkpoint_id}（サイズ {size}）を信頼済みの鍵で検証できません: {why}",
            f"checkpoint #{checkpoint_id} (size {size}) does not verify with the trusted keys: {why}",
        )

    @staticmethod
    def _tree_size(connection: Connection, found: _Findings) -> int:
        """One more than the highest leaf index: the stream then finds any leaf missing below it. Two
        lookups at the ends of the key (SQLite answers min() and max() together by a scan), no count."""
        index = log_leaves.c.leaf_index
        lowest = connection.execute(select(func.min(index))).scalar_one()
        highest = connection.execute(select(func.max(index))).scalar_one()
        if lowest is not None and lowest < 0:
            found.add(
                LogFailureKind.TREE_CORRUPT,
                None,
                None,
                f"負の番号の葉があります（{lowest}）",
                f"there is a leaf with a negative index ({lowest})",
            )
        return 0 if highest is None else max(int(highest) + 1, 0)

    @staticmethod
    def _check_sizes(
        size: int, checkpoints: Sequence[Checkpoint], trusted: Checkpoint | None, found: _Findings
    ) -> None:
        signed = max((c.size for c in checkpoints), default=0)
        if signed > size:
            found.add(
                LogFailureKind.TRUNCATED,
                None,
                size,
                f"木は {size} 件ですが、署名済みチェックポイントは {signed} 件を含みます"
                f"（葉 {size} 以降が消えています）",
                f"the tree has {size} leaves but a signed checkpoint covers {signed}"
                f" (leaves from {size} are gone)",
            )
        if trusted is not None and trusted.size > size:
            found.add(
                LogFailureKind.ROLLED_BACK,
                None,
                size,
                f"木は {size} 件ですが、信頼済みチェックポイントは {trusted.size} 件を含みます",
                f"the tree has {size} leaves but the trusted checkpoint covers {trusted.size}",
            )

    def _stream(
        self,
        connection: Connection,
        size: int,
        targets: dict[int, list[_Target]],
        found: _Findings,
        progress: Progress,
        workers: ChunkWorkers | None,
    ) -> tuple[int, tuple[SeqSpan, ...]]:
        """The number of leaves checked, and the seq spans of the chunks when the workers vouched for
        every one of them (none otherwise)."""
        step = partial(progress, size)
        tree, going = CompactRange(), True
        spans: tuple[SeqSpan, ...] = ()
        if workers is not None:
            tree, going, spans = self._in_parallel(workers, connection, size, targets, found, step)
        if going:
            self._scan(connection, tree, size, targets, found, step)
        return tree.size, spans

    def _in_parallel(
        self,
        workers: ChunkWorkers,
        connection: Connection,
        size: int,
        targets: dict[int, list[_Target]],
        found: _Findings,
        step: Callable[[int], None],
    ) -> tuple[CompactRange, bool, tuple[SeqSpan, ...]]:
        """Chunks checked by worker processes (verify_chunks.py); a chunk they do not vouch for is
        scanned here, in this snapshot. False once a leaf is missing; the chunks' spans if the workers
        vouched for all."""
        roots = {n: [t.root_hash for t in listed] for n, listed in targets.items()}
        level = self._parallelism.chunk_level
        tree, spans, all_vouched = CompactRange(), [], True
        for chunk in workers.check(size, roots):
            span = chunk.span  # None: the workers did not vouch for the chunk
            folded = fold_chunk(tree, chunk, roots, level) if span is not None else None
            # The subtrees above the chunk's level span chunks: compared here, unless an event failure
            # already makes them differ (the scan does not compare them then either).
            if (
                span is not None
                and folded is not None
                and (found.has_event_failure() or not stored_nodes_differ(connection, folded[1]))
            ):
                tree = folded[0]
                spans.append(span)
                step(tree.size)
                continue
            all_vouched = False
            if not self._scan(connection, tree, chunk.end, targets, found, step):
                return tree, False, ()
        return tree, True, tuple(spans) if all_vouched else ()

    def _scan(
        self,
        connection: Connection,
        tree: CompactRange,
        end: int,
        targets: dict[int, list[_Target]],
        found: _Findings,
        step: Callable[[int], None],
    ) -> bool:
        """Check the leaves from tree.size up to `end` in this process; False if a leaf is missing."""
        built: dict[NodeId, bytes] = {}
        while tree.size < end:
            start, stop = tree.size, min(tree.size + self._chunk, end)
            for row in connection.execute(leaf_range_query(start, stop)).all():
                if row.leaf_index != tree.size:
                    break
                tree.append(self._leaf(row, found), built.__setitem__)
                for target in targets.get(tree.size, ()):
                    self._compare_root(tree, row.leaf_seq, target, found)
            if tree.size < stop:
                found.add(
                    LogFailureKind.TREE_CORRUPT,
                    None,
                    tree.size,
                    f"葉 {tree.size} がありません",
                    f"leaf {tree.size} is missing",
                )
                return False
            if not found.has_event_failure():
                self._compare_nodes(connection, start, tree.size, built, found)
            self._check_search_index(connection, start, tree.size, found)
            if LogFailureKind.EVENT_CHANGED not in found.failures:
                self._check_time_spans(connection, start, tree.size, found)
            built.clear()
            step(tree.size)
        return True

    def _deletions(self, connection: Connection, size: int, found: _Findings) -> DeletedRanges:
        deleted, invalid = check_deletion_records(connection, self._verifiers, self._origin, size)
        for record in invalid:
            found.add(
                LogFailureKind.DELETION_RECORD_INVALID,
                None,
                record.first_leaf,
                f"削除記録 #{record.deletion_id}（セグメント {record.segment}、葉 {record.first_leaf}〜"
                f"{record.end_leaf - 1}）を検証できません: {record.reason}",
                f"deletion record #{record.deletion_id} (segment {record.segment}, leaves"
                f" {record.first_leaf}-{record.end_leaf - 1}) does not verify: {record.reason}",
            )
        return deleted

    def _leaf(self, row: Row[Any], found: _Findings) -> bytes:
        stored = bytes(row.leaf_hash)
        seq, index = row.leaf_seq, row.leaf_index
        if row.seq is None:
            if self._deleted.covers(index):
                return stored  # deleted whole with its segment, under a signed record
            found.add(
                LogFailureKind.EVENT_MISSING,
                seq,
                index,
                f"連番 {seq}（葉 {index}）のイベントが削除されています",
                f"the event with seq {seq} (leaf {index}) has been deleted",
            )
            return stored
        recomputed = leaf_hash(row.entry.encode("utf-8"))
        if recomputed != stored:
            found.add(
                LogFailureKind.EVENT_CHANGED,
                seq,
                index,
                f"連番 {seq}（葉 {index}）のイベントが記録時の内容と異なります",
                f"the event with seq {seq} (leaf {index}) differs from what was logged",
            )
        return recomputed

    @staticmethod
    def _compare_root(tree: CompactRange, seq: int, target: _Target, found: _Findings) -> None:
        if tree.root() == target.root_hash:
            return
        found.add(
            LogFailureKind.CHECKPOINT_MISMATCH,
            None,
            tree.size - 1,
            f"{target.label_ja}（サイズ {tree.size}）の根ハッシュが、"
            f"連番 {seq} までのイベントから計算した値と一致しません",
            f"the root of {target.label_en} (size {tree.size}) differs from the events up to seq {seq}",
        )

    @staticmethod
    def _compare_nodes(
        connection: Connection, begin: int, end: int, built: dict[NodeId, bytes], found: _Findings
    ) -> None:
        stored = read_level_ranges(connection, begin, end)
        if stored == built:
            return
        wrong = min(n for n in built.keys() | stored.keys() if built.get(n) != stored.get(n))
        found.add(
            LogFailureKind.TREE_CORRUPT,
            None,
            wrong.begin,
            f"葉 {wrong.begin}〜{wrong.end - 1} の部分木ハッシュ（段 {wrong.level}）が誤っています",
            f"the subtree hash over leaves {wrong.begin}-{wrong.end - 1} (level {wrong.level}) is wrong",
        )

    @staticmethod
    def _check_node_count(connection: Connection, size: int, found: _Findings) -> None:
        stored = nodes_outside(connection, size)
        expected = size - size.bit_count()
        if stored is not None:
            found.add(
                LogFailureKind.TREE_CORRUPT,
                None,
                None,
                f"部分木ハッシュが {stored} 件あります（正しくは {expected} 件）",
                f"there are {stored} subtree hashes where the tree has {expected}",
            )

    @staticmethod
    def _check_search_index(connection: Connection, first: int, end: int, found: _Findings) -> None:
        difference = first_index_difference(connection, first, end)
        if difference is not None:
            _index_failure(found, *difference)

    @staticmethod
    def _check_time_spans(connection: Connection, first: int, end: int, found: _Findings) -> None:
        """Only while no event read so far has changed since it was sequenced: the sequencer computed each
        time with the view's expression then, so the database computes it again (on PostgreSQL a changed
        entry's `ts` may be no time, and the cast would stop the run instead of reporting)."""
        seq = first_uncovered(connection, first, end)
        if seq is not None:
            found.add(
                LogFailureKind.TIME_SPANS,
                seq,
                None,
                f"連番 {seq} のイベントの時刻が、そのブロックの時刻範囲に含まれていません",
                f"the time of the event with seq {seq} is not within its block's time span",
            )

    def _check_waiting(self, connection: Connection, horizon: int, found: _Findings) -> None:
        """Against the newest event's own time, not the clock: a copy of the log verifies alike whenever
        it is verified."""
        newest = newest_stated_time(connection)
        if newest is None:
            return
        seq = first_waiting_since(connection, horizon, newest - self._max_wait)
        if seq is not None:
            minutes = round(self._max_wait.total_seconds() / 60)
            found.add(
                LogFailureKind.SEQUENCING_STALLED,
                seq,
                None,
                f"連番 {seq} のイベントは、最新のイベントより {minutes} 分以上前に記録されたまま"
                "木に入っていません",
                f"the event with seq {seq} was logged {minutes} minutes or more before the newest event"
                " and is still not in the tree",
            )

    @staticmethod
    def _check_left_out(connection: Connection, found: _Findings) -> None:
        for broken in broken_records(connection):
            seq = broken.seq
            if broken.changed:
                found.add(
                    LogFailureKind.EVENT_CHANGED,
                    seq,
                    None,
                    f"連番 {seq} の読めないエントリは、木から外された時と異なる内容になっています",
                    f"the entry of seq {seq} differs from what it was when it was left out of the tree",
                )
            else:
                found.add(
                    LogFailureKind.EVENT_MISSING,
                    seq,
                    None,
                    f"木から外された連番 {seq} の読めないエントリが、外した記録（shadan audit set-aside）"
                    "なしに削除されています",
                    f"the entry of seq {seq}, left out of the tree, was deleted without being set aside"
                    " (shadan audit set-aside)",
                )

    @staticmethod
    def _check_indexed_ahead(connection: Connection, found: _Findings) -> None:
        seq = first_indexed_ahead(connection)
        if seq is not None:
            _index_failure(found, seq, missing=False)

    def _unlogged(
        self, connection: Connection, horizon: int, size: int, found: _Findings, spans: Sequence[SeqSpan]
    ) -> int:
        # No failure: the stream found every leaf of [0, size) with its event, and none below 0.
        every_leaf_has_its_event = not self._deleted.firsts and not found.failures
        leaf_count = size if every_leaf_has_its_event else None
        first = first_unlogged(connection, horizon, leaf_count, spans)
        if first is not None:
            found.add(
                LogFailureKind.EVENT_UNLOGGED,
                first,
                None,
                f"連番 {first} のイベントは木に記録されていません（記録済みの範囲への後からの挿入、"
                "または順序付けで読めなかったエントリ）",
                f"the event with seq {first} is not in the tree (inserted into the logged range afterwards,"
                " or an entry the sequencer could not read)",
            )
        return pending_events(connection, horizon)


def _index_failure(found: _Findings, seq: int, missing: bool) -> None:
    # The id itself stays out of the report: it may name a customer.
    if missing:
        ja, en = "の対象が検索索引にありません", f"an id of the event with seq {seq} is not indexed"
    else:
        ja, en = "が持たない対象が検索索引に載っています", f"the event with seq {seq} is indexed wrongly"
    found.add(LogFailureKind.SEARCH_INDEX, seq, None, f"連番 {seq} のイベント{ja}", en)


def _read_only_snapshot(connection: Connection) -> None:
    """One consistent view for the whole run, even while app servers keep appending and sequencing."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")  # a WAL read transaction: its snapshot starts at the first read
    else:
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
