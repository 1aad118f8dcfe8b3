"""Addresses (check 05): block numbers in every written form, ヶ forms, a missing prefecture; near misses."""

from __future__ import annotations

import pytest

from shadan.domain.address import AddressKey, addresses_match, compare_addresses, normalise_address
from shadan.domain.japanese import Likeness

UMEDA = "大阪府大阪市北区梅田一丁目2番地3号"
ALIKE = [
    (UMEDA, "大阪市北区梅田1-2-3"),
    (UMEDA, "大阪府大阪市北区梅田1-2-3"),
    (UMEDA, "大阪市北区梅田１丁目２－３"),
    (UMEDA, "大阪府 大阪市北区 梅田1丁目2番3号"),
    (UMEDA, "大阪市北区梅田1ー2ー3"),  # the long-vowel mark typed as a hyphen
    (UMEDA, "大阪市北区梅田1‐2‐3"),
    (UMEDA, "大阪市北区梅田1−2−3"),
    (UMEDA, "大阪市北区梅田一丁目二番三号"),
    (UMEDA, "大阪市北区梅田1丁目2-3"),
    (UMEDA, "大阪市北区梅田1丁目2番地の3"),
    ("東京都千代田区霞が関一丁目3番1号", "千代田区霞ヶ関1-3-1"),
    ("東京都千代田区霞が関一丁目3番1号", "東京都千代田区霞ケ関1-3-1"),
    ("東京都千代田区霞が関一丁目3番1号", "千代田区霞ガ関1丁目3番1号"),
    ("東京都千代田区霞が関一丁目3番1号", "千代田区霞ヵ関1-3-1"),
    ("茨城県龍ケ崎市3710番地", "茨城県龍ヶ崎市3710"),
    ("奈良県生駒郡斑鳩町法隆寺山内1番地の1", "生駒郡斑鳩町法隆寺山内1-1"),
    ("大阪府堺市堺区南瓦町二十三番", "堺市堺区南瓦町23"),
    ("大阪府堺市堺区南瓦町3番1号", "堺市堺区南瓦町三番一号"),
    ("北海道札幌市中央区北一条西二丁目", "札幌市中央区北1条西2丁目"),
    ("宮城県仙台市青葉区一番町二丁目十番二十三号", "仙台市青葉区一番町2-10-23"),
    ("京都府京都市中京区寺町通御池上る上本能寺前町488番地", "京都市中京区寺町通御池上る上本能寺前町488"),
    ("兵庫県神戸市中央区加納町六丁目5番1号", "神戸市中央区加納町6－5－1"),
    ("岩手県宮古市第二地割1-2", "岩手県宮古市第2地割1-2"),
    ("大阪市北区梅田1-2-3", "大阪市北区梅田1-2-3"),
]
DIFFERENT = [
    ("大阪市北区梅田1-2-3", "大阪市北区梅田1-2-4"),
    ("大阪市北区梅田1-2-3", "大阪市北区梅田2-2-3"),
    ("大阪市北区梅田1-2-3", "大阪市北区梅田1-23"),
    ("大阪市北区梅田1-2-3", "大阪市北区茶屋町1-2-3"),
    (UMEDA, "大阪市北区梅田一丁目2番地4号"),
    (UMEDA, "大阪市北区梅田二丁目2番地3号"),
    ("大阪府大阪市北区梅田1-2-3", "京都府大阪市北区梅田1-2-3"),  # both give a prefecture: they must agree
    ("大阪府堺市堺区南瓦町23", "大阪府堺市堺区南瓦町32"),
    ("北海道札幌市中央区北一条西二丁目", "北海道札幌市中央区北二条西一丁目"),
    ("東京都千代田区霞が関1-3-1", "東京都千代田区霞が関1-3-10"),
    ("大阪府大阪市北区梅田1-2-3", "大阪府大阪市都島区梅田1-2-3"),
]


@pytest.mark.parametrize(("registered", "applied"), ALIKE)
def test_formatting_variants_match(registered: str, applied: str) -> None:
    assert addresses_match(registered, applied)
    assert addresses_match(applied, registered)


@pytest.mark.parametrize(("registered", "applied"), DIFFERENT)
def test_near_misses_do_not_match(registered: str, applied: str) -> None:
    assert compare_addresses(registered, applied) is Likeness.DIFFERENT


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (UMEDA, AddressKey("大阪府", "大阪市北区梅田1-2-3")),
        ("大阪市北区梅田1-2-3", AddressKey(None, "大阪市北区梅田1-2-3")),
        ("東京都千代田区霞が関一丁目3番1号", AddressKey("東京都", "千代田区霞ケ関1-3-1")),
        ("神奈川県横浜市西区みなとみらい二丁目3番1号", AddressKey("神奈川県", "横浜市西区みなとみらい2-3-1")),
        # Kanji numerals inside names stay: 一宮, 八王子, 四日市, 三ケ日, 千代田 are not numbers.
        ("愛知県一宮市本町二丁目5番6号", AddressKey("愛知県", "一宮市本町2-5-6")),
        ("東京都八王子市元本郷町三丁目24番1号", AddressKey("東京都", "八王子市元本郷町3-24-1")),
        ("三重県四日市市諏訪町1番5号", AddressKey("三重県", "四日市市諏訪町1-5")),
        ("静岡県浜松市浜名区三ヶ日町", AddressKey("静岡県", "浜松市浜名区三ケ日町")),
        ("東京都千代田区千代田1-1", AddressKey("東京都", "千代田区千代田1-1")),
        # A town named with 番 keeps it: 番 is a block marker only before a number or at the end.
        ("宮城県仙台市青葉区一番町1丁目", AddressKey("宮城県", "仙台市青葉区1番町1丁目")),
    ],
)
def test_normal_form(raw: str, key: AddressKey) -> None:
    assert normalise_address(raw) == key


def test_missing_prefecture_is_accepted_only_when_the_rest_matches() -> None:
    assert compare_addresses("大阪府大阪市北区梅田1-2-3", "大阪市北区梅田1-2-3") is Likeness.ALIKE
    assert compare_addresses("大阪府大阪市北区梅田1-2-3", "大阪市北区梅田1-2-9") is Likeness.DIFFERENT


@pytest.mark.parametrize(
    ("registered", "applied", "expected"),
    [
        ("大阪市北区梅田1-2-3", "大阪市北区 梅田 1-2-3", Likeness.SAME),
        ("大阪市北区梅田1-2-3", "大阪市北区梅田１－２－３", Likeness.SAME),  # NFKC: even --strict agrees
        ("大阪市北区梅田1-2-3", "大阪市北区梅田1丁目2番3号", Likeness.ALIKE),
        ("大阪府大阪市北区梅田1-2-3", "大阪市北区梅田1-2-3", Likeness.ALIKE),
        ("千代田区霞が関1-3-1", "千代田区霞ヶ関1-3-1", Likeness.ALIKE),
    ],
)
def test_strict_comparison_is_nfkc_and_spaces_only(registered: str, applied: str, expected: Likeness) -> None:
    assert compare_addresses(registered, applied) is expected
    assert addresses_match(registered, applied, strict=True) is (expected is Likeness.SAME)


def test_malformed_kanji_numerals_are_kept_on_both_sides() -> None:
    assert normalise_address("梅田十十番") == AddressKey(None, "梅田十十番")
