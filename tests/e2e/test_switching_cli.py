"""`shadan registry import` then `shadan switching validate` in a fresh SHADAN_HOME, nothing else set up."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from switching_cli_support import import_registry, shadan, write
from switching_registry import (
    MIXED,
    MIXED_EXPECTED,
    application_line,
    applications_csv,
    point_id,
    start_line,
    starts_csv,
)

from shadan import bootstrap
from shadan.bootstrap import build
from shadan.domain.japan_time import JST


@pytest.fixture
def imported(home: Path, tmp_path: Path) -> None:
    import_registry(tmp_path)


def test_validate_writes_cp932_results_that_excel_can_read(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED), "cp932")
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out), "--encoding", "cp932")
    assert code == 0, output
    # Excel opens a BOM-less CSV as Shift_JIS (CP932): the file must decode that way, CRLF line ends.
    text = out.read_bytes().decode("cp932")
    assert "\r\n" in text
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == ["application_id", "result", "error_code", "error_codes", "message"]
    assert [tuple(r[:4]) for r in table[1:]] == MIXED_EXPECTED
    assert all(r[4] for r in table[1:])
    assert "【02 契約番号不一致エラー】" in table[5][4]
    # The summary: counts per result and per code, and what normalisation avoided.
    assert "受付可（accepted）" in output
    assert "契約番号不一致エラー" in output
    assert "正規化の効果" in output
    assert f"結果を {out}" in output


def test_validate_utf8_sig_for_excel(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED[:1]))
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "--output", str(out), "--encoding", "utf-8-sig")
    assert code == 0, output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert out.read_bytes().decode("utf-8-sig").splitlines()[1].startswith("AP01,accepted,,,")


def test_strict_mode_shows_no_comparison(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED[:1]))
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out), "--strict")
    assert code == 0, output
    assert "厳密照合（--strict）" in output
    assert "正規化の効果" not in output
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("AP01,rejected,04,04 05,")


def test_an_unreadable_file_exits_1_and_writes_nothing(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", "application_id,unknown\r\nAP1,x\r\n")
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out))
    assert code == 1
    assert "不明な列です" in output
    assert not out.exists()


def test_works_on_an_empty_registry_in_a_fresh_home(home: Path, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv(MIXED[:1]))
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "validate", apps, "-o", str(out))
    assert code == 0, output
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("AP01,rejected,01,01,")


# ---- submit, start, matching, withdraw, expire, status ----------------------------------------------------


def recent(app_id: str, n: int, **changes: str) -> str:
    """An application received now (the commands run on the real clock), cancelling in 20 days."""
    now = dt.datetime.now(JST)
    cancel = (now.date() + dt.timedelta(days=20)).isoformat()
    return application_line(
        app_id, n, received_at=now.isoformat(timespec="seconds"), cancel_date=cancel, **changes
    )


def start_for(app_id: str, n: int) -> str:
    now = dt.datetime.now(JST)
    start = (now.date() + dt.timedelta(days=20)).isoformat()
    return start_line(app_id, n, received_at=now.isoformat(timespec="seconds"), start_date=start)


def test_submit_start_match_and_a_matched_application_stays(imported: None, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv([recent("AP01", 1), recent("AP02", 99)]), "cp932")
    out = tmp_path / "results.csv"
    code, output = shadan("switching", "submit", apps, "-o", str(out))
    assert code == 0, output
    assert "申込登録番号 1（廃止申込（廃止取次））を登録しました: マッチング待ち 1 件" in output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("AP01,accepted,,,受け付けました")
    assert lines[2].startswith("AP02,rejected,01,01,")
    code, output = shadan("switching", "submit", apps)
    assert code == 1
    assert "既に登録されています" in output

    starts = write(tmp_path / "starts.csv", starts_csv([start_for("ST01", 1)]))
    code, output = shadan("switching", "start", starts)
    assert code == 0, output
    assert "マッチング成立 1 件" in output

    for application_id in ("AP01", "ST01"):
        code, output = shadan(
            "switching", "withdraw", application_id, "--retailer", "B0002", "--reason", "誤り"
        )
        assert code == 1
        assert "マッチング済み" in output
    code, output = shadan("switching", "status", f"06-{1:020d}")
    assert code == 0, output
    assert "ロック中（locked）" in output
    for text in ("AP01", "ST01", "スイッチング成立", "cli:"):
        assert text in output


def test_withdraw_before_matching_and_expire_after_the_deadline(
    imported: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps = write(tmp_path / "apps.csv", applications_csv([recent("AP01", 1), recent("AP02", 3)]))
    assert shadan("switching", "submit", apps)[0] == 0
    code, output = shadan("switching", "withdraw", "AP02", "--retailer", "B0002", "--reason", "顧客都合")
    assert code == 0, output
    assert "取下げ: 顧客都合" in output
    code, output = shadan("switching", "expire")
    assert (code, "期限切れにした申込: 0 件。" in output) == (0, True)

    # A month later, on the server clock, the cancellation of point 1 has found no start.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    # The commands import bootstrap's `build` when they run.
    monkeypatch.setattr(bootstrap, "build", lambda settings: build(settings, clock=lambda: later))
    code, output = shadan("switching", "expire")
    assert code == 0, output
    assert "期限切れにした申込: 1 件。" in output
    assert "AP01" in output
    code, output = shadan("switching", "status", point_id(1))
    assert "通常（active）" in output
    assert "期限切れ" in output
    assert "取下げ" not in output
    code, output = shadan("switching", "status", point_id(3))
    assert "取下げ" in output


def test_status_of_an_unknown_point_exits_1(imported: None) -> None:
    code, output = shadan("switching", "status", "0600000000000000000099")
    assert code == 1
    assert "見つからない" in output
