"""Months, expiry and legal holds of the archive (services/archive.py), and the retention use cases over fake
stores: only whole segments whose month ended more than the retention period ago, never one an active
hold overlaps — in JST days, widened to the times of the segment's own events."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

import pytest

from shadan.domain.errors import InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.japan_time import JST
from shadan.domain.vocabulary import AuditTag
from shadan.services.archive import (
    ArchiveService,
    DeletedSegment,
    LegalHold,
    SegmentHeld,
    SegmentInfo,
    SegmentPlan,
    blocking_hold,
    expires_at,
    month_end,
    month_start,
    next_segment,
    segment_of,
)
from shadan.services.audit_log import CheckpointInfo, Progress
from shadan.services.identity import Actor

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 15, tzinfo=UTC)
ACTOR = Actor("cli:auditor")


def segment(
    name: str, first_ts: dt.datetime | None = None, last_ts: dt.datetime | None = None
) -> SegmentInfo:
    start = month_start(name)
    return SegmentInfo(
        segment=name,
        first_leaf=0,
        end_leaf=10,
        event_count=10,
        file_sha256="ab" * 32,
        checkpoint_size=10,
        first_ts=first_ts or start,
        last_ts=last_ts or start + dt.timedelta(days=1),
        archived_at=month_end(name),
        deleted_at=None,
    )


def hold(day_from: dt.date, day_to: dt.date, released: bool = False) -> LegalHold:
    return LegalHold(
        1,
        day_from,
        day_to,
        "事案 A",
        "cli:auditor",
        NOW,
        "cli:auditor" if released else None,
        NOW if released else None,
    )


def test_months() -> None:
    assert month_start("2025-04") == dt.datetime(2025, 4, 1, tzinfo=UTC)
    assert month_end("2025-12") == dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert next_segment("2025-12") == "2026-01"
    assert next_segment("2025-09") == "2025-10"
    # The month of a moment is its UTC month, whatever the zone it is given in.
    assert segment_of(dt.datetime(2025, 5, 1, 8, 0, tzinfo=JST)) == "2025-04"
    for bad in ("2025-4", "2025-13", "2025-00", "25-04"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            month_start(bad)


def test_expiry_counts_from_the_end_of_the_month() -> None:
    assert expires_at("2020-04", 5) == dt.datetime(2025, 5, 1, tzinfo=UTC)
    assert expires_at("2020-02", 5) == dt.datetime(2025, 3, 1, tzinfo=UTC)
    assert expires_at("2019-12", 7) == dt.datetime(2027, 1, 1, tzinfo=UTC)


def test_a_hold_blocks_overlapping_segments_in_jst_days() -> None:
    april = segment("2020-04")
    # 1 May JST begins at 30 April 15:00 UTC, inside April's segment.
    assert blocking_hold(april, [hold(dt.date(2020, 5, 1), dt.date(2020, 5, 3))]) is not None
    assert blocking_hold(april, [hold(dt.date(2020, 5, 2), dt.date(2020, 5, 3))]) is None
    # 1 April JST ends at 1 April 15:00 UTC: inside April too.
    assert blocking_hold(april, [hold(dt.date(2020, 3, 1), dt.date(2020, 4, 1))]) is not None
    assert blocking_hold(april, [hold(dt.date(2020, 3, 1), dt.date(2020, 3, 31))]) is None


def test_a_released_hold_blocks_nothing() -> None:
    assert blocking_hold(segment("2020-04"), [hold(dt.date(2020, 4, 1), dt.date(2020, 4, 30), True)]) is None


def test_an_old_ingested_event_widens_the_segment() -> None:
    """A legacy event from 2019 logged in April 2020: a hold on 2019 must keep the April segment."""
    late = segment("2020-04", first_ts=dt.datetime(2019, 6, 1, tzinfo=UTC))
    assert blocking_hold(late, [hold(dt.date(2019, 6, 1), dt.date(2019, 6, 1))]) is not None
    assert blocking_hold(segment("2020-04"), [hold(dt.date(2019, 6, 1), dt.date(2019, 6, 1))]) is None


class FakeLog:
    def tick(self) -> CheckpointInfo | None:
        return None

    def latest_checkpoint(self) -> CheckpointInfo | None:
        return None

    def checkpoint(self) -> CheckpointInfo:
        raise AssertionError("not used here")


class FakeArchive:
    def __init__(self, segments: Sequence[SegmentInfo]) -> None:
        self._segments = list(segments)

    def pending(self, now: dt.datetime) -> list[SegmentPlan]:
        return []

    def write(self, plan: SegmentPlan, checkpoint: CheckpointInfo, progress: Progress) -> SegmentInfo:
        raise AssertionError("not used here")

    def segments(self) -> list[SegmentInfo]:
        return self._segments


class FakeRetention:
    def __init__(
        self,
        holds: Sequence[LegalHold] = (),
        held_later: str | None = None,
        left_out: dict[str, tuple[int, ...]] | None = None,
    ) -> None:
        self._holds = list(holds)
        self._held_later = held_later
        self._left_out = left_out or {}
        self.deleted: list[tuple[str, AccessEvent]] = []
        self.events: list[AccessEvent] = []

    def holds(self) -> list[LegalHold]:
        return self._holds

    def open_records(self, segments: Sequence[SegmentInfo]) -> list[tuple[int, ...]]:
        return [self._left_out.get(segment.segment, ()) for segment in segments]

    def place_hold(
        self,
        period: tuple[dt.date, dt.date],
        reason: str,
        placed_by: str,
        now: dt.datetime,
        event_for: Callable[[LegalHold], AccessEvent],
    ) -> LegalHold:
        placed = LegalHold(7, period[0], period[1], reason, placed_by, now)
        self.events.append(event_for(placed))
        return placed

    def release_hold(self, hold_id: int, released_by: str, now: dt.datetime, event: AccessEvent) -> LegalHold:
        raise AssertionError("not used here")

    def delete_segment(
        self, segment: SegmentInfo, reason: str, now: dt.datetime, event: AccessEvent
    ) -> DeletedSegment:
        if segment.segment == self._held_later:
            raise SegmentHeld(segment.segment, hold(dt.date(2020, 1, 1), dt.date(2020, 12, 31)))
        self.deleted.append((segment.segment, event))
        return DeletedSegment(segment.segment, segment.first_leaf, segment.end_leaf, 10, "record")

    def settle_files(self) -> int:
        return 0


class FakeSink:
    def record(self, events: Sequence[AccessEvent]) -> None:
        raise AssertionError("not used here")


def service(segments: Sequence[SegmentInfo], retention: FakeRetention) -> ArchiveService:
    return ArchiveService(FakeLog(), FakeArchive(segments), retention, FakeSink(), lambda: NOW, "shadan", 5)


def test_the_plan_lists_expired_segments_and_what_holds_them() -> None:
    deleted = dataclasses.replace(segment("2021-02"), deleted_at=NOW)
    segments = [deleted, segment("2021-03"), segment("2021-04"), segment("2021-05"), segment("2021-06")]
    retention = FakeRetention([hold(dt.date(2021, 4, 10), dt.date(2021, 4, 11))])
    plan = service(segments, retention).retention_plan()
    # 2021-05 ended on 1 June 2021: five years later is 1 June 2026, before NOW; 2021-06 is not yet due.
    assert [item.segment.segment for item in plan.expired] == ["2021-03", "2021-04", "2021-05"]
    assert [item.segment.segment for item in plan.deletable] == ["2021-03", "2021-05"]
    assert [(item.segment.segment, item.hold and item.hold.hold_id) for item in plan.kept] == [("2021-04", 1)]


def test_a_segment_with_open_records_of_entries_left_out_is_kept_until_they_are_set_aside() -> None:
    """Its records name entries verification still holds to them: deleting it would let those entries go
    unrecorded; held and left out both, it names its hold."""
    holding = hold(dt.date(2021, 5, 10), dt.date(2021, 5, 10))
    segments = [segment("2021-03"), segment("2021-04"), segment("2021-05")]
    retention = FakeRetention([holding], left_out={"2021-04": (11, 40), "2021-05": (90,)})
    archive = service(segments, retention)
    plan = archive.retention_plan()
    assert [(i.segment.segment, i.left_out, i.hold) for i in plan.kept] == [
        ("2021-04", (11, 40), None),
        ("2021-05", (90,), holding),
    ]
    result = archive.apply_retention(ACTOR)
    assert [d.segment for d in result.deleted] == ["2021-03"]
    assert [item.segment.segment for item in result.kept] == ["2021-04", "2021-05"]
    assert [name for name, _ in retention.deleted] == ["2021-03"]


def test_applying_deletes_whole_expired_segments_with_an_event_each() -> None:
    retention = FakeRetention(held_later="2021-05")
    result = service([segment("2021-03"), segment("2021-05")], retention).apply_retention(ACTOR)
    assert [d.segment for d in result.deleted] == ["2021-03"]
    assert [item.segment.segment for item in result.kept] == ["2021-05"]  # a hold placed meanwhile wins
    ((_, event),) = retention.deleted
    assert event.detail == AuditTag.LOG_SEGMENT_DELETED
    assert event.resource_ids == ("2021-03",)
    assert event.extra["events"] == 10
    assert "5 年" in event.extra["reason"]


def test_a_hold_needs_a_reason_and_an_ordered_period() -> None:
    retention = FakeRetention()
    archive = service([], retention)
    with pytest.raises(InvalidInput, match="理由"):
        archive.place_hold(dt.date(2021, 1, 1), dt.date(2021, 1, 2), "  ", ACTOR)
    with pytest.raises(InvalidInput, match="順"):
        archive.place_hold(dt.date(2021, 1, 2), dt.date(2021, 1, 1), "事案", ACTOR)
    placed = archive.place_hold(dt.date(2021, 1, 1), dt.date(2021, 1, 1), " 事案\nB ", ACTOR)
    assert placed.reason == "事案 B"
    (event,) = retention.events
    assert (event.detail, event.resource_ids) == (AuditTag.LOG_HOLD_PLACED, ("hold:7",))


def test_retention_is_at_least_five_years() -> None:
    with pytest.raises(ValueError, match="5 years"):
        ArchiveService(FakeLog(), FakeArchive([]), FakeRetention(), FakeSink(), lambda: NOW, "shadan", 4)
