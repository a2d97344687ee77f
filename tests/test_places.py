"""Place extraction (jirei.extract.places): gazetteer, JIS X 0402 codes, the rule families, and
the entity gold's places for seeds 001, 003 and 004. Snippets are quoted from the shared seeds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jirei.extract.places import (
    check_digit,
    find_places,
    jis_code,
    lookup_municipality,
    municipality_index,
    place_implied_by_organisation,
    place_key,
    places_implied_by_organisation,
    score_places,
)

REPO = Path(__file__).resolve().parents[1]


def keys(text: str) -> list[tuple]:
    return [place_key(p) for p in find_places(text)]


def one(text: str) -> dict:
    found = find_places(text)
    assert len(found) == 1, found
    return found[0]


# --- codes and gazetteer ----------------------------------------------------------------------


def test_check_digit():
    assert check_digit("21217") == "2"
    assert jis_code("21217") == "212172"  # 飛騨市
    assert jis_code("21000") == "210005"  # 岐阜県
    assert jis_code("13101") == "131016"  # 千代田区
    with pytest.raises(ValueError):
        check_digit("2121")


def test_index_prefectures_and_designated_cities():
    idx = municipality_index()
    assert len(idx.prefectures) == 47
    assert idx.prefecture_code("岐阜県") == "210005"
    kawasaki = [m for m in idx.by_name["川崎市"] if m.prefecture == "神奈川県"][0]
    assert kawasaki.code5 == "14130" and kawasaki.kind == "designated"
    osaka = idx.by_name["大阪市"][0]
    assert osaka.code5 == "27100"  # wards 27102..27128: not first-4-digits + 0
    assert [m.prefecture for m in idx.by_name["府中市"]] == ["東京都", "広島県"]
    assert idx.by_name["世田谷区"][0].code == "131121"


def test_lookup_municipality():
    assert lookup_municipality("飛騨市") == [
        {"prefecture": "岐阜県", "municipality": "飛騨市", "code": "212172", "level": "municipality"}
    ]
    assert [d["prefecture"] for d in lookup_municipality("府中市")] == ["東京都", "広島県"]
    assert lookup_municipality("府中市", prefecture="広島県")[0]["code"] == "342084"
    assert lookup_municipality("勇払郡安平町")[0]["municipality"] == "安平町"
    ward = lookup_municipality("横浜市中区")[0]
    assert (ward["municipality"], ward["ward"]) == ("横浜市", "中区")
    assert lookup_municipality("浜北市")[0]["municipality"] == "浜松市"
    assert lookup_municipality("長野県")[0]["level"] == "prefecture"


# --- rule families, on snippets from the seeds -------------------------------------------------


def test_prefecture_and_municipality():
    p = one("出光興産では、2020年5月より千葉県館山市において、自治体や地元の特約販売店と連携し")
    assert (p["prefecture"], p["municipality"], p["code"], p["level"]) == ("千葉県", "館山市", "122050", "municipality")
    assert p["text"] == "千葉県館山市" and p["source"] == "rule"
    assert p["span"] == [16, 22]


def test_list_sharing_prefecture():  # 001 四国銀行
    assert keys("四国銀行:ファンド設立を通じた「観光周遊活性化モデル」の構築(高知県南国市、香美市、香南市)") == [
        ("高知県", "南国市"), ("高知県", "香美市"), ("高知県", "香南市")]
    assert keys("【文化】福井県小浜市・若狭町 海と都をつなぐ若狭の往来文化遺産群") == [
        ("福井県", "小浜市"), ("福井県", "若狭町")]


def test_new_prefecture_resets_list():  # 003 こどもの農山漁村体験
    assert keys("こどもの農山漁村体験(山形県飯豊町) ・東京都杉並区・飯豊町の官民が連携し") == [
        ("山形県", "飯豊町"), ("東京都", "杉並区")]


def test_hoka_and_nado_add_nothing():
    assert keys("カーシェアリングの実証事業(岐阜県飛騨市・高山市ほか)") == [("岐阜県", "飛騨市"), ("岐阜県", "高山市")]
    assert keys("社会変革推進財団による 地域活性化(沖縄県浦添市等)") == [("沖縄県", "浦添市")]
    assert keys("関西サイバーセキュリティ・ ネットワーク(大阪府等)") == [("大阪府", None)]


def test_villages_towns_and_gun():
    assert keys("清水建設では、群馬県川場村が設立した「株式会社ウッドビレジ川場」に出資・協力し") == [("群馬県", "川場村")]
    assert keys("北海道勇払郡安平町で実施") == [("北海道", "安平町")]
    assert keys("【交通×産業】北海道上士幌町 自動運転バス") == [("北海道", "上士幌町")]


def test_wards():
    assert keys("発電による電気の販売を行っている。世田谷区との協定に基づいて") == [("東京都", "世田谷区")]
    p = one("横浜市中区で実施した")
    assert (p["municipality"], p["code"], p["ward"], p["ward_code"]) == ("横浜市", "141003", "中区", "141046")
    amb = one("中央区で実施")  # Tokyo's 中央区 or a designated city's ward
    assert amb["ambiguous"] and amb["prefecture"] is None
    assert keys("東京都中央区で実施") == [("東京都", "中央区")]


def test_bare_unique_municipality():
    assert keys("本拠地の浦安市はもとより、全国の支店・営業所のある地方自治体へ") == [("千葉県", "浦安市")]
    assert keys("諏訪市に本社を置く") == [("長野県", "諏訪市")]


def test_ambiguous_municipality_flagged_not_guessed():
    p = one("府中市と連携した事業")
    assert p["ambiguous"] is True and p["prefecture"] is None and p["code"] is None
    assert {c["prefecture"] for c in p["candidates"]} == {"東京都", "広島県"}
    assert keys("東京都府中市と連携") == [("東京都", "府中市")]
    assert keys("府中市で実施。広島県の支援を受けた。") == [("広島県", "府中市"), ("広島県", None)]


def test_short_names():  # 001 山口フィナンシャルグループ, 004 神戸/気仙沼
    text = "営業エリアの山口・広島・北九州の中堅・中小企業のDX化を進め、生産性向上を支援している。また、広島市内の店舗を改装し"
    assert keys(text) == [("山口県", None), ("広島県", None), ("福岡県", "北九州市"), ("広島県", "広島市")]
    assert keys("起業家支援に理解と実績がある、神戸に愛着を持つ経営者による") == [("兵庫県", "神戸市")]
    assert keys("インドネシア人など外国人材の貢献で気仙沼の水産業は発展。") == [("宮城県", "気仙沼市")]
    # a short name after a place of its prefecture adds nothing (003 浅野撚糸)
    assert keys("浅野撚糸(福島県双葉町) ・復興に貢献するため、社長ゆかりの地 である福島に工場を新設") == [("福島県", "双葉町")]
    assert keys("創業者の地元の宮崎へ本社機能の 一部を東京から移転") == [("宮崎県", None), ("東京都", None)]
    assert keys("東京以外で 12,000 人を超える社員を現地採用しており") == []


def test_chamber_lists_name_cities():  # 004 関西発スタートアップの推進
    text = "京都や神戸商工会議所とも広域で連携 大学発スタートアップ事業展開支援プログラム (大阪・京都・神戸UCI) - 大阪・京都・神戸の3商工会議所は、京阪神間の大企業"
    assert keys(text) == [("京都府", "京都市"), ("大阪府", "大阪市"), ("兵庫県", "神戸市"), ("region", "京阪神")]


def test_regions():
    p = one("伊藤忠商事:ベンチャー企業との連携プラットフォームの構築による経営者支援(関西地域)")
    assert p["level"] == "region" and p["region"] == "関西" and "和歌山県" in p["prefectures"]
    assert keys("セイアでは、2005年より四国4県で展開するプロ野球独立リーグ「四国アイランドリーグ」") == [("region", "四国")]
    assert keys("同社の社員だけではなく、地元自治体である宮城県と連携して、東北 6 県や新潟県の他企業の社員も受け入れ") == [
        ("宮城県", None), ("region", "東北"), ("新潟県", None)]
    assert keys("地域の人事部(北海道道東地域)") == [("region", "道東")]
    assert keys("中部・北陸9県の地図を龍の姿に重ね連携") == [("region", "中部・北陸")]
    assert keys("「三遠南信」のブランドを高め") == [("region", "三遠南信")]
    assert keys("首都圏へ直送し、瀬戸内や九州地方、中国地方と道北") == [
        ("region", "首都圏"), ("region", "瀬戸内"), ("region", "九州"), ("region", "中国"), ("region", "道北")]
    # 連携中枢都市圏: a region named after its central city
    assert keys("青森県八戸市を連携中枢都市として8市町村で構成する「八戸圏域連携中枢都市圏」では") == [
        ("青森県", "八戸市"), ("region", "八戸圏域")]
    # a region named inside an organisation is not a place
    assert keys("東北電力では、関西経済同友会に呼びかけ、北陸産学連携懇談会を開催") == []


def test_island():
    p = one("三菱重工業では、鹿児島県種子島においてロケット関連事業に携わっており")
    assert (p["prefecture"], p["municipality"], p["level"], p["island"]) == ("鹿児島県", None, "prefecture", "種子島")
    p = one("佐渡島で実施")
    assert (p["prefecture"], p["municipality"], p["island"]) == ("新潟県", "佐渡市", "佐渡島")


def test_district():
    p = one("交流プラザ「8base(エイトベース)」を東京日比谷に開業し")
    assert (p["prefecture"], p["municipality"], p["implied_by"], p["text"]) == ("東京都", "千代田区", "district", "東京日比谷")
    p = one("インキュベーション施設等都市間連携 (長野県茅野市-東京都虎ノ門地区)".split("-")[1])
    assert (p["municipality"], p["text"]) == ("港区", "東京都虎ノ門地区")


def test_abroad():
    text = "作られた製品は海外で高評価。フランスに支店を開設。パリ展示会「メゾンエオブジェ」"
    assert keys(text) == [("abroad", "フランス"), ("abroad", "パリ")]
    assert keys("2024年、ベトナムハノイ工科大学と「日本語教育講座に関する基本合意」を締結") == [
        ("abroad", "ベトナム"), ("abroad", "ハノイ")]
    # nationalities, cuisine, 海外/世界 are not places
    assert keys("インドネシア人など外国人材。インドネシア料理レストランを設置。世界の廃棄物問題") == []
    assert keys("中国からの観光客。中国人観光客。") == [("abroad", "中国")]


def test_merged_municipality():
    p = one("浜北市(当時)での取組")
    assert (p["prefecture"], p["municipality"], p["former"], p["code"]) == ("静岡県", "浜松市", "浜北市", "221309")


def test_prefecture_as_qualifier_adds_nothing():
    # 001 三井物産: 大阪府 only qualifies the park; 001 ヴェオリア: 熊本県 qualifies the river area
    assert keys("大阪府の万博記念公園で自動運転車両を活用した") == []
    assert keys("熊本県球磨川流域の人吉市に給水車を派遣し") == [("熊本県", "人吉市")]
    assert keys("(愛知県東部、静岡県西部、長野県南部の商工会議所)") == []
    assert keys("和歌山県の南紀白浜エリアにて") == [("region", "南紀白浜")]


def test_places_inside_organisation_names_are_not_places():
    assert keys("長野県立大学と連携。横浜銀行。豊岡商工会議所が主催。三重大学大学院。") == []
    assert keys("「豊岡市ワークイノベーション推進会議」に参画") == []
    text = "横浜オープンカンパニーフェア(横浜商工会議所) 市内に本部を置く10大学をはじめ、横浜市・大学都市パートナーシップ協議会に参加する30大学等と連携"
    found = find_places(text)  # the city comes from 「市内」 and the chamber's name, not from the council's name
    assert [(place_key(p), p["text"], p["implied_by"]) for p in found] == [(("神奈川県", "横浜市"), "市", "context")]
    assert keys("山口フィナンシャルグループでは、市と連携し") == []  # a company's name gives no context


def test_bare_ken_and_shi_take_the_context():
    assert keys("松山大学(愛媛県松山市) ・私立大学と県が、DX人材の育成 に関する連携協定を締結") == [
        ("愛媛県", "松山市"), ("愛媛県", None)]
    assert keys("地域総がかりでの京知産創の森の推進(京都商工会議所) 府、市、商工会議所等産業界が連携し") == [
        ("京都府", None), ("京都府", "京都市")]
    assert keys("市町村と都道府県が連携。各市で実施。6市2町。市民の参加。") == []


def test_non_place_words():
    assert keys("国内市場と海外市場の拡大を図り、市民の参加を促す。市場(国内・国外)に最適化") == []
    assert keys("日本の地方創生の取組。全国の自治体と連携。日本各地に製造拠点") == []
    assert keys("政府中心の施策") == []
    assert keys("松本社長と上田氏が講演した。西村・三重大教授、森川・東大教授と連携") == []
    assert keys("千曲川の鋼矢板仮締切堤防工事。博多湾・鹿児島湾に移植") == []
    assert keys("山口 朝子 氏") == []
    assert keys("津市と大津市の連携") == [("三重県", "津市"), ("滋賀県", "大津市")]


def test_dedup_and_order():
    text = "日立製作所:データ駆動型都市プランニング実証事業(愛媛県松山市) 日立製作所では、愛媛県松山市において"
    found = find_places(text)
    assert [place_key(p) for p in found] == [("愛媛県", "松山市")]
    assert found[0]["span"][0] == text.index("愛媛県")


# --- organisations ----------------------------------------------------------------------------


def test_place_implied_by_chamber():
    p = place_implied_by_organisation("豊岡商工会議所")
    assert (p["prefecture"], p["municipality"], p["code"], p["level"], p["implied_by"]) == (
        "兵庫県", "豊岡市", "282090", "municipality", "chamber")
    tokyo = place_implied_by_organisation("東京商工会議所")
    assert (tokyo["prefecture"], tokyo["municipality"], tokyo["level"]) == ("東京都", None, "prefecture")
    assert place_implied_by_organisation("CA札幌商工会議所付属専門学校")["municipality"] == "札幌市"
    assert place_implied_by_organisation("大曲商工会議所")["municipality"] == "大仙市"  # former 大曲市
    assert place_implied_by_organisation("箱根町商工会")["municipality"] == "箱根町"
    both = places_implied_by_organisation("小田原箱根商工会議所")
    assert [p["municipality"] for p in both] == ["小田原市", "箱根町"]
    assert place_implied_by_organisation("小田原箱根商工会議所")["also"][0]["municipality"] == "箱根町"
    assert place_implied_by_organisation("横浜市役所")["municipality"] == "横浜市"
    for name in ("伊達商工会議所", "能登鹿北商工会", "各地商工会議所", "日本商工会議所", "横浜銀行", "鳥取県下商工会議所"):
        assert place_implied_by_organisation(name) is None, name


# --- the entity gold ----------------------------------------------------------------------------

_CHAMBER = re.compile(r"([^\s()()、・,]+?(商工会議所|商工会))")


def _gold_cases(seeds: Path):
    from jirei.evaluation.segmentation import gold_spans, load_gold
    from jirei.extract.ingest import ingest

    for path in sorted((REPO / "corpus" / "entities").glob("*.json")):
        ent = json.loads(path.read_text(encoding="utf-8"))
        seg = load_gold(REPO / "corpus" / "segmentation" / path.name)
        doc = ingest(seeds / seg.doc)
        for case, (s, e) in zip(ent["cases"], gold_spans(doc.text, seg)):
            yield case, doc.text[s:e]


def test_gold_places_f1(seeds_dir: Path):
    tp = fp = fn = 0
    for case, text in _gold_cases(seeds_dir):
        pred = find_places(text)
        lines = [l for l in text.split("\n") if l.strip()]
        head = case["heading"] + ("\n" + lines[1] if len(lines) > 1 and lines[1].startswith("####") else "")
        m = _CHAMBER.search(head)  # the entity stage applies this to the case's lead chamber
        if m:
            seen = {place_key(p) for p in pred}
            pred += [p for p in places_implied_by_organisation(m.group(1)) if place_key(p) not in seen]
        a, b, c = score_places(pred, case["places"])
        tp, fp, fn = tp + a, fp + b, fn + c
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.97, (tp, fp, fn)


def test_score_places():
    gold = [{"prefecture": "長野県", "municipality": None, "level": "prefecture"},
            {"region": "関西", "prefectures": [], "level": "region"},
            {"text": "パリ", "level": "abroad"}]
    pred = find_places("長野県と関西、パリ、岐阜県飛騨市")
    assert score_places(pred, gold) == (3, 1, 0)


# --- comparisons, event venues (sentences of the real PDFs) ------------------------------------------


def test_places_named_only_to_compare_or_exclude_are_not_places():
    # the village strategy: 札幌 and 東京 are what the village is compared with, not where it acts
    assert keys("同時に、利便性の高い札幌や東京等の都市にはない魅力を高め、音威子府村への人の流れを生み出す") == [
        ("北海道", "音威子府村")]
    assert keys("東京と比べて家賃が安い") == [] and keys("大阪に比べ") == [] and keys("東京以外で 12,000 人") == []
    # a list of where exhibitions are held stays a list of places
    assert keys("旭川・札幌・東京で展覧会を開催") == [("北海道", "旭川市"), ("北海道", "札幌市"), ("東京都", None)]
    from jirei.extract import rule_switches
    with rule_switches.switched_off(["places.comparison"]):
        assert keys("札幌や東京等の都市にはない魅力") == [("北海道", "札幌市"), ("東京都", None)]


def test_a_numbered_event_named_by_its_city_is_held_there():
    # the 2025-08 newsletter: the school's exhibitions in 旭川 and 札幌
    text = "6.28(土)・29(日)第22回旭川展in旭川市民文化センター\n7.25(金)~27(日)第46回札幌展inかでる2.7"
    assert keys(text) == [("北海道", "旭川市"), ("北海道", "札幌市")]
    # a place inside a title is still no place: `in` only ends the name before it
    assert keys("産業フェアin信州") == [] and keys("「No Maps旭川」に登壇してきました") == []
    from jirei.extract import rule_switches
    with rule_switches.switched_off(["places.event_venue"]):
        assert keys(text) == []


def test_a_prefecture_spaced_or_bracketed_with_its_municipality_only_qualifies_it():
    # the place lines of case sheets and slides; a prefecture written on its own stays
    assert keys("北海道 東川町") == [("北海道", "東川町")]
    assert keys("■兵庫県 豊岡市") == [("兵庫県", "豊岡市")]
    assert keys("東川町(北海道)") == [("北海道", "東川町")]
    assert keys("兵庫県 神戸市と大阪府 大阪市") == [("兵庫県", "神戸市"), ("大阪府", "大阪市")]
    assert keys("東京都 杉並区・飯豊町") == [("東京都", "杉並区"), ("山形県", "飯豊町")]  # 003: a new prefecture resets
    assert keys("神戸市(大阪府)") == [("兵庫県", "神戸市"), ("大阪府", None)]  # not its prefecture: two places
    assert keys("長野県 の魅力") == [("長野県", None)]
