"""Sealed TOTP secrets open only for their account, under their key, untampered."""

from __future__ import annotations

import pytest

from shadan.services.totp_sealing import PREFIX, TotpSealer

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
SEALER = TotpSealer(b"k" * 32)


def test_a_sealed_secret_opens_for_its_account() -> None:
    sealed = SEALER.seal("k.tanaka", SECRET)
    assert sealed.startswith(PREFIX)
    assert SECRET not in sealed
    assert len(sealed) <= 128  # the column's width
    assert SEALER.open("k.tanaka", sealed) == SECRET
    assert SEALER.holds("k.tanaka", sealed, SECRET)


def test_sealing_twice_gives_different_texts() -> None:
    assert SEALER.seal("k.tanaka", SECRET) != SEALER.seal("k.tanaka", SECRET)


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        SECRET,  # a legacy plain-text value
        PREFIX + "not base64 !",
        PREFIX + "AAAA",  # too short to hold a nonce and a tag
    ],
)
def test_what_does_not_open_is_no_secret(stored: str | None) -> None:
    assert SEALER.open("k.tanaka", stored) is None
    assert not SEALER.holds("k.tanaka", stored, SECRET)


def test_another_account_another_key_or_a_flipped_bit_do_not_open() -> None:
    sealed = SEALER.seal("k.tanaka", SECRET)
    assert SEALER.open("m.sato", sealed) is None
    assert TotpSealer(b"x" * 32).open("k.tanaka", sealed) is None
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert SEALER.open("k.tanaka", flipped) is None


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="secret key"):
        TotpSealer(b"")
