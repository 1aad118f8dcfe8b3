"""AuditReviewService against fakes at its ports: filter validation (ids, JST dates, enums), who may do
what, and that every look at the log - allowed, refused or malformed - is itself an access event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import pytest

from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import AccessDenied, InvalidInput, NotFound, SearchTooBroad
from shadan.domain.events import AccessEvent
from shadan.domain.identity import Company
from shadan.domain.roles import RoleCatalog, RoleDefinition
from shadan.domain.vocabulary import (
    Action,
    AdminArea,
    Area,
    AuditTag,
    CompanyKind,
    InfoCategory,
    Outcome,
    ResourceType,
)
from shadan.services.audit_filters import EventFilters, FilterInput
from shadan.services.audit_log import (
    CheckpointInfo,
    LogFailure,
    LogFailureKind,
    VerificationRun,
    WitnessQuorum,
)
from shadan.services.audit_review import (
    PAGE_SIZE,
    AuditAccess,
    AuditReviewService,
    Cosignature,
    LogCounts,
    LoggedEvent,
    SearchTimedOut,
    finding_titles,
)
from shadan.services.exports import ExportFormat

NOW = dt.datetime(2025, 4, 1, 3, 0, tzinfo=dt.UTC)
POINT = "0600001111222233334444"
CATALOG = RoleCatalog(
    roles={
        "internal_auditor": RoleDefinition(
            "internal_auditor",
            "内部監査",
            frozenset({CompanyKind.TD}),
            frozenset(),
            frozenset({"監査"}),
            frozenset({AdminArea.ACCESS_LOG}),
        ),
        "clerk": RoleDefinition(
            "clerk",
            "託送業務担当",
            frozenset({CompanyKind.TD}),
            frozenset(InfoCategory),
            frozenset({"託送業務"}),
        ),
        "sysadmin": RoleDefinition(
            "sysadmin",
            "システム管理",
            frozenset({CompanyKind.TD}),
            frozenset(),
            frozenset({"運用保守"}),
            frozenset({AdminArea.CONFIGURATION}),
        ),
        "regulator": RoleDefinition(
            "regulator",
            "監視委員会",
            frozenset({CompanyKind.REGULATOR}),
            frozenset(),
            frozenset({"評価"}),
            frozenset({AdminArea.REPORTS}),
        ),
    },
    purposes={},
)


def principal(role: str, kind: CompanyKind = CompanyKind.TD) -> Principal:
    return Principal(
        account_id=f"acct.{role}",
        person_id=f"p.{role}",
        company_id="egc" if kind is CompanyKind.REGULATOR else "td06",
        company_kind=kind,
        department="",
        area=None if kind is CompanyKind.REGULATOR else Area.KANSAI,
        retailer_code=None,
        roles=frozenset({role}),
    )


AUDITOR = principal("internal_auditor")
CLERK = principal("clerk")
SYSADMIN = principal("sysadmin")
REGULATOR = principal("regulator", CompanyKind.REGULATOR)
MAX_AGE = dt.timedelta(hours=26)  # the verification's maximum age the tests' service is given
MAX_WAIT = dt.timedelta(hours=1)  # the longest an event may wait for its leaf, likewise
CONTEXT = RequestContext(now=NOW, terminal_id="AUD-01", source_ip="10.0.0.9")


def logged(seq: int, company_id: str = "td06") -> LoggedEvent:
    event = AccessEvent(
        event_id=f"ev-{seq}",
        ts=NOW - dt.timedelta(minutes=seq),
        system="shadan",
        account_id="k.tanaka",
        person_id="p0000",
        company_id=company_id,
        action=Action.VIEW,
        resource_type=ResourceType.SUPPLY_POINT,
        resource_ids=(POINT,),
        outcome=Outcome.ALLOWED,
        categories=("supply_point",),
        purpose="託送業務",
        detail='=HYPERLINK("http://evil.example")',
    )
    return LoggedEvent(seq, event)


@dataclass
class FakeSearch:
    events: list[LoggedEvent] = field(default_factory=list)
    asked: list[tuple[EventFilters, int | None, int]] = field(default_factory=list)
    newest: list[Cosignature] = field(default_factory=list)
    too_slow: bool = False  # as the database stopped at the search's time limit
    too_slow_to_count: bool = False
    waiting: list[tuple[int, dt.datetime]] = field(default_factory=list)  # (seq, time) not in the tree yet
    left_out: list[int] | None = field(default_factory=list)  # None: as when an entry is no JSON

    def counts(self) -> LogCounts:
        return LogCounts(len(self.events), len(self.waiting), 0)

    def first_waiting_since(self, before: dt.datetime) -> int | None:
        return next((seq for seq, time in self.waiting if time < before), None)

    def left_out_entries(self, limit: int) -> tuple[int, ...] | None:
        return None if self.left_out is None else tuple(self.left_out[:limit])

    def recent_cosignatures(self, limit: int) -> list[Cosignature]:
        return [Cosignature("witness.example/w1", 10, NOW, NOW)][:limit]

    def newest_cosignatures(self) -> list[Cosignature]:
        return sorted(self.newest, key=lambda c: c.witness_name)

    def search(self, filters: EventFilters, before: int | None, limit: int) -> list[LoggedEvent]:
        self.asked.append((filters, before, limit))
        if self.too_slow:
            raise SearchTimedOut
        newest_first = sorted(self.events, key=lambda e: -e.seq)
        return [e for e in newest_first if before is None or e.seq < before][:limit]

    def page(
        self, filters: EventFilters, before: int | None, limit: int, cap: int
    ) -> tuple[list[LoggedEvent], int | None]:
        events = self.search(filters, before, limit)
        return events, None if self.too_slow_to_count else min(len(self.events), cap)


@dataclass
class FakeSignedLog:
    known: set[int] = field(default_factory=set)
    run: VerificationRun | None = None

    def latest_checkpoint(self) -> CheckpointInfo | None:
        return CheckpointInfo("test/access-log", 10, b"\x01" * 32, "note", NOW)

    def last_verification(self) -> VerificationRun | None:
        return self.run

    def witness_quorum(self) -> WitnessQuorum:
        return WitnessQuorum(2, None)

    def proof(self, seq: int) -> str:
        if seq not in self.known:
            raise NotFound("no such event")
        return f"c2sp.org/tlog-proof@v1\nindex {seq - 1}\n"


@dataclass
class FakeSink:
    events: list[AccessEvent] = field(default_factory=list)

    def record(self, events: Sequence[AccessEvent]) -> None:
        self.events.extend(events)


class FakeIdentity:
    def get_company(self, company_id: str) -> Company | None:
        return Company("td06", "関西電力送配電株式会社", CompanyKind.TD) if company_id == "td06" else None


class FakeUnitOfWork:
    identity = FakeIdentity()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def fake_uow(realm: str = "td") -> Any:
    return FakeUnitOfWork()


@dataclass
class Harness:
    search: FakeSearch
    signed: FakeSignedLog
    sink: FakeSink
    service: AuditReviewService


@pytest.fixture
def harness() -> Harness:
    search, signed, sink = FakeSearch(), FakeSignedLog(), FakeSink()
    service = AuditReviewService(
        search,
        signed,
        fake_uow,
        sink,
        CATALOG,
        "shadan",
        verification_max_age=MAX_AGE,
        sequencing_max_wait=MAX_WAIT,
        export_cap=3,
    )
    return Harness(search, signed, sink, service)


# ---- Filters ----------------------------------------------------------------------------------------


def test_filters_canonicalise_the_supply_point_and_keep_jst_days() -> None:
    filters = EventFilters.parse(
        FilterInput(
            supply_point_id="０６００-0011-1122-2233-3344-44",
            account_id=" k.tanaka ",
            date_from="２０２５／０４／０１",
            date_to="2025-04-01",
            action="view",
            outcome="denied",
        )
    )
    assert filters.supply_point_id == POINT
    assert filters.account_id == "k.tanaka"
    assert filters.action is Action.VIEW
    assert filters.outcome is Outcome.DENIED
    # One JST day: 2025-04-01 00:00 JST is 2025-03-31 15:00 UTC; the end is the next midnight (exclusive).
    assert filters.since == dt.datetime(2025, 3, 31, 15, 0, tzinfo=dt.UTC)
    assert filters.until == dt.datetime(2025, 4, 1, 15, 0, tzinfo=dt.UTC)


def test_empty_filters_match_everything() -> None:
    filters = EventFilters.parse(FilterInput())
    assert filters == EventFilters()
    assert (filters.since, filters.until) == (None, None)
    assert filters.as_extra() == {}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (FilterInput(supply_point_id="0600"), "22桁"),
        (FilterInput(supply_point_id="1100001111222233334444"), "エリア番号"),
        (FilterInput(supply_point_id="%"), "22桁"),
        (FilterInput(date_from="2025-02-30"), "期間（開始日）"),
        (FilterInput(date_to="yesterday"), "期間（終了日）"),
        (FilterInput(date_to="9999-12-31"), "2999-12-31"),
        (FilterInput(date_from="2025-04-02", date_to="2025-04-01"), "開始日が終了日より後"),
        (FilterInput(action="delete"), "操作は次のいずれか"),
        (FilterInput(outcome="maybe"), "結果は次のいずれか"),
        (FilterInput(account_id="a" * 65), "64文字以内"),
        (FilterInput(person_id="p\x00"), "使えない文字"),
        (FilterInput(purpose="監査\x1b[2J"), "使えない文字"),
    ],
)
def test_bad_filters_are_refused_with_the_field_named(raw: FilterInput, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        EventFilters.parse(raw)


# ---- Who may do what -------------------------------------------------------------------------------


def test_access_levels() -> None:
    assert AuditAccess.of(CATALOG, AUDITOR) is AuditAccess.REVIEW
    assert AuditAccess.of(CATALOG, REGULATOR) is AuditAccess.STATUS
    for other in (CLERK, SYSADMIN):
        assert AuditAccess.of(CATALOG, other) is AuditAccess.NONE


@pytest.mark.parametrize("who", [CLERK, SYSADMIN, REGULATOR], ids=["clerk", "sysadmin", "regulator"])
def test_only_internal_audit_searches_exports_and_downloads_proofs(harness: Harness, who: Principal) -> None:
    harness.search.events = [logged(1)]
    harness.signed.known = {1}
    raw = FilterInput(supply_point_id=POINT)
    for attempt in (
        lambda: harness.service.search(who, raw, CONTEXT),
        lambda: harness.service.export(who, raw, ExportFormat.CSV, CONTEXT),
        lambda: harness.service.proof(who, 1, CONTEXT),
    ):
        with pytest.raises(AccessDenied):
            attempt()
    assert harness.search.asked == []  # refused before anything was read
    assert [(e.action, e.outcome, e.account_id) for e in harness.sink.events] == [
        (Action.SEARCH, Outcome.DENIED, who.account_id),
        (Action.EXPORT, Outcome.DENIED, who.account_id),
        (Action.EXPORT, Outcome.DENIED, who.account_id),
    ]
    first = harness.sink.events[0]
    assert first.resource_type is ResourceType.ACCESS_LOG
    assert first.extra == {"refused": "not_permitted", "filters": {"supply_point_id": POINT}}
    assert harness.sink.events[2].resource_ids == ("1",)


@pytest.mark.parametrize("who", [CLERK, SYSADMIN], ids=["clerk", "sysadmin"])
def test_status_is_for_audit_and_the_regulator_only(harness: Harness, who: Principal) -> None:
    with pytest.raises(AccessDenied):
        harness.service.status(who, CONTEXT)
    for allowed in (AUDITOR, REGULATOR):
        status = harness.service.status(allowed, CONTEXT)
        assert status.origin == "test/access-log"
        assert status.cosignatures[0].witness_name == "witness.example/w1"
        assert status.witnessed == WitnessQuorum(2, None)
    assert [(e.account_id, e.outcome, e.detail) for e in harness.sink.events] == [
        (who.account_id, Outcome.DENIED, AuditTag.LOG_STATUS_VIEWED),
        (AUDITOR.account_id, Outcome.ALLOWED, AuditTag.LOG_STATUS_VIEWED),
        (REGULATOR.account_id, Outcome.ALLOWED, AuditTag.LOG_STATUS_VIEWED),
    ]


def test_status_shows_each_witness_asked_first_then_those_only_imported(harness: Harness) -> None:
    """The latest checkpoint holds 10 leaves (FakeSignedLog); the quorum is 2."""
    harness.search.newest = [
        Cosignature("offline.example/w", 4, NOW, NOW),
        Cosignature("b.example/w", 10, NOW, NOW),
        Cosignature("a.example/w", 7, NOW, NOW),
    ]
    service = replace_witnesses(harness, ("b.example/w", "c.example/w", "a.example/w"))
    status = service.status(AUDITOR, CONTEXT)
    shown = [(w.witness_name, w.asked, w.newest and w.newest.tree_size, w.behind) for w in status.witnesses]
    assert shown == [
        ("b.example/w", True, 10, 0),
        ("c.example/w", True, None, None),  # asked, never cosigned
        ("a.example/w", True, 7, 3),
        ("offline.example/w", False, 4, 6),
    ]
    assert not status.quorum_out_of_reach


@pytest.mark.parametrize(
    ("asked", "cosigned", "out_of_reach"),
    [
        ((), (), False),  # no witness at all: the page says so on its own
        (("a.example/w",), (), True),
        ((), ("offline.example/w",), True),
        (("a.example/w",), ("offline.example/w",), False),
        (("a.example/w",), ("a.example/w",), True),  # one witness counts once
    ],
)
def test_a_quorum_beyond_every_witness_known_is_shown(
    harness: Harness, asked: tuple[str, ...], cosigned: tuple[str, ...], out_of_reach: bool
) -> None:
    harness.search.newest = [Cosignature(name, 10, NOW, NOW) for name in cosigned]
    status = replace_witnesses(harness, asked).status(REGULATOR, CONTEXT)
    assert status.quorum_out_of_reach is out_of_reach


@pytest.mark.parametrize(
    ("events", "verified_hours_ago", "overdue", "since"),
    [
        (0, None, False, None),  # an empty log has nothing to verify yet
        (12, None, True, None),
        (12, 25.9, False, 4),
        (12, 26.1, True, 4),
    ],
)
def test_a_verification_older_than_the_maximum_age_is_overdue(
    harness: Harness, events: int, verified_hours_ago: float | None, overdue: bool, since: int | None
) -> None:
    harness.search.events = [logged(seq) for seq in range(1, events + 1)]
    if verified_hours_ago is not None:
        finished = NOW - dt.timedelta(hours=verified_hours_ago)
        harness.signed.run = VerificationRun(
            finished, finished, "cli:audit", "o", 8, 8, 1, True, None, 0, (), None
        )
    status = harness.service.status(REGULATOR, CONTEXT)
    assert (status.verification_overdue, status.leaves_since_verification) == (overdue, since)
    assert status.verification_max_age == MAX_AGE


@pytest.mark.parametrize(
    ("waited_minutes", "stalled"),
    [
        (None, None),  # nothing waits
        (59, None),  # the sequencer's usual seconds, and less than the maximum wait
        (61, 13),
    ],
)
def test_an_event_waiting_longer_than_the_maximum_wait_shows_the_sequencer_stalled(
    harness: Harness, waited_minutes: int | None, stalled: int | None
) -> None:
    harness.search.events = [logged(seq) for seq in range(1, 13)]
    if waited_minutes is not None:
        harness.search.waiting = [(13, NOW - dt.timedelta(minutes=waited_minutes)), (14, NOW)]
    status = harness.service.status(REGULATOR, CONTEXT)
    assert (status.stalled_seq, status.sequencing_max_wait) == (stalled, MAX_WAIT)


@pytest.mark.parametrize(
    ("left_out", "shown", "more"),
    [
        ([], (), False),
        (list(range(100, 120)), tuple(range(100, 120)), False),  # as many as are shown
        (list(range(100, 121)), tuple(range(100, 120)), True),
        (None, None, False),
    ],
)
def test_the_status_names_the_entries_left_out_of_the_tree(
    harness: Harness, left_out: list[int] | None, shown: tuple[int, ...] | None, more: bool
) -> None:
    harness.search.left_out = left_out
    status = harness.service.status(REGULATOR, CONTEXT)
    assert (status.left_out_seqs, status.more_left_out) == (shown, more)


def replace_witnesses(harness: Harness, names: Sequence[str]) -> AuditReviewService:
    return AuditReviewService(
        harness.search,
        harness.signed,
        fake_uow,
        harness.sink,
        CATALOG,
        "shadan",
        verification_max_age=MAX_AGE,
        sequencing_max_wait=MAX_WAIT,
        witness_names=names,
    )


# ---- What the auditor gets, and what the log keeps of it ------------------------------------------------


def test_search_pages_newest_first_and_logs_the_filters_and_the_seqs_shown(harness: Harness) -> None:
    harness.search.events = [logged(seq) for seq in range(1, PAGE_SIZE + 6)]
    raw = FilterInput(supply_point_id="0600-0011-1122-2233-3344-44", date_from="2025-04-01")
    first = harness.service.search(AUDITOR, raw, CONTEXT)
    assert [e.seq for e in first.events] == list(range(PAGE_SIZE + 5, 5, -1))
    assert first.next_before == 6
    assert first.events[0].company_name == "関西電力送配電株式会社"
    second = harness.service.search(AUDITOR, raw, CONTEXT, before=first.next_before)
    assert [e.seq for e in second.events] == [5, 4, 3, 2, 1]
    assert second.next_before is None
    event = harness.sink.events[0]
    assert (event.action, event.outcome, event.detail) == (
        Action.SEARCH,
        Outcome.ALLOWED,
        AuditTag.LOG_SEARCHED,
    )
    assert event.extra == {"filters": {"supply_point_id": POINT, "date_from": "2025-04-01"}}
    assert event.resource_ids == tuple(str(s) for s in range(PAGE_SIZE + 5, 5, -1))
    assert (event.terminal_id, event.source_ip, event.ts) == ("AUD-01", "10.0.0.9", NOW)
    assert harness.sink.events[1].extra["before"] == 6


def test_malformed_filters_are_refused_and_the_attempt_is_logged(harness: Harness) -> None:
    with pytest.raises(InvalidInput):
        harness.service.search(AUDITOR, FilterInput(supply_point_id="06' OR 1=1 --"), CONTEXT)
    assert harness.search.asked == []
    (event,) = harness.sink.events
    assert event.outcome is Outcome.DENIED
    assert event.extra == {"refused": "invalid_input", "filters": {"supply_point_id": "06' OR 1=1 --"}}


def test_export_is_capped_and_says_so(harness: Harness) -> None:
    harness.search.events = [logged(seq) for seq in range(1, 6)]
    page = harness.service.search(AUDITOR, FilterInput(), CONTEXT)
    assert page.matched == 4  # counted up to the cap + 1
    assert page.export_capped
    file = harness.service.export(AUDITOR, FilterInput(), ExportFormat.CSV, CONTEXT)
    assert (file.rows, file.capped) == (3, True)
    assert file.filename == "shadan-access-log-20250401-120000.csv"
    text = file.content.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert len(lines) == 4
    assert lines[0].startswith("連番,日時（日本時間）,アカウントID")
    assert lines[1].startswith("5,2025-04-01 11:55:00,k.tanaka")  # JST
    assert "'=HYPERLINK" in text  # through exports.py: a cell is never run as a formula
    event = harness.sink.events[-1]
    assert (event.action, event.detail) == (Action.EXPORT, AuditTag.LOG_EXPORTED)
    assert event.extra == {"filters": {}, "format": "csv", "rows": 3, "capped": True}


def test_a_search_stopped_at_its_time_limit_is_refused_as_too_broad_and_logged(harness: Harness) -> None:
    harness.search.too_slow = True
    raw = FilterInput(purpose="問合せ対応")
    with pytest.raises(SearchTooBroad) as refused:
        harness.service.search(AUDITOR, raw, CONTEXT, before=50)
    assert "供給地点特定番号、個人ID、アカウントID" in refused.value.message
    with pytest.raises(SearchTooBroad):
        harness.service.export(AUDITOR, raw, ExportFormat.XLSX, CONTEXT)
    searched, exported = harness.sink.events
    assert (searched.action, searched.outcome, searched.detail) == (
        Action.SEARCH,
        Outcome.DENIED,
        AuditTag.LOG_SEARCHED,
    )
    assert searched.extra == {"refused": "too_broad", "filters": {"purpose": "問合せ対応"}, "before": 50}
    assert (exported.action, exported.outcome, exported.extra["refused"]) == (
        Action.EXPORT,
        Outcome.DENIED,
        "too_broad",
    )


def test_a_count_past_the_time_limit_leaves_the_page_without_a_total(harness: Harness) -> None:
    harness.search.events = [logged(seq) for seq in range(1, 6)]
    harness.search.too_slow_to_count = True
    page = harness.service.search(AUDITOR, FilterInput(), CONTEXT)
    assert [e.seq for e in page.events] == [5, 4, 3, 2, 1]
    assert page.matched is None
    assert not page.export_capped  # unknown, not assumed: the export itself says whether it was capped


def test_proof_of_an_unknown_event_is_not_found_and_logged(harness: Harness) -> None:
    harness.signed.known = {7}
    assert harness.service.proof(AUDITOR, 7, CONTEXT).startswith("c2sp.org/tlog-proof@v1\n")
    with pytest.raises(NotFound):
        harness.service.proof(AUDITOR, 8, CONTEXT)
    assert [(e.resource_ids, e.outcome, e.detail) for e in harness.sink.events] == [
        (("7",), Outcome.ALLOWED, AuditTag.LOG_PROOF_EXPORTED),
        (("8",), Outcome.DENIED, AuditTag.LOG_PROOF_EXPORTED),
    ]
    assert harness.sink.events[1].extra == {"refused": "not_found"}


def test_finding_titles_name_each_kind_once() -> None:
    failures = tuple(
        LogFailure(kind, seq, None, "", "")
        for kind, seq in (
            (LogFailureKind.EVENT_CHANGED, 3),
            (LogFailureKind.EVENT_CHANGED, 4),
            (LogFailureKind.CHECKPOINT_MISMATCH, None),
        )
    )
    run = VerificationRun(NOW, NOW, "e.yamada", "o", 10, 10, 1, False, 3, 10, failures, None)
    assert finding_titles(run) == (
        LogFailureKind.EVENT_CHANGED.titles[0],
        LogFailureKind.CHECKPOINT_MISMATCH.titles[0],
    )
