"""The fraud heuristics one by one: each flags what it should, leaves near misses alone, and never flags
below its minimum counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from oversight_support import stored
from switching_support import point

from shadan.domain.japan_time import JST
from shadan.domain.registry import SupplyPoint, SupplyPointKind, Voltage
from shadan.domain.switching_case import CaseState, Half, StoredApplication
from shadan.services.switching_fraud import detect
from shadan.services.switching_fraud_agents import guessing_signals, unmatched_signals, volume_signals
from shadan.services.switching_fraud_rent import utilities_included_signals
from shadan.services.switching_fraud_signals import (
    FraudRules,
    GuessingRule,
    Heuristic,
    UnmatchedRule,
    UtilitiesIncludedRule,
    VolumeRule,
)
from shadan.services.switching_periods import DateRange, Period

APRIL = DateRange(dt.date(2025, 4, 1), dt.date(2025, 4, 30))
SPRING = DateRange(dt.date(2025, 4, 1), dt.date(2025, 5, 31))
IN_APRIL = dt.datetime(2025, 4, 10, 10, 0, tzinfo=JST)
IN_MAY = dt.datetime(2025, 5, 10, 10, 0, tzinfo=JST)


def _filed(
    staff: str, count: int, *, retailer: str = "B0002", at: dt.datetime = IN_APRIL
) -> list[StoredApplication]:
    return [stored(staff=staff, retailer=retailer, at=at) for _ in range(count)]


def _team(counts: dict[str, int], **kwargs: object) -> list[StoredApplication]:
    return [a for staff, n in counts.items() for a in _filed(staff, n, **kwargs)]  # type: ignore[arg-type]


# ---- (a) volume ----------------------------------------------------------------------------------


def test_an_agent_far_above_the_other_agents_is_flagged_with_the_numbers() -> None:
    applications = _team({"鈴木": 40, "田中": 5, "高橋": 6, "伊藤": 5, "渡辺": 7})
    [signal] = volume_signals(applications, APRIL, Period.MONTH, VolumeRule())
    assert (signal.heuristic, signal.staff, signal.retailer_code, signal.period) == (
        Heuristic.VOLUME,
        "鈴木",
        "B0002",
        "2025年4月",
    )
    figures = {f.label: f.value for f in signal.figures}
    assert figures["申込件数"] == 40
    assert figures["他の担当者数"] == 4
    assert figures["他の担当者の中央値"] == 5.5
    # MAD of 5, 5, 6, 7 around 5.5 is 0.5, taken as 1: 0.6745 × 34.5 = 23.3
    assert figures["修正zスコア"] == 23.3
    assert "40件" in signal.reason
    assert "中央値5.5件" in signal.reason


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        ({"鈴木": 19, "田中": 2, "高橋": 2, "伊藤": 2}, "below the minimum of 20 applications"),
        ({"鈴木": 40, "田中": 5, "高橋": 5}, "only two other agents"),
        ({"鈴木": 25, "田中": 9, "高橋": 10, "伊藤": 8}, "less than three times the median"),
        ({"鈴木": 30, "田中": 10, "高橋": 25, "伊藤": 2, "渡辺": 30}, "within the spread of the others"),
    ],
)
def test_near_misses_of_volume_are_not_flagged(counts: dict[str, int], why: str) -> None:
    assert volume_signals(_team(counts), APRIL, Period.MONTH, VolumeRule()) == [], why


def test_volume_compares_within_one_retailer_and_one_period() -> None:
    same_month_other_retailer = _filed("鈴木", 40) + _team(
        {"田中": 5, "高橋": 5, "伊藤": 5}, retailer="C0003"
    )
    assert volume_signals(same_month_other_retailer, APRIL, Period.MONTH, VolumeRule()) == []
    peers_in_may_only = _filed("鈴木", 40) + _team({"田中": 5, "高橋": 5, "伊藤": 5}, at=IN_MAY)
    assert volume_signals(peers_in_may_only, SPRING, Period.MONTH, VolumeRule()) == []
    both_months = peers_in_may_only + _team({"田中": 5, "高橋": 5, "伊藤": 5})
    [signal] = volume_signals(both_months, SPRING, Period.MONTH, VolumeRule())
    assert signal.period == "2025年4月"


def test_an_agent_is_one_agent_however_the_name_is_spaced() -> None:
    applications = (
        _filed("佐藤 太郎", 15) + _filed("佐藤　太郎", 15) + _team({"田中": 5, "高橋": 5, "伊藤": 5})
    )
    [signal] = volume_signals(applications, APRIL, Period.MONTH, VolumeRule())
    assert signal.staff == "佐藤 太郎"  # as first written
    assert {f.label: f.value for f in signal.figures}["申込件数"] == 30


def test_applications_without_a_staff_name_are_not_an_agent() -> None:
    applications = _filed("", 40) + _team({"田中": 5, "高橋": 5, "伊藤": 5})
    assert volume_signals(applications, APRIL, Period.MONTH, VolumeRule()) == []


def test_volume_thresholds_are_parameters() -> None:
    applications = _team({"鈴木": 12, "田中": 2, "高橋": 2, "伊藤": 3})
    assert volume_signals(applications, APRIL, Period.MONTH, VolumeRule()) == []
    assert len(volume_signals(applications, APRIL, Period.MONTH, VolumeRule(min_applications=10))) == 1


# ---- (b) withdrawn or expired ---------------------------------------------------------------------


def _ended(
    staff: str, matched: int, withdrawn: int = 0, expired: int = 0, pending: int = 0
) -> list[StoredApplication]:
    states = {CaseState.MATCHED: matched, CaseState.WITHDRAWN: withdrawn, CaseState.EXPIRED: expired}
    states[CaseState.PENDING] = pending
    return [stored(staff=staff, state=state) for state, n in states.items() for _ in range(n)]


def test_an_agent_whose_applications_end_unmatched_is_flagged() -> None:
    applications = _ended("鈴木", matched=7, withdrawn=2, expired=1) + _ended("田中", matched=19, withdrawn=1)
    [signal] = unmatched_signals(applications, UnmatchedRule())
    assert signal.staff == "鈴木"
    figures = {f.label: f.value for f in signal.figures}
    assert (figures["結果の出た件数"], figures["取下げ"], figures["期限切れ"]) == (10, 2, 1)
    assert figures["不成立の割合"] == 0.3
    assert figures["同じ小売事業者の他の担当者の不成立の割合"] == 0.05
    assert "10件中3件（30%）" in signal.reason


@pytest.mark.parametrize(
    ("applications", "why"),
    [
        (_ended("鈴木", matched=6, withdrawn=3), "only nine ended: below the minimum of ten"),
        (_ended("鈴木", matched=8, withdrawn=2), "20% is below 30%"),
        (_ended("鈴木", matched=2, expired=1, pending=30), "pending applications have not ended"),
        (
            _ended("鈴木", matched=5, expired=5) + _ended("田中", matched=12, expired=8),
            "50% is not 1.5 times the 40% of the retailer's other agents",
        ),
    ],
)
def test_near_misses_of_unmatched_are_not_flagged(applications: list[StoredApplication], why: str) -> None:
    assert unmatched_signals(applications, UnmatchedRule()) == [], why


def test_rejected_applications_never_count_as_ended() -> None:
    applications = _ended("鈴木", matched=3, withdrawn=3) + [stored("04", staff="鈴木") for _ in range(20)]
    assert unmatched_signals(applications, UnmatchedRule()) == []


def test_an_agent_well_above_late_peers_is_still_flagged() -> None:
    applications = _ended("鈴木", matched=2, withdrawn=8) + _ended("田中", matched=12, expired=8)
    [signal] = unmatched_signals(applications, UnmatchedRule())
    assert signal.staff == "鈴木"


def test_a_lone_agent_has_no_peers_to_compare_with() -> None:
    [signal] = unmatched_signals(_ended("鈴木", matched=5, withdrawn=5), UnmatchedRule())
    assert {f.label: f.value for f in signal.figures}["同じ小売事業者の他の担当者の不成立の割合"] == "—"


# ---- (c) 02/04 rejections concentrated on one agent ---------------------------------------------


def _guessing_team(guesser_rejections: int, guesser_accepted: int = 3) -> list[StoredApplication]:
    guesser = [stored("02" if n % 2 else "04", staff="鈴木") for n in range(guesser_rejections)]
    guesser += _filed("鈴木", guesser_accepted)
    others = [
        a for staff in ("田中", "高橋", "伊藤") for a in [stored("04", staff=staff), *_filed(staff, 29)]
    ]
    return guesser + others


def test_an_agent_with_most_of_the_retailers_02_04_rejections_is_flagged() -> None:
    [signal] = guessing_signals(_guessing_team(12), GuessingRule())
    assert signal.staff == "鈴木"
    figures = {f.label: f.value for f in signal.figures}
    assert figures["02・04エラー件数"] == 12
    assert figures["小売事業者の02・04エラー件数"] == 15
    assert figures["エラーに占める割合"] == 0.8
    assert figures["申込に占める割合"] == round(15 / 105, 3)
    assert "12件" in signal.reason
    assert "80%" in signal.reason


def test_guessing_needs_the_minimum_count() -> None:
    assert guessing_signals(_guessing_team(9), GuessingRule()) == []


def test_an_agent_who_simply_files_most_applications_is_not_flagged() -> None:
    # 12 of 15 rejections, but also 100 of 190 applications: a share of 0.8 against 0.53 (lift 1.5)
    assert guessing_signals(_guessing_team(12, guesser_accepted=88), GuessingRule()) == []


def test_a_retailer_with_one_agent_cannot_concentrate() -> None:
    assert guessing_signals([stored("02", staff="鈴木") for _ in range(30)], GuessingRule()) == []


def test_other_codes_and_invalid_rows_do_not_count_as_guessing() -> None:
    others = [stored(code, staff="鈴木") for code in ("01", "03", "05", "06", "99") for _ in range(5)]
    assert guessing_signals(others + _guessing_team(0), GuessingRule()) == []


# ---- (d) electricity included in the rent -------------------------------------------------------


def _point(number: int, **changes: object) -> SupplyPoint:
    return point(supply_point_id=f"06000000000000000000{number:02d}", **changes)


def _rejected_on(*points: SupplyPoint) -> list[StoredApplication]:
    return [stored("04", point=p.supply_point_id) for p in points]


@pytest.mark.parametrize(
    ("kanji", "kana", "form"),
    [
        ("株式会社中之島ハウジング", "カブシキガイシャ ナカノシマハウジング", "(株)"),
        ("中之島ハウジング㈱", "ナカノシマハウジング", "(株)"),
        ("山田 一郎", "ｶ)ﾔﾏﾀﾞｼｮｳｼﾞ", "(株)"),  # the kana shows it even where the kanji does not
        ("有限会社梅田不動産", "ユウゲンガイシャ ウメダフドウサン", "(有)"),
        ("合同会社北浜レジデンス", "ゴウドウガイシャ キタハマレジデンス", "(同)"),
    ],
)
def test_a_company_holding_the_contract_looks_like_a_landlord(kanji: str, kana: str, form: str) -> None:
    flat = _point(1, name_kanji=kanji, name_kana=kana)
    [signal] = utilities_included_signals(
        _rejected_on(flat), {flat.supply_point_id: flat}, UtilitiesIncludedRule()
    )
    assert signal.heuristic is Heuristic.UTILITIES_INCLUDED
    assert signal.supply_point_ids == (flat.supply_point_id,)
    assert {f.label: f.value for f in signal.figures}["法人名義"] == form
    assert "光熱費込み" in signal.reason
    assert "不正の兆候ではありません" in signal.reason
    assert "賃貸借契約" in signal.reason


def test_one_holder_on_several_rejected_points_at_one_address_looks_like_a_landlord() -> None:
    # The same address written two ways, and the rooms in the building column.
    room1 = _point(
        1, name_kanji="大家 一郎", address="大阪府大阪市北区梅田一丁目2番地3号", building="梅田荘101"
    )
    room2 = _point(2, name_kanji="大家　一郎", address="大阪市北区梅田1-2-3", building="梅田荘102")
    elsewhere = _point(3, name_kanji="大家 一郎", address="大阪府大阪市北区梅田1-2-4")
    points = {p.supply_point_id: p for p in (room1, room2, elsewhere)}
    signals = utilities_included_signals(
        _rejected_on(room1, room2, elsewhere), points, UtilitiesIncludedRule()
    )
    assert [s.supply_point_ids for s in signals] == [(room1.supply_point_id,), (room2.supply_point_id,)]
    assert all({f.label: f.value for f in s.figures}["同じ住所・同じ名義の供給地点数"] == 2 for s in signals)
    assert "2件が同じ名義" in signals[0].reason


def test_several_rejections_on_one_point_make_one_signal() -> None:
    flat = _point(1, name_kanji="株式会社梅田ハウス")
    applications = _rejected_on(flat, flat)
    [signal] = utilities_included_signals(applications, {flat.supply_point_id: flat}, UtilitiesIncludedRule())
    assert signal.application_ids == tuple(a.application_id for a in applications)


@pytest.mark.parametrize(
    "changes",
    [
        {},  # a person, alone at the address
        {"name_kanji": "株式会社梅田ハウス", "voltage": Voltage.HIGH},  # a company's own premises
        {"name_kanji": "株式会社梅田ハウス", "kind": SupplyPointKind.GENERATION},
    ],
)
def test_near_misses_of_utilities_included_are_not_flagged(changes: dict[str, object]) -> None:
    flat = _point(1, **changes)
    assert (
        utilities_included_signals(_rejected_on(flat), {flat.supply_point_id: flat}, UtilitiesIncludedRule())
        == []
    )


def test_two_people_at_one_address_are_not_a_landlord() -> None:
    room1 = _point(1, name_kanji="山田 花子")
    room2 = _point(2, name_kanji="鈴木 一郎")
    points = {p.supply_point_id: p for p in (room1, room2)}
    assert utilities_included_signals(_rejected_on(room1, room2), points, UtilitiesIncludedRule()) == []


def test_a_point_no_longer_registered_is_left_out() -> None:
    assert (
        utilities_included_signals(
            _rejected_on(_point(1, name_kanji="株式会社梅田ハウス")), {}, UtilitiesIncludedRule()
        )
        == []
    )


def test_detect_looks_only_at_the_ranges_cancellations_rejected_with_04() -> None:
    company = _point(1, name_kanji="株式会社梅田ハウス")
    points = {company.supply_point_id: company}
    applications = [
        stored("02", point=company.supply_point_id),  # not a name check
        stored("04", point=company.supply_point_id, half=Half.START),  # not a cancellation
        stored("04", point=company.supply_point_id, at=IN_MAY),  # outside the range
    ]
    assert detect(applications, points, APRIL, Period.MONTH, FraudRules()) == []
    found = detect(
        [*applications, stored("04", point=company.supply_point_id)],
        points,
        APRIL,
        Period.MONTH,
        FraudRules(),
    )
    assert [s.heuristic for s in found] == [Heuristic.UTILITIES_INCLUDED]


def test_every_heuristic_has_a_label() -> None:
    assert all(h.label for h in Heuristic)
    assert dataclasses.asdict(FraudRules())["volume"]["min_applications"] == 20


def test_the_docs_list_every_parameter_with_its_default() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "switching.md").read_text(encoding="utf-8")
    section = doc.split("## Fraud signals (不正の兆候)", 1)[1].split("\n## ", 1)[0]
    groups = {"(a)": "volume", "(b)": "unmatched", "(c)": "guessing", "(d)": "utilities_included"}
    documented: dict[str, dict[str, float]] = {}
    group = ""
    for line in section.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) != 4 or not cells[1].startswith("`"):
            continue
        group = groups.get(cells[0][:3], group)
        documented.setdefault(group, {})[cells[1].strip("`")] = float(cells[2])
    assert documented == dataclasses.asdict(FraudRules())
