"""docs/switching.md documents every application column, every error code and the whole variant table."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadan.domain.japanese import variant_pairs
from shadan.domain.switching import ErrorCode
from shadan.services.switching_rows import APPLICATION_COLUMNS, COLUMN_LABELS, OPTIONAL_VALUES, START_COLUMNS

DOC = (Path(__file__).resolve().parents[3] / "docs" / "switching.md").read_text(encoding="utf-8")


def column_rows(heading: str) -> list[list[str]]:
    """The cells of the column table under `heading` (column name first, unquoted)."""
    section = DOC.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    cells = [[c.strip() for c in row.split("|")[1:-1]] for row in rows]
    return [[first.strip("`"), *rest] for first, *rest in cells]


def test_every_application_column_has_a_row_with_its_label() -> None:
    rows = column_rows("The applications file")
    assert [r[0] for r in rows] == list(APPLICATION_COLUMNS)
    for column, required, _, label, *_ in rows:
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
    rows = column_rows("Start applications (開始申込)")
    assert [r[0] for r in rows] == list(START_COLUMNS)
    for column, required, _, label, *_ in rows:
        assert (required, label) == ("yes", COLUMN_LABELS[column])
