"""The checks of DESIGN §5.3: each code, their order, the primary code, the stops, and in-run 03."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from switching_support import CALENDAR, application, point

from shadan.domain.japan_time import JST
from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching import Application, ErrorCode, Finding, Reason, codes_of
from shadan.services.switching_checks import (
    Assessment,
    ReadingCalendar,
    add_in_run_pending,
    assess,
    instant,
)

E = ErrorCode


def codes(assessment: Assessment, *, strict: bool = False) -> tuple[ErrorCode, ...]:
    return codes_of(assessment.for_mode(strict=strict))


def test_a_matching_application_has_no_finding() -> None:
    result = assess(application(), point(), CALENDAR)
    assert result.findings == ()
    assert result.strict_findings == ()
    assert result.passed_gate


@pytest.mark.parametrize(
    ("app_changes", "point_changes", "expected"),
    [
        ({"contract_no": "K-0002"}, {}, (E.CONTRACT_NO,)),
        ({}, {"status": SupplyPointStatus.PENDING_CANCELLATION}, (E.PENDING,)),
        ({"name_kana": "タカハタ イチロウ"}, {}, (E.NAME,)),
        ({"name_kanji": "高畑 一郎"}, {}, (E.NAME,)),
        ({"address": "大阪市北区梅田1-2-4"}, {}, (E.ADDRESS,)),
        ({"cancel_date": dt.date(2025, 4, 3)}, {}, (E.CANCEL_DATE,)),
        ({"cancel_date": dt.date(2025, 5, 9)}, {}, (E.CANCEL_DATE,)),
        ({}, {"status": SupplyPointStatus.LOCKED}, (E.OTHER,)),
        ({"new_retailer_code": "A0001"}, {}, (E.OTHER,)),
    ],
)
def test_each_check_alone(
    app_changes: dict[str, Any], point_changes: dict[str, Any], expected: tuple[ErrorCode, ...]
) -> None:
    assert codes(assess(application(**app_changes), point(**point_changes), CALENDAR)) == expected


def test_01_unknown_supply_point_stops_everything() -> None:
    result = assess(
        application(contract_no="X", name_kana="X", cancel_date=dt.date(2020, 1, 1)), None, CALENDAR
    )
    assert codes(result) == (E.SUPPLY_POINT,)
    assert not result.passed_gate


def test_01_supply_point_of_another_retailer() -> None:
    result = assess(application(current_retailer_code="B0002"), point(), CALENDAR)
    assert codes(result) == (E.SUPPLY_POINT,)


def test_07_not_a_switching_target_stops_everything() -> None:
    result = assess(
        application(contract_no="X"), point(switching_target=False, status=SupplyPointStatus.LOCKED), CALENDAR
    )
    assert codes(result) == (E.NOT_TARGET,)
    assert not result.passed_gate


def test_every_failure_is_listed_ascending_with_the_lowest_primary() -> None:
    app = application(
        contract_no="K-9",
        name_kana="ヤマダ",
        name_kanji="山田",
        address="京都市",
        cancel_date=dt.date(2025, 4, 2),
        new_retailer_code="A0001",
    )
    result = assess(app, point(status=SupplyPointStatus.PENDING_CANCELLATION), CALENDAR)
    assert codes(result) == (E.CONTRACT_NO, E.PENDING, E.NAME, E.ADDRESS, E.CANCEL_DATE, E.OTHER)
    reasons = [f.reason for f in result.findings]
    assert reasons == [
        Reason.CONTRACT_NO,
        Reason.PENDING_IN_REGISTRY,
        Reason.NAME_KANA,
        Reason.NAME_KANJI,
        Reason.ADDRESS,
        Reason.TOO_EARLY,
        Reason.SAME_RETAILER,
    ]


def test_locked_and_same_retailer_are_both_99() -> None:
    result = assess(application(new_retailer_code="A0001"), point(status=SupplyPointStatus.LOCKED), CALENDAR)
    assert codes(result) == (E.OTHER,)
    assert [f.reason for f in result.findings] == [Reason.LOCKED, Reason.SAME_RETAILER]


def test_strict_mode_rejects_what_normalisation_forgives() -> None:
    app = application(name_kana="たかはし いちろう", name_kanji="高橋一郎", address="大阪市北区梅田1-2-3")
    result = assess(app, point(), CALENDAR)
    assert codes(result) == ()
    assert codes(result, strict=True) == (E.NAME, E.ADDRESS)


def test_strict_mode_still_ignores_width_and_spaces() -> None:
    app = application(
        name_kana="ﾀｶﾊｼ ｲﾁﾛｳ", name_kanji="髙橋一郎", address="大阪府 大阪市北区梅田一丁目２番地３号"
    )
    assert codes(assess(app, point(), CALENDAR), strict=True) == ()


def test_contract_number_rule_is_the_same_in_both_modes() -> None:
    result = assess(application(contract_no="ｋ０００１"), point(), CALENDAR)
    assert codes(result) == codes(result, strict=True) == ()


@pytest.mark.parametrize(
    ("received_at", "cancel", "reason"),
    [
        (dt.datetime(2025, 4, 1, 10, tzinfo=JST), dt.date(2025, 4, 3), Reason.TOO_EARLY),
        (dt.datetime(2025, 4, 1, 10, tzinfo=JST), dt.date(2025, 4, 4), None),
        (dt.datetime(2025, 4, 1, 10, tzinfo=JST), dt.date(2025, 5, 8), None),
        (dt.datetime(2025, 4, 1, 10, tzinfo=JST), dt.date(2025, 5, 9), Reason.TOO_LATE),
        # 23:30 UTC on 31 March is 1 April in Japan: D is 1 April, not 31 March.
        (dt.datetime(2025, 3, 31, 23, 30, tzinfo=dt.UTC), dt.date(2025, 4, 3), Reason.TOO_EARLY),
        # Received on the reading day itself: the next-next reading day is 10 June.
        (dt.datetime(2025, 4, 8, 9, tzinfo=JST), dt.date(2025, 6, 9), None),
        (dt.datetime(2025, 4, 8, 9, tzinfo=JST), dt.date(2025, 6, 10), Reason.TOO_LATE),
        # Friday 2 May 2025: Golden Week up to the 振替休日 on the 6th; first business day the 7th.
        (dt.datetime(2025, 5, 2, 9, tzinfo=JST), dt.date(2025, 5, 8), Reason.TOO_EARLY),
        (dt.datetime(2025, 5, 2, 9, tzinfo=JST), dt.date(2025, 5, 9), None),
    ],
)
def test_06_window(received_at: dt.datetime, cancel: dt.date, reason: Reason | None) -> None:
    result = assess(application(received_at=received_at, cancel_date=cancel), point(), CALENDAR)
    assert [f.reason for f in result.findings] == ([reason] if reason else [])


def test_06_over_the_new_year() -> None:
    calendar = ReadingCalendar({"S01": [dt.date(2026, 1, 9), dt.date(2026, 2, 9)]})
    received = dt.datetime(2025, 12, 26, 17, tzinfo=JST)
    early = assess(application(received_at=received, cancel_date=dt.date(2026, 1, 6)), point(), calendar)
    ok = assess(application(received_at=received, cancel_date=dt.date(2026, 1, 7)), point(), calendar)
    assert [f.reason for f in early.findings] == [Reason.TOO_EARLY]
    assert ok.findings == ()


def test_06_finding_carries_the_window_for_the_message() -> None:
    (finding,) = assess(application(cancel_date=dt.date(2025, 4, 2)), point(), CALENDAR).findings
    assert finding.window is not None
    assert (finding.window.earliest, finding.window.latest) == (dt.date(2025, 4, 4), dt.date(2025, 5, 9))


def test_without_a_second_reading_day_the_upper_bound_is_unchecked_and_flagged() -> None:
    calendar = ReadingCalendar({"S01": [dt.date(2025, 4, 8)]})
    result = assess(application(cancel_date=dt.date(2026, 1, 1)), point(), calendar)
    assert result.findings == ()
    assert result.unbounded


@dataclasses.dataclass(frozen=True)
class Item:
    application_id: str
    supply_point_id: str
    assessment: Assessment | None


def queue(*apps: tuple[Application, Assessment]) -> list[Item]:
    ordered = sorted(apps, key=lambda pair: (instant(pair[0].received_at), pair[0].application_id))
    return [Item(a.application_id, a.supply_point_id, assessment) for a, assessment in ordered]


def test_in_run_03_for_a_later_application_to_the_same_point() -> None:
    first = application(application_id="AP1", received_at=dt.datetime(2025, 4, 1, 10, tzinfo=JST))
    second = application(application_id="AP2", received_at=dt.datetime(2025, 4, 1, 11, tzinfo=JST))
    items = queue((second, assess(second, point(), CALENDAR)), (first, assess(first, point(), CALENDAR)))
    final = add_in_run_pending(items, strict=False)
    assert [i.application_id for i in items] == ["AP1", "AP2"]
    assert final[0] == ()
    assert final[1] == (Finding(Reason.PENDING_IN_RUN, earlier_application="AP1"),)


def test_in_run_ties_are_broken_by_application_id() -> None:
    same_time = dt.datetime(2025, 4, 1, 10, tzinfo=JST)
    b = application(application_id="B", received_at=same_time)
    # The same instant written with another offset.
    a = application(application_id="A", received_at=same_time.astimezone(dt.UTC))
    items = queue((b, assess(b, point(), CALENDAR)), (a, assess(a, point(), CALENDAR)))
    final = add_in_run_pending(items, strict=False)
    assert [i.application_id for i in items] == ["A", "B"]
    assert codes_of(final[1]) == (E.PENDING,)


def test_only_an_accepted_application_blocks_later_ones() -> None:
    rejected = application(application_id="AP1", contract_no="K-9")
    later = application(application_id="AP2", received_at=dt.datetime(2025, 4, 1, 11, tzinfo=JST))
    items = queue((rejected, assess(rejected, point(), CALENDAR)), (later, assess(later, point(), CALENDAR)))
    final = add_in_run_pending(items, strict=False)
    assert codes_of(final[0]) == (E.CONTRACT_NO,)
    assert final[1] == ()


def test_in_run_03_joins_other_findings_in_code_order() -> None:
    first = application(application_id="AP1")
    second = application(
        application_id="AP2",
        received_at=dt.datetime(2025, 4, 2, 10, tzinfo=JST),
        contract_no="K-9",
        address="京都市",
    )
    items = queue((first, assess(first, point(), CALENDAR)), (second, assess(second, point(), CALENDAR)))
    final = add_in_run_pending(items, strict=False)
    assert codes_of(final[1]) == (E.CONTRACT_NO, E.PENDING, E.ADDRESS)
    assert [f.reason for f in final[1]] == [Reason.CONTRACT_NO, Reason.PENDING_IN_RUN, Reason.ADDRESS]


def test_an_application_stopped_at_01_or_07_gets_no_in_run_03() -> None:
    first = application(application_id="AP1")
    wrong_retailer = application(
        application_id="AP2", received_at=dt.datetime(2025, 4, 2, tzinfo=JST), current_retailer_code="B0002"
    )
    items = queue(
        (first, assess(first, point(), CALENDAR)), (wrong_retailer, assess(wrong_retailer, point(), CALENDAR))
    )
    assert codes_of(add_in_run_pending(items, strict=False)[1]) == (E.SUPPLY_POINT,)


def test_in_run_pass_differs_by_mode() -> None:
    """Under --strict the first application is rejected (04), so the second is not 03."""
    first = application(application_id="AP1", name_kana="たかはし いちろう")
    second = application(application_id="AP2", received_at=dt.datetime(2025, 4, 2, tzinfo=JST))
    items = queue((first, assess(first, point(), CALENDAR)), (second, assess(second, point(), CALENDAR)))
    assert codes_of(add_in_run_pending(items, strict=False)[1]) == (E.PENDING,)
    assert codes_of(add_in_run_pending(items, strict=True)[1]) == ()


def test_instants_compare_across_offsets() -> None:
    jst = dt.datetime(2025, 4, 1, 9, tzinfo=JST)
    assert instant(jst) < instant(dt.datetime(2025, 4, 1, 0, 0, 1, tzinfo=dt.UTC))
    assert instant(jst) == instant(jst.astimezone(dt.UTC))
