"""`shadan switching stats` and `fraud` in a fresh SHADAN_HOME after `registry import` and `switching
submit`: the figures agree with what `validate` says of the same file, the file written reads back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from switching_cli_support import import_registry, shadan, write
from switching_registry import MIXED, applications_csv

APRIL = ("--from", "2025-04-01", "--to", "2025-04-30")


@pytest.fixture
def submitted(home: Path, tmp_path: Path) -> Path:
    """The registry imported, the mixed applications (one of each outcome) validated, then submitted."""
    import_registry(tmp_path)
    write(tmp_path / "apps.csv", applications_csv(MIXED))
    # What validate says of the file before it is stored (a dry run: its comparison comes from the run).
    code, output = shadan("switching", "validate", str(tmp_path / "apps.csv"), "-o", str(tmp_path / "v.csv"))
    assert code == 0, output
    (tmp_path / "validated.txt").write_text(output, encoding="utf-8")
    code, output = shadan("switching", "submit", str(tmp_path / "apps.csv"))
    assert code == 0, output
    return tmp_path


def test_stats_prints_the_seed_style_table_and_writes_excel(submitted: Path) -> None:
    out = submitted / "stats.xlsx"
    code, output = shadan("switching", "stats", *APRIL, "-o", str(out))
    assert code == 0, output
    assert "廃止取次 13件、受付可 1件、エラー 11件、記入不備 1件" in output
    assert "エラー原因の比率" in output
    assert "名義不一致エラー" in output
    assert f"表を {out} に書き出しました。" in output
    sheet = load_workbook(out).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert (total["期間"], total["申込件数"], total["エラー"], total["記入不備"]) == ("全期間", 13, 11, 1)
    primary = {code: total[f"{code} {label} 件数"] for code, label in _labels(rows[0])}
    assert primary == {"01": 2, "02": 1, "03": 2, "04": 1, "05": 1, "06": 1, "07": 1, "99": 2}
    assert total["01 供給地点特定番号エラー エラー原因の比率（%）"] == 18.2  # 2 of 11


def test_the_comparison_with_strict_is_the_one_validate_computed(submitted: Path) -> None:
    out = submitted / "stats.csv"
    code, output = shadan("switching", "stats", *APRIL, "--period", "day", "-o", str(out))
    assert code == 0, output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 1 + 30 + 1  # header, every day of April, the total
    total = dict(zip(rows[0], rows[-1], strict=True))
    validated = (submitted / "validated.txt").read_text(encoding="utf-8")
    comparison = validated[validated.index("正規化の効果") :]
    figures = {}
    for label in ("04 名義不一致", "05 住所不一致", "エラー（rejected）合計"):
        line = next(line for line in comparison.splitlines() if label in line)
        figures[label] = tuple(int(n.replace(",", "")) for n in line.split("│")[2:5])  # strict, now, avoided
    assert figures["04 名義不一致"][2] == int(total["04 名義不一致 回避件数"]) > 0
    assert figures["04 名義不一致"][1] == int(total["04 名義不一致エラー 該当件数"])
    assert figures["05 住所不一致"][2] == int(total["05 住所不一致 回避件数"]) > 0
    assert figures["エラー（rejected）合計"] == (
        int(total["--strict でのエラー"]),
        int(total["エラー"]),
        int(total["エラー回避件数"]),
    )


def test_fraud_prints_every_heuristic_with_its_explanation(submitted: Path) -> None:
    code, output = shadan("switching", "fraud", *APRIL)
    assert code == 0, output
    assert "廃止取次 13件から 0件" in output
    for label in (
        "申込件数が突出している担当者",
        "取下げ・期限切れが多い担当者",
        "光熱費込み賃貸物件の可能性",
    ):
        assert f"{label}（0件）" in output
    assert "自動的な判定ではありません" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-05-01", "--to", "2025-04-01"), "終了日（to）は開始日（from）以降"),
        (("--from", "2025/04/01", "--to", "2025-04-30"), "開始日（from）は YYYY-MM-DD"),
    ],
)
def test_bad_dates_are_a_usage_error(submitted: Path, args: tuple[str, ...], message: str) -> None:
    code, output = shadan("switching", "stats", *args)
    assert (code, message in output) == (2, True)


def test_an_unknown_output_format_writes_nothing(submitted: Path) -> None:
    code, output = shadan("switching", "stats", *APRIL, "-o", str(submitted / "stats.txt"))
    assert code == 2
    assert ".xlsx か .csv" in output
    assert not (submitted / "stats.txt").exists()


def _labels(header: list[object]) -> list[tuple[str, str]]:
    return [(str(h)[:2], str(h)[3:-3]) for h in header if str(h).endswith(" 件数") and str(h)[:2].isdigit()]
