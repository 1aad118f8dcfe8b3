"""Result messages: Japanese, what to fix, never a registered value, and encodable in CP932."""

from __future__ import annotations

import datetime as dt

import pytest
from switching_support import CALENDAR, application, point

from shadan.domain.registry import SupplyPointStatus
from shadan.domain.switching import Finding, Reason
from shadan.services.switching_checks import assess
from shadan.services.switching_messages import ACCEPTED_MESSAGE, result_message
from shadan.services.switching_rows import invalid_message, parse_application

EVERYTHING_WRONG = application(
    contract_no="K-9",
    name_kana="ヤマダ",
    name_kanji="山田",
    address="京都市",
    cancel_date=dt.date(2025, 4, 2),
    new_retailer_code="A0001",
)
POINT = point(status=SupplyPointStatus.PENDING_CANCELLATION)


def all_messages() -> list[str]:
    findings = assess(EVERYTHING_WRONG, POINT, CALENDAR).findings
    fixed = [(Finding(r),) for r in (Reason.NOT_FOUND, Reason.NOT_TARGET, Reason.LOCKED)]
    late = assess(application(cancel_date=dt.date(2025, 6, 1)), point(), CALENDAR).findings
    in_run = (Finding(Reason.PENDING_IN_RUN, earlier_application="AP0"),)
    messages = [result_message(f, strict=s) for f in [findings, late, in_run, *fixed] for s in (False, True)]
    bad = parse_application(3, {"received_at": "x", "cancel_date": "y"})
    assert isinstance(bad, tuple)
    return [*messages, ACCEPTED_MESSAGE, invalid_message(bad)]


@pytest.mark.parametrize("message", all_messages())
def test_messages_are_cp932_for_excel(message: str) -> None:
    assert message.encode("cp932").decode("cp932") == message


def test_one_part_per_code_in_code_order() -> None:
    message = result_message(assess(EVERYTHING_WRONG, POINT, CALENDAR).findings)
    heads = ["【02 ", "【03 ", "【04 ", "【05 ", "【06 ", "【99 "]
    positions = [message.index(h) for h in heads]
    assert positions == sorted(positions)
    assert "需要者名カナ・需要者名漢字が登録内容と一致しません" in message


def test_no_registered_value_is_disclosed() -> None:
    message = result_message(assess(EVERYTHING_WRONG, POINT, CALENDAR).findings)
    for registered in (
        POINT.contract_no,
        "K0001",
        "タカハシ",
        "髙橋",
        "高橋",
        "梅田",
        POINT.building,
        POINT.phone,
    ):
        assert registered not in message


def test_the_window_is_given_so_the_date_can_be_fixed() -> None:
    early = result_message(assess(application(cancel_date=dt.date(2025, 4, 2)), point(), CALENDAR).findings)
    late = result_message(assess(application(cancel_date=dt.date(2025, 6, 1)), point(), CALENDAR).findings)
    assert "早すぎます" in early
    assert "次々回検針日以降" in late
    for message in (early, late):
        assert "2025-04-04 以降、2025-05-09 より前の日付を指定してください" in message


def test_in_run_message_names_the_earlier_application() -> None:
    message = result_message((Finding(Reason.PENDING_IN_RUN, earlier_application="AP0"),))
    assert "申込「AP0」" in message


def test_strict_messages_do_not_promise_forgiveness_for_names_and_addresses() -> None:
    findings = (Finding(Reason.NAME_KANA), Finding(Reason.ADDRESS))
    assert "ひらがな・カタカナ" in result_message(findings, strict=False)
    assert "ひらがな・カタカナ" not in result_message(findings, strict=True)
    assert "都道府県名の省略" not in result_message(findings, strict=True)


def test_accepted() -> None:
    assert result_message(()) == ACCEPTED_MESSAGE
