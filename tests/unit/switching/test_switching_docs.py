"""docs/switching.md documents every application column, every error code and the whole variant table."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadan.domain.japanese import variant_pairs
from shadan.domain.switching import ErrorCode
from shadan.services.switching_rows import APPLICATION_COLUMNS, COLUMN_LABELS, OPTIONAL_VALUES, START_COLUMNS

DOC = (Path(__file__).resolve().parents[3] / "docs" / "switching.md").read_text(encoding="utf-8")


def test_every_application_column_has_a_row_with_its_label() -> None:
    section = DOC.split("## The applications file", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip(" `") for r in rows] == list(APPLICATION_COLUMNS)
    for row in rows:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        column, required, label = cells[0].strip("`"), cells[1], cells[3]
        assert label == COLUMN_LABELS[column]
        assert required == ("no" if column in OPTIONAL_VALUES else "yes")


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_is_described(code: ErrorCode) -> None:
    assert f"**{code.value} {code.label}**" in DOC


def test_every_variant_pair_is_listed() -> None:
    for variant, standard in variant_pairs().items():
        assert f"{variant}→{standard}" in DOC
    assert f"{len(variant_pairs())} pairs" in DOC


def test_every_start_column_has_a_row_with_its_label() -> None:
    section = DOC.split("## Start applications (開始申込)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip(" `") for r in rows] == list(START_COLUMNS)
    for row in rows:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert (cells[1], cells[3]) == ("yes", COLUMN_LABELS[cells[0].strip("`")])
