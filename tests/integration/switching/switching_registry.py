"""A small registry and applications for the switching integration and end-to-end tests (DESIGN §5.1–5.2)."""

from __future__ import annotations

from collections.abc import Iterable

RETAILERS_CSV = (
    "retailer_code,name,affiliated_area\r\nA0001,関西でんき販売株式会社,06\r\nB0002,みらい電力株式会社,\r\n"
)
CALENDAR_CSV = (
    "reading_schedule,date\r\n"
    "S01,2025-04-08\r\nS01,2025-05-09\r\nS01,2025-06-10\r\n"
    "S02,2025-04-15\r\nS02,2025-05-16\r\nS02,2025-06-16\r\n"
)
POINT_COLUMNS = (
    "supply_point_id,kind,voltage,retailer_code,contract_no,name_kana,name_kanji,address,building,phone,"
    "status,switching_target,reading_schedule"
)
APPLICATION_COLUMNS = (
    "application_id,received_at,supply_point_id,current_retailer_code,contract_no,address,building,"
    "name_kana,name_kanji,cancel_date,new_retailer_code,new_retailer_staff,new_retailer_phone"
)


def _csv_text(columns: str, lines: Iterable[str]) -> str:
    return "\r\n".join([columns, *lines, ""])


def _csv_line(columns: str, defaults: dict[str, str], changes: dict[str, str]) -> str:
    values = defaults | changes
    return ",".join(values[c] for c in columns.split(","))


def point_id(n: int) -> str:
    return f"06{n:020d}"


def point_line(n: int, status: str = "active", target: str = "true", kind: str = "demand") -> str:
    return (
        f"{point_id(n)},{kind},low,A0001,K-{n:04d},タカハシ イチロウ,髙橋 一郎,"
        f"大阪府大阪市北区梅田一丁目{n}番地3号,梅田ハイツ101,06-0000-0000,{status},{target},S0{n % 2 + 1}"
    )


POINTS_CSV = _csv_text(
    POINT_COLUMNS,
    [
        *(point_line(n) for n in range(1, 7)),
        point_line(7, status="pending_cancellation"),
        point_line(8, status="locked", kind="generation"),
        point_line(9, target="false"),
    ],
)


def application_line(app_id: str, n: int, **changes: str) -> str:
    defaults = {
        "application_id": app_id,
        "received_at": "2025-04-01T10:00:00+09:00",
        "supply_point_id": f"06-{n:020d}",
        "current_retailer_code": "A0001",
        "contract_no": f"k{n:04d}",
        "address": f"大阪市北区梅田1丁目{n}-3",
        "building": "",
        "name_kana": "たかはし いちろう",
        "name_kanji": "高橋一郎",
        "cancel_date": "2025-04-20",
        "new_retailer_code": "B0002",
        "new_retailer_staff": "営業 太郎",
        "new_retailer_phone": "03-0000-0000",
    }
    return _csv_line(APPLICATION_COLUMNS, defaults, changes)


def applications_csv(lines: Iterable[str]) -> str:
    return _csv_text(APPLICATION_COLUMNS, lines)


# One application per outcome; the expected (application_id, result, error_code, error_codes).
MIXED = [
    application_line("AP01", 1),
    application_line("AP02", 1, received_at="2025-04-01T12:00:00+09:00"),
    application_line("AP03", 99),
    application_line("AP04", 2, current_retailer_code="B0002"),
    application_line("AP05", 3, contract_no="K-9999"),
    application_line("AP06", 7),
    application_line("AP07", 4, name_kana="ヤマダ ハナコ"),
    application_line("AP08", 5, address="大阪市北区梅田2丁目5-3"),
    application_line("AP09", 6, cancel_date="2025-04-02"),
    application_line("AP10", 9),
    application_line("AP11", 8, contract_no="K-0008"),
    application_line("AP12", 2, new_retailer_code="A0001"),
    application_line("AP13", 3, cancel_date="2025/04/20"),
]
MIXED_EXPECTED = [
    ("AP01", "accepted", "", ""),
    ("AP02", "rejected", "03", "03"),
    ("AP03", "rejected", "01", "01"),
    ("AP04", "rejected", "01", "01"),
    ("AP05", "rejected", "02", "02"),
    ("AP06", "rejected", "03", "03"),
    ("AP07", "rejected", "04", "04"),
    ("AP08", "rejected", "05", "05"),
    ("AP09", "rejected", "06", "06"),
    ("AP10", "rejected", "07", "07"),
    ("AP11", "rejected", "99", "99"),
    ("AP12", "rejected", "99", "99"),
    ("AP13", "invalid", "", ""),
]


START_COLUMNS = ",".join(
    (
        "application_id",
        "received_at",
        "supply_point_id",
        "new_retailer_code",
        "start_date",
        "new_retailer_staff",
        "new_retailer_phone",
    )
)


def start_line(app_id: str, n: int, **changes: str) -> str:
    """A start application (開始申込) by B0002 matching `application_line(…, n)` unless changed."""
    defaults = {
        "application_id": app_id,
        "received_at": "2025-04-02T09:00:00+09:00",
        "supply_point_id": point_id(n),
        "new_retailer_code": "B0002",
        "start_date": "2025-04-20",
        "new_retailer_staff": "営業 太郎",
        "new_retailer_phone": "03-0000-0000",
    }
    return _csv_line(START_COLUMNS, defaults, changes)


def starts_csv(lines: Iterable[str]) -> str:
    return _csv_text(START_COLUMNS, lines)
