"""The statistics use case against fakes: who may see which area, what is read, and the access event of
every view, refusal and refused input."""

from __future__ import annotations

import datetime as dt

import pytest
from oversight_support import NOW, FakeRecords, FakeSink, context, oversight, principal, stored

from shadan.domain.access import RequestContext
from shadan.domain.errors import AccessDenied, InvalidInput
from shadan.domain.switching import SWITCHING_PURPOSE
from shadan.domain.vocabulary import Action, Area, AuditTag, Outcome, ResourceType
from shadan.services.switching_oversight import ViewRequest
from shadan.services.switching_stats import SwitchingStatisticsService

APRIL = ViewRequest(first="2025-04-01", last="2025-04-30")


def _service(records: FakeRecords, sink: FakeSink) -> SwitchingStatisticsService:
    return SwitchingStatisticsService(records, oversight(sink), clock=lambda: NOW)


def _records() -> FakeRecords:
    return FakeRecords(
        [
            stored("04", point="0600000000000000000001"),
            stored("02", point="0600000000000000000002"),
            stored(point="0600000000000000000003"),
            stored("01", point="0300000000000000000001"),
            stored("99", point="0300000000000000000002"),
        ]
    )


def test_the_clerk_sees_only_their_own_areas_applications() -> None:
    sink = FakeSink()
    stats = _service(_records(), sink).statistics(principal("clerk"), APRIL, context())
    assert (stats.area, stats.total.applications, stats.total.rejected) == (Area.KANSAI, 3, 2)
    [event] = sink.events
    assert event.outcome is Outcome.ALLOWED
    assert event.action is Action.SEARCH
    assert event.resource_type is ResourceType.SWITCHING
    assert event.resource_ids == ()
    assert event.detail == AuditTag.SWITCHING_STATISTICS
    assert event.purpose == SWITCHING_PURPOSE
    assert (event.account_id, event.person_id, event.terminal_id) == ("acct-clerk", "person-clerk", "T-01")
    assert event.extra == {
        "basis": "switching_staff",
        "from": "2025-04-01",
        "to": "2025-04-30",
        "period": "month",
        "area": "06",
        "applications": 3,
    }


def test_the_range_is_asked_for_in_utc_from_jst_midnights() -> None:
    records = _records()
    _service(records, FakeSink()).statistics(principal("clerk"), APRIL, context())
    assert records.asked == [
        (dt.datetime(2025, 3, 31, 15, 0, tzinfo=dt.UTC), dt.datetime(2025, 4, 30, 15, 0, tzinfo=dt.UTC))
    ]


def test_the_regulator_sees_every_area_or_the_one_chosen() -> None:
    sink = FakeSink()
    service = _service(_records(), sink)
    everything = service.statistics(principal("regulator"), APRIL, context())
    tokyo = service.statistics(
        principal("regulator"), ViewRequest("2025-04-01", "2025-04-30", "week", "03"), context()
    )
    assert (everything.area, everything.total.applications) == (None, 5)
    assert (tokyo.area, tokyo.period.value, tokyo.total.applications) == (Area.TOKYO, "week", 2)
    assert [e.purpose for e in sink.events] == ["評価", "評価"]
    assert [e.extra["basis"] for e in sink.events] == ["regulator", "regulator"]


@pytest.mark.parametrize("key", ["auditor", "engineer", "sysadmin", "info_manager", "retail", "affiliated"])
def test_everyone_else_is_refused_and_the_refusal_logged(key: str) -> None:
    sink, records = FakeSink(), _records()
    with pytest.raises(AccessDenied):
        _service(records, sink).statistics(principal(key), APRIL, context())
    [event] = sink.events
    assert event.outcome is Outcome.DENIED
    assert event.detail == AuditTag.SWITCHING_STATISTICS
    assert event.extra["reason"] == "role"
    assert event.purpose == ""
    assert records.asked == []  # nothing was read


def test_a_clerk_asking_for_another_area_is_refused() -> None:
    sink, records = FakeSink(), _records()
    with pytest.raises(AccessDenied, match="自社のエリア以外"):
        _service(records, sink).statistics(principal("clerk"), ViewRequest(area="03"), context())
    assert sink.events[0].outcome is Outcome.DENIED
    assert sink.events[0].extra["reason"] == "other area"
    assert records.asked == []


def test_a_clerk_naming_their_own_area_is_fine() -> None:
    request = ViewRequest("2025-04-01", "2025-04-30", area="06")
    stats = _service(_records(), FakeSink()).statistics(principal("clerk"), request, context())
    assert stats.total.applications == 3


@pytest.mark.parametrize(
    "request_",
    [
        ViewRequest(first="2025-13-01"),
        ViewRequest(first="2025-05-01", last="2025-04-01"),
        ViewRequest(period="year"),
        ViewRequest(area="11"),
    ],
)
def test_bad_input_is_refused_logged_and_reads_nothing(request_: ViewRequest) -> None:
    sink, records = FakeSink(), _records()
    with pytest.raises(InvalidInput):
        _service(records, sink).statistics(principal("regulator"), request_, context())
    [event] = sink.events
    assert event.outcome is Outcome.DENIED
    assert str(event.extra["reason"]).startswith("invalid input: ")
    assert records.asked == []


def test_logged_input_is_cut_short() -> None:
    sink = FakeSink()
    with pytest.raises(InvalidInput):
        _service(_records(), sink).statistics(principal("regulator"), ViewRequest(first="x" * 500), context())
    assert sink.events[0].extra["from"] == "x" * 20


def test_a_download_is_an_export_event() -> None:
    sink = FakeSink()
    _service(_records(), sink).statistics(principal("clerk"), APRIL, context(), Action.EXPORT)
    assert sink.events[0].action is Action.EXPORT


def test_the_operator_sees_every_area_as_the_os_user() -> None:
    sink = FakeSink()
    stats = _service(_records(), sink).operator_statistics("system:ops", APRIL)
    assert (stats.area, stats.total.applications) == (None, 5)
    [event] = sink.events
    assert (event.account_id, event.purpose, event.extra["basis"]) == (
        "system:ops",
        SWITCHING_PURPOSE,
        "operator",
    )
    assert event.ts == NOW


def test_the_default_range_ends_today_in_japan() -> None:
    late = dt.datetime(2025, 6, 30, 16, 0, tzinfo=dt.UTC)  # already 1 July, 01:00, in Japan
    service = SwitchingStatisticsService(FakeRecords(), oversight(FakeSink()), clock=lambda: late)
    stats = service.operator_statistics("system:ops", ViewRequest())
    assert (stats.range.first, stats.range.last) == (dt.date(2024, 8, 1), dt.date(2025, 7, 1))
    ctx = RequestContext(now=late)
    assert service.statistics(principal("clerk"), ViewRequest(), ctx).range.last == dt.date(2025, 7, 1)
