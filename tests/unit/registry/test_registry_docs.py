"""docs/registry.md documents every column of the three files, with the category the code gives it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadan.domain.registry import CONTRACT_FIELDS, FIXED_FIELD_CATEGORIES
from shadan.services.registry_rows import COLUMNS, MAX_LENGTHS, RegistryFile

DOC = (Path(__file__).resolve().parents[3] / "docs" / "registry.md").read_text(encoding="utf-8")


def section(kind: RegistryFile) -> list[str]:
    text = DOC.split(f"## `{kind.value}.csv`", 1)[1].split("\n## ", 1)[0]
    return [line for line in text.splitlines() if line.startswith("| `")]


@pytest.mark.parametrize("kind", list(RegistryFile))
def test_every_column_has_a_row(kind: RegistryFile) -> None:
    documented = [row.split("|")[1].strip(" `") for row in section(kind)]
    assert documented == list(COLUMNS[kind])


def test_categories_and_lengths_match_the_code() -> None:
    for row in section(RegistryFile.SUPPLY_POINTS):
        cells = [c.strip() for c in row.split("|")[1:-1]]
        column, limit, category = cells[0].strip("`"), cells[3], cells[4]
        if column in CONTRACT_FIELDS:
            assert "new_power_customer" in category
            assert "new_power_purchase" in category
        else:
            assert category == f"`{FIXED_FIELD_CATEGORIES[column].value}`"
        if column in MAX_LENGTHS:
            assert limit == str(MAX_LENGTHS[column]), column
