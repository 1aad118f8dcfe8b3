from __future__ import annotations

import pytest

from shadan.domain.errors import InvalidInput
from shadan.domain.supply_point_id import SupplyPointId
from shadan.domain.vocabulary import Area

VALID = "0612345678901234567890"


@pytest.mark.parametrize(
    "raw",
    [
        VALID,
        "０６１２３４５６７８９０１２３４５６７８９０",
        "0612-3456-7890-1234-5678-90",
        "0612 3456 7890 1234 5678 90",
        "0612－3456ー7890―1234‐5678－90",
        " 0612345678901234567890 ",
    ],
)
def test_canonical_forms_are_accepted(raw: str) -> None:
    assert SupplyPointId.parse(raw).value == VALID
    assert SupplyPointId.parse(raw).area is Area.KANSAI


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "061234567890123456789",
        "06123456789012345678901",
        "0012345678901234567890",
        "1112345678901234567890",
        "06123456789012345678９a",
        "06' OR 1=1 --",
        "٠٦١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠",
    ],
)
def test_malformed_ids_are_refused_with_a_japanese_message(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        SupplyPointId.parse(raw)
    assert "供給地点特定番号" in caught.value.message
