"""Every enum value a page shows has its Japanese label."""

from __future__ import annotations

from enum import StrEnum

import pytest

from shadan.domain.registry import SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.vocabulary import Action, CompanyKind, Outcome, ResourceType
from shadan.web.labels import VALUE_LABELS, value_label


@pytest.mark.parametrize(
    "enum", [SupplyPointKind, SupplyPointStatus, Voltage, Action, Outcome, CompanyKind, ResourceType]
)
def test_every_value_has_a_label(enum: type[StrEnum]) -> None:
    assert set(enum) <= set(VALUE_LABELS)


def test_an_unknown_value_shows_as_itself() -> None:
    assert value_label("ingested_resource") == "ingested_resource"
