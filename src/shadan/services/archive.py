"""Archive and retention of the access log (DESIGN §4.3): monthly Parquet segments, deletion of whole
expired segments with a signed record, and legal holds that stop it.

The ports below are implemented in audit/ (archive.py, retention.py, archive_check.py) and wired in
bootstrap. This module decides *what* is archived and deleted: a month once it is over, a segment once its
month ended more than the retention period ago and no active legal hold overlaps it. Every archive run,
deletion and hold is an access event.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shadan.domain.errors import DomainError, InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.japan_time import JST
from shadan.domain.vocabulary import AuditTag, ResourceType
from shadan.services.audit_log import CheckpointInfo, Progress, no_progress
from shadan.services.identity import Actor, EventFactory
from shadan.services.ports import AccessLogSink

_SEGMENT = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def month_start(segment: str) -> dt.datetime:
    """The first instant (UTC) of a segment's month; a segment is named `YYYY-MM`."""
    match = _SEGMENT.fullmatch(segment)
    if match is None:
        raise ValueError(f"a segment is named YYYY-MM, not {segment!r}")
    return dt.datetime(int(match[1]), int(match[2]), 1, tzinfo=dt.UTC)


def month_end(segment: str) -> dt.datetime:
    """The first instant (UTC) after the segment's month."""
    return month_start(next_segment(segment))


def next_segment(segment: str) -> str:
    start = month_start(segment)
    return f"{start.year + start.month // 12:04d}-{start.month % 12 + 1:02d}"


