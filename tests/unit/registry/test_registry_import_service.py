"""The import use case against in-memory fakes of its ports: transactions, order, reporting, audit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import pytest

from shadan.domain.errors import InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.registry import ReadingDay, Retailer, SupplyPoint
from shadan.domain.vocabulary import Action, AuditTag, InfoCategory, ResourceType
from shadan.services.registry_import import ImportOutcome, ImportSource, RegistryImportService
from shadan.services.registry_rows import RegistryFile

NOW = dt.datetime(2025, 4, 1, 0, 0, tzinfo=dt.UTC)
POINT_HEADER = (
    "supply_point_id,kind,voltage,retailer_code,contract_no,name_kana,name_kanji,address,building,phone,"
    "status,switching_target,reading_schedule\n"
)


def point_line(n: int, retailer: str = "A0001", kind: str = "demand") -> str:
    return f"06{n:020d},{kind},low,{retailer},C{n},ヤマダ,山田,大阪市北区{n},,,active,true,S01\n"


@dataclass
class State:
    retailers: dict[str, Retailer] = field(default_factory=dict)
    days: set[ReadingDay] = field(default_factory=set)
    points: dict[str, SupplyPoint] = field(default_factory=dict)
    events: list[AccessEvent] = field(default_factory=list)

    def copy(self) -> State:
        return State(dict(self.retailers), set(self.days), dict(self.points), list(self.events))


class FakeRegistry:
    def __init__(self, state: State) -> None:
        self.state = state

    def upsert_supply_points(self, points: Iterable[SupplyPoint]) -> int:
        points = list(points)
        self.state.points.update({p.supply_point_id: p for p in points})
        return len(points)

    def upsert_retailers(self, retailers: Iterable[Retailer]) -> int:
        retailers = list(retailers)
        self.state.retailers.update({r.retailer_code: r for r in retailers})
        return len(retailers)

    def replace_reading_days(self, days: Iterable[ReadingDay]) -> int:
        days = list(days)
        named = {d.reading_schedule for d in days}
        self.state.days = {d for d in self.state.days if d.reading_schedule not in named} | set(days)
        return len(days)

    def reading_schedules(self) -> set[str]:
        return {d.reading_schedule for d in self.state.days}

    def retailer_codes(self) -> set[str]:
        return set(self.state.retailers)


class FakeLog:
    def __init__(self, state: State) -> None:
        self.state = state

    def append(self, events: Sequence[AccessEvent]) -> None:
        self.state.events.extend(events)


class FakeUnitOfWork:
    """Works on a copy of the committed state; only `commit` publishes it, as a transaction would."""

    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def __enter__(self) -> Self:
        self._work = self._db.committed.copy()
        self.registry = FakeRegistry(self._work)
        self.log = FakeLog(self._work)
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def commit(self) -> None:
        self._db.committed = self._work.copy()


class FakeDatabase:
    def __init__(self) -> None:
        self.committed = State()
        self.realms: list[str] = []

    def __call__(self, realm: str = "td") -> FakeUnitOfWork:
        self.realms.append(realm)
        return FakeUnitOfWork(self)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def service(db: FakeDatabase) -> RegistryImportService:
    ids = iter(range(1_000_000))
    return RegistryImportService(
        db, "shadan-test", clock=lambda: NOW, new_id=lambda: f"e{next(ids)}", chunk_rows=3
    )  # type: ignore[arg-type]


def source(kind: RegistryFile, text: str, encoding: str = "utf-8") -> ImportSource:
    return ImportSource(kind, f"{kind.value}.csv", text.encode(encoding))


RETAILERS = source(
    RegistryFile.RETAILERS, "retailer_code,name,affiliated_area\nA0001,関西でんき,06\nB0002,みらい電力,\n"
)
CALENDAR = source(RegistryFile.READING_CALENDAR, "reading_schedule,date\nS01,2025-04-08\nS01,2025-05-09\n")


def points_source(*lines: str) -> ImportSource:
    return source(RegistryFile.SUPPLY_POINTS, POINT_HEADER + "".join(lines))


def test_files_are_imported_in_dependency_order(service: RegistryImportService, db: FakeDatabase) -> None:
    # Supply points name a retailer and a schedule that only the other two files bring.
    results = service.import_files([points_source(point_line(1)), CALENDAR, RETAILERS], "system:ops")
    assert [r.kind for r in results] == [
        RegistryFile.RETAILERS,
        RegistryFile.READING_CALENDAR,
        RegistryFile.SUPPLY_POINTS,
    ]
    assert all(r.outcome is ImportOutcome.IMPORTED for r in results)
    assert set(db.committed.points) == {"0600000000000000000001"}
    assert set(db.realms) == {"td"}


def test_one_bad_row_keeps_the_whole_file_out(service: RegistryImportService, db: FakeDatabase) -> None:
    service.import_files([RETAILERS, CALENDAR], "system:ops")
    lines = [point_line(n) for n in range(1, 10)] + [point_line(10, retailer="Z9")]
    result = service.import_file(points_source(*lines), "system:ops")
    assert result.outcome is ImportOutcome.REJECTED
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (10, 0, 1)
    assert [(e.line, e.column) for e in result.rejected] == [(11, "retailer_code")]
    assert db.committed.points == {}


def test_skip_invalid_keeps_the_good_rows(service: RegistryImportService, db: FakeDatabase) -> None:
    service.import_files([RETAILERS, CALENDAR], "system:ops")
    result = service.import_file(
        points_source(point_line(1), point_line(2, kind="?"), point_line(3)), "system:ops", skip_invalid=True
    )
    assert result.outcome is ImportOutcome.PARTIAL
    assert (result.rows_written, result.rows_rejected) == (2, 1)
    assert set(db.committed.points) == {"0600000000000000000001", "0600000000000000000003"}


def test_skip_invalid_with_no_good_row_is_a_rejection(service: RegistryImportService) -> None:
    result = service.import_file(points_source(point_line(1)), "system:ops", skip_invalid=True)
    assert result.outcome is ImportOutcome.REJECTED


def test_a_refused_retailers_file_makes_its_supply_points_unknown(service: RegistryImportService) -> None:
    bad_retailers = source(RegistryFile.RETAILERS, "retailer_code,name,affiliated_area\nA0001,関西でんき,6\n")
    results = service.import_files([bad_retailers, CALENDAR, points_source(point_line(1))], "system:ops")
    assert [r.outcome for r in results] == [
        ImportOutcome.REJECTED,
        ImportOutcome.IMPORTED,
        ImportOutcome.REJECTED,
    ]
    assert "登録されていません" in results[2].rejected[0].reason


def test_a_bad_header_refuses_the_file_and_reports_encoding(service: RegistryImportService) -> None:
    result = service.import_file(
        source(RegistryFile.READING_CALENDAR, "schedule,date\n", "cp932"), "system:ops"
    )
    assert result.outcome is ImportOutcome.REJECTED
    assert {e.column for e in result.rejected} == {"schedule", "reading_schedule"}


def test_every_import_is_an_admin_event_with_counts(service: RegistryImportService, db: FakeDatabase) -> None:
    service.import_files([RETAILERS, CALENDAR], "system:ops")
    service.import_file(points_source(point_line(1), point_line(2, kind="generation")), "system:ops")
    service.import_file(points_source(point_line(3, retailer="Z9")), "system:ops")
    events = db.committed.events
    assert [e.resource_ids for e in events] == [
        ("retailers",),
        ("reading_calendar",),
        ("supply_points",),
        ("supply_points",),
    ]
    assert all(e.action is Action.ADMIN and e.resource_type is ResourceType.REGISTRY_IMPORT for e in events)
    assert all(e.account_id == "system:ops" and e.system == "shadan-test" and e.ts == NOW for e in events)
    imported, refused = (json.loads(e.detail) for e in events[2:])
    assert imported["tag"] == AuditTag.REGISTRY_IMPORTED
    assert (imported["rows_read"], imported["rows_written"], imported["outcome"]) == (2, 2, "imported")
    assert (refused["rows_written"], refused["rows_rejected"], refused["outcome"]) == (0, 1, "rejected")
    assert len(imported["sha256"]) == 64
    assert {InfoCategory.NEW_POWER_CUSTOMER, InfoCategory.NEW_POWER_PURCHASE} <= set(events[2].categories)
    assert events[3].categories == ()


def test_progress_reaches_the_total(service: RegistryImportService) -> None:
    service.import_files([RETAILERS, CALENDAR], "system:ops")
    calls: list[tuple[int, int]] = []
    lines = [point_line(n) for n in range(1, 8)]
    service.import_file(points_source(*lines), "system:ops", progress=lambda t, d: calls.append((t, d)))
    assert calls == [(7, 0), (7, 3), (7, 6), (7, 7)]


def test_calendar_replaces_the_days_of_the_schedules_it_names(
    service: RegistryImportService, db: FakeDatabase
) -> None:
    service.import_file(
        source(RegistryFile.READING_CALENDAR, "reading_schedule,date\nS01,2025-04-08\nS02,2025-04-09\n"), "x"
    )
    service.import_file(source(RegistryFile.READING_CALENDAR, "reading_schedule,date\nS01,2025-06-10\n"), "x")
    assert {(d.reading_schedule, d.date.isoformat()) for d in db.committed.days} == {
        ("S01", "2025-06-10"),
        ("S02", "2025-04-09"),
    }


def test_at_least_one_file_and_each_kind_once(service: RegistryImportService) -> None:
    with pytest.raises(InvalidInput):
        service.import_files([], "x")
    with pytest.raises(InvalidInput):
        service.import_files([RETAILERS, RETAILERS], "x")
