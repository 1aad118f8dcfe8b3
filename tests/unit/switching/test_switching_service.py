"""The validation use case against in-memory fakes: file order, invalid rows, in-run 03, audit, encodings."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import pytest
from switching_support import point

from shadan.domain.events import AccessEvent
from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus
from shadan.domain.switching import ErrorCode, ResultKind
from shadan.domain.switching_case import CaseState
from shadan.domain.vocabulary import Action, Area, ResourceType
from shadan.services.switching import CANCELLATIONS, SwitchingService, ValidationReport, run_checks
from shadan.services.switching_events import SwitchingActor
from shadan.services.switching_files import ResultEncoding, write_results
from shadan.services.switching_rows import APPLICATION_COLUMNS
from shadan.services.tabular import UTF8_BOM, CsvFormatError

NOW = dt.datetime(2025, 4, 1, 3, 0, tzinfo=dt.UTC)
HEADER = ",".join(APPLICATION_COLUMNS)


@dataclass
class State:
    points: dict[str, SupplyPoint] = field(default_factory=dict)
    days: dict[str, list[dt.date]] = field(default_factory=dict)
    events: list[AccessEvent] = field(default_factory=list)
    lookups: list[int] = field(default_factory=list)
    commits: int = 0
    # (application_id, new_retailer_code) → state of applications stored by earlier submissions
    claimed: dict[tuple[str, str], CaseState] = field(default_factory=dict)


class FakeRegistry:
    def __init__(self, state: State) -> None:
        self.state = state

    def supply_points_by_ids(self, supply_point_ids: Iterable[str]) -> dict[str, SupplyPoint]:
        ids = set(supply_point_ids)
        self.state.lookups.append(len(ids))
        return {i: self.state.points[i] for i in ids if i in self.state.points}

    def reading_days(self, schedules: Iterable[str]) -> dict[str, list[dt.date]]:
        return {s: self.state.days[s] for s in schedules if s in self.state.days}


class FakeLog:
    def __init__(self, state: State) -> None:
        self.state = state

    def append(self, events: Sequence[AccessEvent]) -> None:
        self.state.events.extend(events)


class FakeSwitching:
    def __init__(self, state: State) -> None:
        self.state = state

    def claimed_ids(self, application_ids: Iterable[str]) -> dict[tuple[str, str], CaseState]:
        ids = set(application_ids)
        return {key: value for key, value in self.state.claimed.items() if key[0] in ids}


class FakeUnitOfWork:
    def __init__(self, state: State) -> None:
        self.state = state
        self.registry = FakeRegistry(state)
        self.log = FakeLog(state)
        self.switching = FakeSwitching(state)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        return None

    def commit(self) -> None:
        self.state.commits += 1


def make_service(state: State, chunk_rows: int = 10_000) -> SwitchingService:
    ids = iter(f"event-{n}" for n in range(1000))
    return SwitchingService(
        lambda realm="td": FakeUnitOfWork(state),  # type: ignore[arg-type,return-value]
        "shadan-test",
        clock=lambda: NOW,
        new_id=lambda: next(ids),
        chunk_rows=chunk_rows,
    )


def n_id(n: int) -> str:
    return f"06{n:020d}"


@pytest.fixture
def state() -> State:
    s = State(days={"S01": [dt.date(2025, 4, 8), dt.date(2025, 5, 9), dt.date(2025, 6, 10)]})
    for n in range(1, 6):
        s.points[n_id(n)] = point(supply_point_id=n_id(n), contract_no=f"K-000{n}")
    s.points[n_id(6)] = point(supply_point_id=n_id(6), contract_no="K-0006", switching_target=False)
    s.points[n_id(7)] = point(
        supply_point_id=n_id(7),
        contract_no="K-0007",
        kind=SupplyPointKind.GENERATION,
        status=SupplyPointStatus.LOCKED,
    )
    return s


def row(app_id: str, n: int, **changes: str) -> str:
    values = {
        "application_id": app_id,
        "received_at": "2025-04-01T10:00:00+09:00",
        "supply_point_id": n_id(n),
        "current_retailer_code": "A0001",
        "contract_no": f"K000{n}",
        "address": "大阪市北区梅田1-2-3",
        "building": "",
        "name_kana": "たかはし いちろう",
        "name_kanji": "高橋 一郎",
        "cancel_date": "2025-04-20",
        "new_retailer_code": "B0002",
        "new_retailer_staff": "佐藤",
        "new_retailer_phone": "03-0000-0000",
    }
    values.update(changes)
    return ",".join(values[c] for c in APPLICATION_COLUMNS)


def csv_bytes(*rows: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join([HEADER, *rows, ""]).encode(encoding)


def validate(
    state: State, data: bytes, *, strict: bool = False, chunk_rows: int = 10_000
) -> ValidationReport:
    return make_service(state, chunk_rows).validate(
        data, "system:tester", strict=strict, source_name="apps.csv"
    )


def summary_of(report: ValidationReport) -> list[tuple[str, str, str, str]]:
    return [(r.application_id, r.result.value, r.error_code, r.error_codes) for r in report.results]


def test_results_come_back_in_file_order_with_every_kind(state: State) -> None:
    data = csv_bytes(
        row("AP3", 3, received_at="2025-04-01T12:00:00+09:00"),  # same point as AP1, later: in-run 03
        row("AP1", 3),
        row("AP2", 99),  # unknown point: 01
        row("AP4", 6),  # not a switching target: 07
        row("AP5", 7, contract_no="X", name_kana="ヤマダ"),  # locked (99) and more
        row("AP6", 4, received_at="not a time"),
        row("AP7", 2, new_retailer_code="A0001"),
    )
    report = validate(state, data, chunk_rows=2)
    assert summary_of(report) == [
        ("AP3", "rejected", "03", "03"),
        ("AP1", "accepted", "", ""),
        ("AP2", "rejected", "01", "01"),
        ("AP4", "rejected", "07", "07"),
        ("AP5", "rejected", "02", "02 04 99"),
        ("AP6", "invalid", "", ""),
        ("AP7", "rejected", "99", "99"),
    ]
    assert [r.line for r in report.results] == [2, 3, 4, 5, 6, 7, 8]
    assert "受付日時（received_at）" in report.results[5].message
    assert "申込「AP1」" in report.results[0].message


def test_in_run_03_follows_the_received_instant_then_the_id_not_the_file(state: State) -> None:
    data = csv_bytes(
        row("B", 1),
        row("A", 1, received_at="2025-04-01T01:00:00+00:00"),  # the same instant as B's, another offset
        row("C", 2, received_at="2025-04-01T10:00:01+09:00"),
        row("D", 2, received_at="2025-04-01T01:00:00Z"),  # a second earlier than C's
    )
    assert summary_of(validate(state, data)) == [
        ("B", "rejected", "03", "03"),
        ("A", "accepted", "", ""),
        ("C", "rejected", "03", "03"),
        ("D", "accepted", "", ""),
    ]


def test_duplicate_application_ids_are_invalid_after_the_first(state: State) -> None:
    report = validate(state, csv_bytes(row("AP1", 1), row("AP1", 2)))
    assert summary_of(report) == [("AP1", "accepted", "", ""), ("AP1", "invalid", "", "")]
    assert "2行目と同じ申込番号です" in report.results[1].message


def test_a_row_with_the_wrong_number_of_cells_is_invalid(state: State) -> None:
    report = validate(state, csv_bytes(row("AP1", 1), "AP2,2025-04-01T10:00:00", row("AP3", 2)))
    assert [r.result for r in report.results] == [
        ResultKind.ACCEPTED,
        ResultKind.INVALID,
        ResultKind.ACCEPTED,
    ]
    assert report.results[1].message.startswith("3行目: 列の数が 2 個です")


def test_summary_counts_and_the_strict_comparison(state: State) -> None:
    data = csv_bytes(
        row("AP1", 1),  # forgiven: hiragana, 高 for 髙, no prefecture
        row("AP2", 2, contract_no="K-9"),  # 02, and 04/05 only under --strict
        row("AP3", 3, name_kanji="高畑 一郎"),  # 04 in both modes, 05 only under --strict
        row("AP4", 99),
    )
    report = validate(state, data)
    s = report.summary
    assert s.total == 4
    assert s.by_result == {ResultKind.ACCEPTED: 1, ResultKind.REJECTED: 3}
    assert s.primary == {ErrorCode.CONTRACT_NO: 1, ErrorCode.NAME: 1, ErrorCode.SUPPLY_POINT: 1}
    assert s.listed == {ErrorCode.CONTRACT_NO: 1, ErrorCode.NAME: 1, ErrorCode.SUPPLY_POINT: 1}
    assert s.comparison is not None
    assert s.comparison.rejected == 4
    assert (s.comparison.name_rejections, s.comparison.avoided_name) == (3, 2)
    assert (s.comparison.address_rejections, s.comparison.avoided_address) == (3, 3)
    assert s.comparison.avoided_rejections == 1


def test_strict_mode_judges_with_nfkc_and_spaces_only(state: State) -> None:
    report = validate(state, csv_bytes(row("AP1", 1)), strict=True)
    assert summary_of(report) == [("AP1", "rejected", "04", "04 05")]
    assert report.summary.strict
    assert report.summary.comparison is None


def test_one_access_event_for_the_run(state: State) -> None:
    data = csv_bytes(row("AP1", 1), row("AP2", 7), row("AP3", 99))
    validate(state, data)
    (event,) = state.events
    assert state.commits == 1
    assert event.account_id == "system:tester"
    assert event.action is Action.SEARCH
    assert event.resource_type is ResourceType.SUPPLY_POINT
    assert event.purpose == "スイッチング処理"
    assert event.ts == NOW
    # Point 7 is a generation point: its contract data is 新電力買取情報.
    assert event.categories == ("location", "new_power_customer", "new_power_purchase", "supply_point")
    detail: dict[str, Any] = json.loads(event.detail)
    assert detail["tag"] == "switching:validated"
    assert detail["applications"] == 3
    assert detail["supply_points_read"] == 2
    assert (detail["accepted"], detail["rejected"], detail["invalid"]) == (1, 2, 0)
    assert len(detail["sha256"]) == 64


def test_points_are_fetched_in_bulk_per_chunk(state: State) -> None:
    data = csv_bytes(*(row(f"AP{i}", i % 5 + 1) for i in range(10)))
    validate(state, data, chunk_rows=4)
    assert state.lookups == [4, 4, 2]


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_input_encodings_are_detected(state: State, encoding: str) -> None:
    report = validate(state, csv_bytes(row("AP1", 1, name_kanji="髙橋 一郎"), encoding=encoding))
    assert report.summary.encoding == encoding
    assert report.results[0].result is ResultKind.ACCEPTED


def test_utf8_with_bom(state: State) -> None:
    report = validate(state, UTF8_BOM + csv_bytes(row("AP1", 1)))
    assert report.summary.encoding == "utf-8-sig"
    assert report.results[0].result is ResultKind.ACCEPTED


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "ファイルが空です"),
        (HEADER.replace("building,", "").encode(), "必須の列がありません"),
        ((HEADER + ",extra\r\n").encode(), "不明な列です"),
        (b"application_id\x81\x7f", "文字コードを判別できません"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(state: State, data: bytes, fragment: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        validate(state, data)
    assert fragment in caught.value.message
    assert state.events == []


def test_blank_lines_are_skipped(state: State) -> None:
    report = validate(state, csv_bytes(row("AP1", 1), "", ",,,", row("AP2", 2)))
    assert [r.application_id for r in report.results] == ["AP1", "AP2"]


def test_progress_is_reported(state: State) -> None:
    seen: list[tuple[int, int]] = []
    make_service(state, chunk_rows=2).validate(
        csv_bytes(*(row(f"AP{i}", 1) for i in range(5))),
        "system:t",
        progress=lambda t, d: seen.append((t, d)),
    )
    assert seen[-1] == (5, 5)
    assert [done for _, done in seen] == sorted(done for _, done in seen)


@pytest.mark.parametrize("encoding", list(ResultEncoding))
def test_results_file(state: State, encoding: ResultEncoding) -> None:
    report = validate(
        state, csv_bytes(row("AP1", 1), row("AP2", 2, contract_no="K-9"), row("AP3", 2, cancel_date="x"))
    )
    out = io.BytesIO()
    write_results(report.results, out, encoding)
    data = out.getvalue()
    assert data.startswith(UTF8_BOM) is (encoding is ResultEncoding.UTF8_BOM)
    text = data.decode(encoding.value)
    lines = text.split("\r\n")
    assert lines[0] == "application_id,result,error_code,error_codes,message"
    assert lines[1].startswith("AP1,accepted,,,")
    assert lines[2].startswith("AP2,rejected,02,02,【02 契約番号不一致エラー】")
    assert lines[3].startswith("AP3,invalid,,,廃止年月日（cancel_date）")


def test_cp932_results_replace_what_cp932_cannot_hold(state: State) -> None:
    report = validate(state, csv_bytes(row("AP🙂", 1)))
    out = io.BytesIO()
    write_results(report.results, out, ResultEncoding.CP932)
    assert out.getvalue().decode("cp932").splitlines()[1].startswith("AP?,accepted")


def test_an_application_id_stored_before_for_the_retailer_is_invalid(state: State) -> None:
    state.claimed = {("AP1", "B0002"): CaseState.PENDING, ("AP2", "B0002"): CaseState.MATCHED}
    state.claimed[("AP3", "C0003")] = CaseState.PENDING  # another retailer's number
    report = validate(state, csv_bytes(row("AP1", 1), row("AP2", 2), row("AP3", 3)))
    assert summary_of(report) == [
        ("AP1", "invalid", "", ""),
        ("AP2", "invalid", "", ""),
        ("AP3", "accepted", "", ""),
    ]
    assert report.results[0].message.startswith("申込番号（application_id）: 申込番号「AP1」は")
    assert "状態: マッチング待ち" in report.results[0].message
    assert "マッチング済み（スイッチング成立）のため、変更・再申込はできません" in report.results[1].message


def test_a_clerk_checks_only_points_of_their_own_area(state: State) -> None:
    data = csv_bytes(row("AP1", 1), row("AP2", 99))
    with FakeUnitOfWork(state) as uow:
        checked = run_checks(
            uow,  # type: ignore[arg-type]
            CANCELLATIONS,
            data,
            SwitchingActor("k.tokyo", area=Area.TOKYO),
            source_name="apps.csv",
            sha256="0" * 64,
            chunk_rows=10,
        )
    own, unknown = checked.results
    # Point 1 exists, in area 06: to a clerk of area 03 it is exactly an unknown point.
    assert (
        (own.codes, own.message)
        == (unknown.codes, unknown.message)
        == ((ErrorCode.SUPPLY_POINT,), own.message)
    )
    assert checked.summary.supply_points_read == 0
    assert checked.categories == frozenset()
