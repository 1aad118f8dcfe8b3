"""Names (check 04): the variants people and systems write alike, and the near misses that stay different."""

from __future__ import annotations

import pytest

from shadan.domain.japanese import Likeness, variant_pairs
from shadan.domain.names import compare_names, names_match, normalise_name

ALIKE_KANA = [
    ("タカハシ イチロウ", "たかはし いちろう"),
    ("タカハシ イチロウ", "ﾀｶﾊｼ ｲﾁﾛｳ"),
    ("タカハシ イチロウ", "タカハシ\u3000イチロウ"),
    ("タカハシ イチロウ", "タカハシイチロウ"),
    ("タカハシ イチロウ", " タカハシ\tイチロウ "),
    ("ヴィラ サトウ", "ゔぃら さとう"),
    ("サーヴィス", "サ－ヴィス"),  # full-width hyphen-minus typed for the long vowel
    ("サーヴィス", "サ-ヴィス"),
    ("サーヴィス", "サ―ヴィス"),  # U+2015 horizontal bar
    ("サーヴィス", "サ‐ヴィス"),  # U+2010 hyphen
    ("サーヴィス", "サｰヴィス"),  # half-width long vowel
    ("サーヴィス", "サ−ヴィス"),  # U+2212 minus
    ("カブシキガイシャ ヤマダシヨウジ", "ｶ)ﾔﾏﾀﾞｼﾖｳｼﾞ"),
    ("カブシキガイシャ ヤマダシヨウジ", "ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞｼﾖｳｼﾞ"),
    ("カブシキガイシャ ヤマダシヨウジ", "かぶしきかいしゃ やまだしようじ"),
    ("ヤマダシヨウジ カブシキガイシャ", "ﾔﾏﾀﾞｼﾖｳｼﾞ(ｶ"),
    ("ヤマダ(カ)シヨウジ", "ヤマダカブシキガイシャシヨウジ"),
    ("ユウゲンガイシャ タナカコウムテン", "ﾕ)ﾀﾅｶｺｳﾑﾃﾝ"),
    ("ゴウドウガイシャ エービーシー", "ﾄﾞ)ｴｰﾋﾞｰｼｰ"),
]
ALIKE_KANJI = [
    ("高橋 一郎", "髙橋 一郎"),
    ("高橋 一郎", "髙橋一郎"),
    ("山崎 花子", "山﨑 花子"),
    ("山崎 花子", "山嵜 花子"),
    ("渡辺 健", "渡邊 健"),
    ("渡辺 健", "渡邉 健"),
    ("渡邊 健", "渡邉 健"),
    ("浜田 翔", "濵田 翔"),
    ("浜田 翔", "濱田 翔"),
    ("斎藤 茂", "齋藤 茂"),
    ("斉藤 茂", "齊藤 茂"),
    ("徳川 慶", "德川 慶"),
    ("国分 太一", "國分 太一"),
    ("沢田 研", "澤田 研"),
    ("吉田 優", "𠮷田 優"),
    ("柳田 悠", "栁田 悠"),
    ("桜井 翔", "櫻井 翔"),
    ("広瀬 すず", "廣瀨 すず"),
    ("竜也", "龍也"),
    ("島田 紳", "嶋田 紳"),
    ("富田 靖", "冨田 靖"),
    ("隆", "\uf9dc"),  # a CJK compatibility ideograph: NFKC folds it
    ("株式会社山田商事", "(株)山田商事"),
    ("株式会社山田商事", "㈱山田商事"),
    ("株式会社山田商事", "（株）山田商事"),
    ("山田商事株式会社", "山田商事㈱"),
    ("有限会社田中工務店", "㈲田中工務店"),
    ("有限会社田中工務店", "(有)田中工務店"),
    ("合同会社ABC", "(同)ＡＢＣ"),
    ("山田 はな", "山田 ハナ"),
]
DIFFERENT = [
    ("高橋 一郎", "高畑 一郎"),
    ("髙橋 一郎", "高畑 一郎"),
    ("斉藤 茂", "斎藤 茂"),  # セイ and サイ: different characters, different names
    ("齊藤 茂", "齋藤 茂"),
    ("山崎 花子", "山埼 花子"),
    ("山田 太郎", "山田 次郎"),
    ("タカハシ イチロウ", "タカバシ イチロウ"),
    ("ヤマダ タロウ", "ヤマダ ハナコ"),
    ("サトウ", "サトー"),  # ウ is a letter, not a long-vowel mark
    ("キヤノン", "キャノン"),  # small kana are not folded
    ("株式会社山田商事", "有限会社山田商事"),
    ("株式会社山田商事", "山田商事株式会社"),  # 前株 and 後株 are different company names
    ("カブシキガイシャ ヤマダ", "ユウゲンガイシャ ヤマダ"),
    ("高橋一郎", "高橋一朗"),
    ("ABC", "abc"),  # case is not folded in names
]


@pytest.mark.parametrize(("registered", "applied"), ALIKE_KANA + ALIKE_KANJI)
def test_formatting_variants_match(registered: str, applied: str) -> None:
    assert names_match(registered, applied)
    assert names_match(applied, registered)


@pytest.mark.parametrize(("registered", "applied"), DIFFERENT)
def test_near_misses_do_not_match(registered: str, applied: str) -> None:
    assert not names_match(registered, applied)
    assert compare_names(registered, applied) is Likeness.DIFFERENT


@pytest.mark.parametrize(
    ("registered", "applied", "expected"),
    [
        ("タカハシ イチロウ", "タカハシイチロウ", Likeness.SAME),  # spaces only: even --strict agrees
        ("タカハシ イチロウ", "ﾀｶﾊｼ ｲﾁﾛｳ", Likeness.SAME),  # NFKC only
        ("タカハシ イチロウ", "たかはし いちろう", Likeness.ALIKE),
        ("高橋 一郎", "髙橋 一郎", Likeness.ALIKE),
        ("株式会社山田商事", "㈱山田商事", Likeness.ALIKE),
        ("高橋 一郎", "高畑 一郎", Likeness.DIFFERENT),
    ],
)
def test_strict_comparison_is_nfkc_and_spaces_only(registered: str, applied: str, expected: Likeness) -> None:
    assert compare_names(registered, applied) is expected
    assert names_match(registered, applied, strict=True) is (expected is Likeness.SAME)


def test_normal_form_is_katakana_standard_kanji_and_one_company_token() -> None:
    assert normalise_name("ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞ") == "(株)ヤマダ"
    assert normalise_name("㈱　髙﨑商店") == "(株)高崎商店"
    assert normalise_name("さ－びす") == "サービス"


def test_variant_table_folds_to_characters_that_are_not_variants_themselves() -> None:
    pairs = variant_pairs()
    assert pairs["髙"] == "高"
    assert pairs["﨑"] == "崎"
    assert not set(pairs.values()) & set(pairs), "a standard form must not be folded again"
    assert "斉" not in pairs
    assert "斎" not in pairs
