"""Reference tables for the synthetic operator of area 06: real 関西 municipalities and town names.

Faker's ja_JP address parts describe the Kanto region, so the places of a 関西 operator come from this
small table instead; names come from Faker's ja_JP name pairs plus a few common 関西 surnames. Only the
places are real; every person, contract and company built from them is invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Town:
    """A town (町・大字) and how many 丁目 it has; 0 means lot numbers (番地) instead of 丁目/番/号."""

    name: str
    chome: int


@dataclass(frozen=True, slots=True)
class Municipality:
    prefecture: str
    name: str
    phone_prefix: str  # 市外局番; the local part fills the national number to 10 digits
    urban: bool  # apartments and high-voltage customers are denser in cities
    towns: tuple[Town, ...]


def _towns(spec: str) -> tuple[Town, ...]:
    """`梅田:3 曽根崎:2 …` → towns; a compact notation keeps the table readable."""
    towns = []
    for item in spec.split():
        name, _, chome = item.partition(":")
        towns.append(Town(name, int(chome or "0")))
    return tuple(towns)


MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality(
        "大阪府", "大阪市北区", "06", True, _towns("梅田:3 曽根崎:2 天神橋:8 中之島:6 西天満:6 豊崎:6")
    ),
    Municipality(
        "大阪府", "大阪市中央区", "06", True, _towns("本町:4 難波:5 谷町:9 北浜:4 島之内:2 森ノ宮中央:2")
    ),
    Municipality("大阪府", "大阪市天王寺区", "06", True, _towns("上本町:9 玉造本町:1 生玉町:0 細工谷:2")),
    Municipality("大阪府", "大阪市阿倍野区", "06", True, _towns("阿倍野筋:5 松崎町:4 昭和町:5 王子町:4")),
    Municipality("大阪府", "大阪市淀川区", "06", True, _towns("西中島:7 十三本町:3 三国本町:3 木川東:4")),
    Municipality("大阪府", "大阪市住吉区", "06", True, _towns("長居:4 我孫子:5 帝塚山中:5 苅田:10")),
    Municipality("大阪府", "大阪市城東区", "06", True, _towns("今福東:3 関目:6 鴫野西:5 蒲生:4")),
    Municipality(
        "大阪府", "堺市堺区", "072", True, _towns("中瓦町:2 向陵中町:6 三国ヶ丘御幸通:0 熊野町東:4")
    ),
    Municipality(
        "大阪府", "堺市北区", "072", True, _towns("中百舌鳥町:6 新金岡町:5 金岡町:0 百舌鳥赤畑町:5")
    ),
    Municipality("大阪府", "豊中市", "06", True, _towns("新千里東町:3 庄内東町:6 服部元町:2 曽根東町:6")),
    Municipality("大阪府", "吹田市", "06", True, _towns("江坂町:5 千里山西:6 山田東:4 豊津町:0")),
    Municipality("大阪府", "高槻市", "072", True, _towns("城北町:2 芥川町:4 富田町:6 高槻町:0")),
    Municipality("大阪府", "枚方市", "072", True, _towns("岡東町:0 香里ケ丘:12 楠葉花園町:0 大垣内町:3")),
    Municipality("大阪府", "東大阪市", "06", True, _towns("長堂:3 小阪:3 永和:3 荒本北:3")),
    Municipality("大阪府", "八尾市", "072", True, _towns("本町:7 山本町:6 光町:2 東本町:5")),
    Municipality("大阪府", "茨木市", "072", True, _towns("駅前:4 春日:5 双葉町:0 中穂積:3")),
    Municipality("大阪府", "岸和田市", "072", False, _towns("宮本町:0 土生町:0 春木若松町:0 上野町東:0")),
    Municipality(
        "京都府",
        "京都市中京区",
        "075",
        True,
        _towns("河原町通三条上る下丸屋町:0 烏丸通御池下る虎屋町:0 西ノ京職司町:0 壬生賀陽御所町:0"),
    ),
    Municipality(
        "京都府",
        "京都市左京区",
        "075",
        True,
        _towns("田中里ノ内町:0 下鴨松原町:0 岩倉長谷町:0 北白川別当町:0"),
    ),
    Municipality(
        "京都府",
        "京都市伏見区",
        "075",
        True,
        _towns("深草西浦町:8 桃山町泰長老:0 向島二ノ丸町:0 醍醐高畑町:0"),
    ),
    Municipality("京都府", "宇治市", "0774", False, _towns("宇治妙楽:0 小倉町:0 木幡:0 広野町:0")),
    Municipality("京都府", "長岡京市", "075", False, _towns("天神:5 長岡:3 開田:4 神足:2")),
    Municipality("京都府", "亀岡市", "0771", False, _towns("篠町篠:0 追分町:0 余部町:0 河原林町:0")),
    Municipality("兵庫県", "神戸市中央区", "078", True, _towns("三宮町:3 元町通:7 磯上通:8 加納町:6")),
    Municipality("兵庫県", "神戸市灘区", "078", True, _towns("篠原南町:7 六甲台町:0 桜口町:5 水道筋:6")),
    Municipality("兵庫県", "神戸市東灘区", "078", True, _towns("住吉本町:3 岡本:9 魚崎北町:7 御影中町:8")),
    Municipality("兵庫県", "西宮市", "0798", True, _towns("甲子園町:0 北口町:0 今津曙町:0 高松町:0")),
    Municipality("兵庫県", "尼崎市", "06", True, _towns("昭和通:9 塚口本町:8 南塚口町:8 潮江:5")),
    Municipality("兵庫県", "姫路市", "079", False, _towns("駅前町:0 白浜町:0 北条口:5 城東町:0")),
    Municipality(
        "兵庫県", "明石市", "078", False, _towns("大明石町:2 魚住町錦が丘:4 二見町東二見:0 松が丘:5")
    ),
    Municipality("兵庫県", "宝塚市", "0797", False, _towns("栄町:3 逆瀬川:2 山本東:3 安倉中:6")),
    Municipality("奈良県", "奈良市", "0742", False, _towns("三条本町:0 西大寺東町:2 学園北:2 登美ヶ丘:6")),
    Municipality("奈良県", "橿原市", "0744", False, _towns("八木町:2 内膳町:5 久米町:0 四条町:0")),
    Municipality("奈良県", "生駒市", "0743", False, _towns("元町:2 東生駒:4 谷田町:0 小明町:0")),
    Municipality("奈良県", "大和郡山市", "0743", False, _towns("北郡山町:0 筒井町:0 九条町:0 小泉町:0")),
    Municipality("滋賀県", "大津市", "077", False, _towns("浜大津:5 におの浜:4 瀬田:3 坂本:8")),
    Municipality("滋賀県", "草津市", "077", False, _towns("南草津:5 野路:9 西大路町:0 矢橋町:0")),
    Municipality("滋賀県", "彦根市", "0749", False, _towns("京町:3 旭町:0 古沢町:0 大東町:0")),
    Municipality("滋賀県", "長浜市", "0749", False, _towns("元浜町:0 八幡東町:0 高田町:0 勝町:0")),
    Municipality(
        "滋賀県", "蒲生郡日野町", "0748", False, _towns("大字松尾:0 大字大窪:0 大字村井:0 大字河原:0")
    ),
    Municipality("和歌山県", "和歌山市", "073", False, _towns("本町:9 小松原通:5 十一番丁:0 友田町:5")),
    Municipality("和歌山県", "田辺市", "0739", False, _towns("湊:0 新屋敷町:0 東陽:0 上屋敷:3")),
    Municipality("和歌山県", "橋本市", "0736", False, _towns("東家:6 古佐田:4 市脇:5 高野口町名古曽:0")),
    Municipality(
        "和歌山県", "有田郡湯浅町", "0737", False, _towns("大字湯浅:0 大字栖原:0 大字別所:0 大字田:0")
    ),
)

# Common 関西 surnames beyond Faker's ja_JP list, with their readings: (漢字, カナ).
EXTRA_SURNAMES: tuple[tuple[str, str], ...] = (
    ("辻", "ツジ"),
    ("西村", "ニシムラ"),
    ("北村", "キタムラ"),
    ("藤原", "フジワラ"),
    ("岡田", "オカダ"),
    ("前田", "マエダ"),
    ("上田", "ウエダ"),
    ("大西", "オオニシ"),
    ("谷口", "タニグチ"),
    ("奥村", "オクムラ"),
    ("松田", "マツダ"),
    ("吉川", "ヨシカワ"),
    ("中西", "ナカニシ"),
    ("西田", "ニシダ"),
    ("堀", "ホリ"),
    ("森本", "モリモト"),
    ("小西", "コニシ"),
    ("東", "ヒガシ"),
    ("坂口", "サカグチ"),
    ("岸本", "キシモト"),
    ("奥田", "オクダ"),
    ("浅野", "アサノ"),
    ("宮本", "ミヤモト"),
    ("杉本", "スギモト"),
    ("植田", "ウエダ"),
    ("髙田", "タカダ"),
    ("山﨑", "ヤマサキ"),
    ("濵田", "ハマダ"),
    ("阪本", "サカモト"),
    ("楠", "クスノキ"),
)

# Corporate customers (high voltage, purchase points): stem and trade, each with its reading.
CORPORATE_STEMS: tuple[tuple[str, str], ...] = (
    ("浪速", "ナニワ"),
    ("淀屋", "ヨドヤ"),
    ("摂津", "セッツ"),
    ("河内", "カワチ"),
    ("泉州", "センシュウ"),
    ("洛東", "ラクトウ"),
    ("丹波", "タンバ"),
    ("播磨", "ハリマ"),
    ("淡路", "アワジ"),
    ("大和", "ヤマト"),
    ("近江", "オウミ"),
    ("紀州", "キシュウ"),
    ("湖南", "コナン"),
    ("須磨", "スマ"),
    ("生駒", "イコマ"),
)
CORPORATE_TRADES: tuple[tuple[str, str], ...] = (
    ("精工", "セイコウ"),
    ("化成", "カセイ"),
    ("食品", "ショクヒン"),
    ("製作所", "セイサクショ"),
    ("物流", "ブツリュウ"),
    ("商事", "ショウジ"),
    ("冷蔵", "レイゾウ"),
    ("ソーラー", "ソーラー"),
    ("エナジー", "エナジー"),
    ("病院", "ビョウイン"),
    ("不動産", "フドウサン"),
    ("鋳造", "チュウゾウ"),
)
BUILDING_NAMES: tuple[str, ...] = (
    "コーポ",
    "ハイツ",
    "メゾン",
    "レジデンス",
    "パークハイム",
    "グランドメゾン",
    "ロイヤルハイツ",
    "サンハイツ",
    "シャトー",
    "プレサンス",
    "エステムコート",
    "ワコーレ",
)