def segment_of(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return f"{utc.year:04d}-{utc.month:02d}"


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """A month to archive: the leaves [first_leaf, end_leaf)."""

    segment: str
    first_leaf: int
    end_leaf: int


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    segment: str
    first_leaf: int
    end_leaf: int
    event_count: int
    file_sha256: str
    checkpoint_size: int
    first_ts: dt.datetime | None  # the earliest and latest event time in the segment (None: empty)
    last_ts: dt.datetime | None
    archived_at: dt.datetime
    deleted_at: dt.datetime | None

    def period(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) the segment's events concern: its month, widened to the times of its events
        (an ingested event from another system may be older than the month it was logged in)."""
        start, end = month_start(self.segment), month_end(self.segment)
        if self.first_ts is not None and self.last_ts is not None:
            start, end = min(start, self.first_ts), max(end, self.last_ts + dt.timedelta(microseconds=1))
        return start, end


@dataclass(frozen=True, slots=True)
class LegalHold:
    """A period (JST calendar days, both included) whose events must not be deleted while it is active."""

    hold_id: int
    period_from: dt.date
    period_to: dt.date
    reason: str
    placed_by: str
    placed_at: dt.datetime
    released_by: str | None = None
    released_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(self.period_from, dt.time(), JST)
        end = dt.datetime.combine(self.period_to + dt.timedelta(days=1), dt.time(), JST)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def blocking_hold(segment: SegmentInfo, holds: Sequence[LegalHold]) -> LegalHold | None:
    """The first active hold whose period overlaps the segment's, if any."""
    start, end = segment.period()
    for hold in holds:
        hold_start, hold_end = hold.window()
        if hold.active and hold_start < end and start < hold_end:
            return hold
    return None


def expires_at(segment: str, years: int) -> dt.datetime:
    """The instant from which a segment may be deleted: `years` after the end of its month."""
    end = month_end(segment)
    return end.replace(year=end.year + years)  # always the 1st of a month: no 29 February to trip on


@dataclass(frozen=True, slots=True)
class RetentionItem:
    segment: SegmentInfo
    expired_at: dt.datetime
    hold: LegalHold | None  # the active hold that keeps it, if any
    # Entries left out of the tree that the segment's records name and that were not set aside as
    # recorded, or that it set aside while their records are still there: verification holds an entry to
    # its record and a record to its setting aside, so the segment is kept (audit/left_out_records.py).
    left_out: tuple[int, ...] = ()

    @property
    def kept(self) -> bool:
        return self.hold is not None or bool(self.left_out)


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    now: dt.datetime
    years: int
    expired: tuple[RetentionItem, ...]  # oldest first

    @property
    def deletable(self) -> tuple[RetentionItem, ...]:
        return tuple(item for item in self.expired if not item.kept)

    @property
    def kept(self) -> tuple[RetentionItem, ...]:
        return tuple(item for item in self.expired if item.kept)


@dataclass(frozen=True, slots=True)
class DeletedSegment:
    segment: str
    first_leaf: int
    end_leaf: int
    event_count: int
    record: str  # the signed deletion record (a signed note)


@dataclass(frozen=True, slots=True)
class RetentionResult:
    deleted: tuple[DeletedSegment, ...]
    kept: tuple[RetentionItem, ...]


@dataclass(frozen=True, slots=True)
class ArchiveRun:
    segments: tuple[SegmentInfo, ...]
    checkpoint_size: int  # the signed checkpoint every new segment is tied to (0: nothing archived)

    @property
    def events(self) -> int:
        return sum(s.event_count for s in self.segments)


class SegmentHeld(DomainError):
    """An active legal hold was placed on the segment after the retention plan was made."""

    code = "segment_held"

    def __init__(self, segment: str, hold: LegalHold) -> None:
        super().__init__(f"セグメント {segment} は法的保全 #{hold.hold_id} の対象のため削除しません。")
        self.hold = hold


class ArchiveConflict(DomainError):
    """Another archive run recorded the same segment at the same time; this run stops, nothing lost."""

    code = "archive_conflict"


class DeletionFailed(DomainError):
    """The database refused the deletion (typically: the owner role's URL is not configured)."""

    code = "deletion_failed"


class SignedLog(Protocol):
    """What archiving needs of the log (AuditLogService)."""

    def tick(self) -> CheckpointInfo | None: ...

    def latest_checkpoint(self) -> CheckpointInfo | None: ...

    def checkpoint(self) -> CheckpointInfo: ...


class SegmentArchive(Protocol):
    """Monthly Parquet segments of the log, each with its manifest, in the archive directory."""

    def pending(self, now: dt.datetime) -> list[SegmentPlan]:
        """The months after the last archived segment that are over at `now`, oldest first."""
        ...

    def write(self, plan: SegmentPlan, checkpoint: CheckpointInfo, progress: Progress) -> SegmentInfo:
        """Write the segment's file and manifest and record it (LogIntegrityError if an event does not hash
        to its leaf, or the segment does not lead to the checkpoint's root)."""
        ...

    def segments(self) -> list[SegmentInfo]:
        """Every archived segment, deleted ones included, oldest first."""
        ...


class RetentionStore(Protocol):
    def holds(self) -> list[LegalHold]: ...

    def open_records(self, segments: Sequence[SegmentInfo]) -> list[tuple[int, ...]]:
        """For each segment, the seqs of entries left out of the tree that its records name and that were
        not set aside as recorded (shadan audit set-aside), or that it set aside while their records are
        still there, in order."""
        ...

    def place_hold(
        self,
        period: tuple[dt.date, dt.date],
        reason: str,
        placed_by: str,
        now: dt.datetime,
        event_for: Callable[[LegalHold], AccessEvent],
    ) -> LegalHold:
        """Store the hold and its access event in one transaction."""
        ...

    def release_hold(self, hold_id: int, released_by: str, now: dt.datetime, event: AccessEvent) -> LegalHold:
        """Release an active hold with its access event (NotFound, InvalidInput if released already)."""
        ...

    def delete_segment(
        self, segment: SegmentInfo, reason: str, now: dt.datetime, event: AccessEvent
    ) -> DeletedSegment:
        """Sign a deletion record, delete the segment's events with it (owner role, one transaction, after
        checking the holds again: SegmentHeld), then its file and manifest; the record goes beside them."""
        ...

    def settle_files(self) -> int:
        """Finish the file work of deletions interrupted after their commit; returns how many."""
        ...


class ArchiveService:
    def __init__(
        self,
        log: SignedLog,
        archive: SegmentArchive,
        retention: RetentionStore,
        sink: AccessLogSink,
        clock: Callable[[], dt.datetime],
        system_name: str,
        retention_years: int,
    ) -> None:
        if retention_years < 5:
            raise ValueError("the access log is kept at least 5 years")
        self._log = log
        self._archive = archive
        self._retention = retention
        self._sink = sink
        self._clock = clock
        self._events = EventFactory(system_name)
        self._years = retention_years

    def archive(self, actor: Actor, progress: Progress | None = None) -> ArchiveRun:
        """Archive every month that is over, each tied to a signed checkpoint covering its last leaf."""
        self._log.tick()  # sequences first, so the months see every committed event
        plans = self._archive.pending(self._clock())
        written: list[SegmentInfo] = []
        size = 0
        try:
            if plans:
                head = self._covering(plans[-1].end_leaf)
                size = head.size
                self._write(plans, head, progress, written)
        finally:
            # Recorded whatever happened: an interrupted run names the segments it did write.
            run = ArchiveRun(tuple(written), size if written else 0)
            self._sink.record([self._archived_event(actor, run, complete=len(written) == len(plans))])
        return run

    def _write(
        self,
        plans: Sequence[SegmentPlan],
        head: CheckpointInfo,
        progress: Progress | None,
        written: list[SegmentInfo],
    ) -> None:
        total = sum(p.end_leaf - p.first_leaf for p in plans)
        for plan in plans:
            step = _offset(progress, total, sum(s.event_count for s in written))
            written.append(self._archive.write(plan, head, step))

    def _covering(self, end_leaf: int) -> CheckpointInfo:
        """The latest signed checkpoint if it covers `end_leaf`, else a new one."""
        latest = self._log.latest_checkpoint()
        return latest if latest is not None and latest.size >= end_leaf else self._log.checkpoint()

    def retention_plan(self) -> RetentionPlan:
        now = self._clock()
        holds = self._retention.holds()
        due = [
            (segment, expiry)
            for segment in self._archive.segments()
            if segment.deleted_at is None and now >= (expiry := expires_at(segment.segment, self._years))
        ]
        left_out = self._retention.open_records([segment for segment, _ in due])
        expired = (
            RetentionItem(segment, expiry, blocking_hold(segment, holds), seqs)
            for (segment, expiry), seqs in zip(due, left_out, strict=True)
        )
        return RetentionPlan(now, self._years, tuple(expired))

    def apply_retention(self, actor: Actor, progress: Progress | None = None) -> RetentionResult:
        """Delete every expired segment that no active hold and no open record of an entry left out keeps,
        whole, oldest first."""
        self._retention.settle_files()
        plan = self.retention_plan()
        reason = f"保存期間 {self._years} 年の満了 / retention period of {self._years} years expired"
        deleted: list[DeletedSegment] = []
        # Holds, which any operator may place meanwhile, are checked again under the log's lock; records
        # are not: a month over gains none, and an entry set aside comes back only by the owner's own
        # insert, which verification reports as an event not in the tree whether its record is kept or not.
        kept = list(plan.kept)
        step = progress or no_progress
        for done, item in enumerate(plan.deletable):
            step(len(plan.deletable), done)
            segment = item.segment
            event = self._events.admin(
                self._clock(),
                actor,
                AuditTag.LOG_SEGMENT_DELETED,
                ResourceType.ACCESS_LOG,
                (segment.segment,),
                extra={
                    "first_leaf": segment.first_leaf,
                    "end_leaf": segment.end_leaf,
                    "events": segment.event_count,
                    "file_sha256": segment.file_sha256,
                    "reason": reason,
                },
            )
            try:
                deleted.append(self._retention.delete_segment(segment, reason, self._clock(), event))
            except SegmentHeld as exc:
                kept.append(RetentionItem(segment, item.expired_at, exc.hold))
        step(len(plan.deletable), len(plan.deletable))
        return RetentionResult(tuple(deleted), tuple(kept))

    def holds(self) -> list[LegalHold]:
        return self._retention.holds()

    def place_hold(self, period_from: dt.date, period_to: dt.date, reason: str, actor: Actor) -> LegalHold:
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidInput("法的保全の理由を入力してください。")
        if period_to < period_from:
            raise InvalidInput("法的保全の期間は開始日から終了日の順に指定してください。")

        def event_for(hold: LegalHold) -> AccessEvent:
            return self._events.admin(
                hold.placed_at,
                actor,
                AuditTag.LOG_HOLD_PLACED,
                ResourceType.ACCESS_LOG,
                (f"hold:{hold.hold_id}",),
                extra={"from": str(period_from), "to": str(period_to), "reason": reason},
            )

        return self._retention.place_hold(
            (period_from, period_to), reason, actor.account_id, self._clock(), event_for
        )

    def release_hold(self, hold_id: int, actor: Actor) -> LegalHold:
        now = self._clock()
        event = self._events.admin(
            now, actor, AuditTag.LOG_HOLD_RELEASED, ResourceType.ACCESS_LOG, (f"hold:{hold_id}",)
        )
        return self._retention.release_hold(hold_id, actor.account_id, now, event)

    def _archived_event(self, actor: Actor, run: ArchiveRun, complete: bool) -> AccessEvent:
        return self._events.admin(
            self._clock(),
            actor,
            AuditTag.LOG_ARCHIVED,
            ResourceType.ACCESS_LOG,
            tuple(s.segment for s in run.segments),
            extra={"events": run.events, "checkpoint_size": run.checkpoint_size, "complete": complete},
        )


def _offset(progress: Progress | None, total: int, done: int) -> Progress:
    """A segment's progress as part of the whole run's."""

    def update(_segment_total: int, segment_done: int) -> None:
        if progress is not None:
            progress(total, done + segment_done)

    return update
