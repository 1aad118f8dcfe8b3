"""Contract numbers (check 02): NFKC, upper case, no spaces or hyphens — nothing else."""

from __future__ import annotations

import pytest

from shadan.domain.japanese import contract_numbers_match, normalise_contract_no, strict_form


@pytest.mark.parametrize(
    "applied",
    [
        "K-0001-23",
        "k0001-23",
        "Ｋ０００１２３",
        "K 0001 23",
        "K－0001－23",
        "Kー0001ー23",
        "K‐0001‐23",
        "\tK000123 ",
    ],
)
def test_formatting_variants_match(applied: str) -> None:
    assert normalise_contract_no(applied) == "K000123"
    assert contract_numbers_match("K000123", applied)


@pytest.mark.parametrize(
    ("registered", "applied"),
    [("K000123", "K000124"), ("K000123", "K0000123"), ("K000123", "K00012"), ("K000123", "X000123")],
)
def test_near_misses_do_not_match(registered: str, applied: str) -> None:
    assert not contract_numbers_match(registered, applied)


def test_strict_form_removes_every_kind_of_space() -> None:
    assert strict_form(" ａ\u3000b\tc\n") == "abc"
