"""Actors without the NER (jirei.extract.actors): organisation kinds, governments that act in seed
cases, the document's municipality read from a real newsletter's title page (also in kana), and
inheritance by the cases that name none."""

from __future__ import annotations

import re

import pytest

from jirei.extract import actors
from jirei.extract import places as places_mod
from jirei.extract.ingest import ingest
from jirei.records import Case


@pytest.mark.parametrize("name, kind", [
    ("日立製作所", "company"), ("京丸園株式会社", "company"), ("イトーヨーカドー", "other"),
    ("伊勢市", "government"), ("鳥取県", "government"), ("横須賀教育委員会", "government"),
    ("中小企業庁", "government"), ("法務省", "government"), ("旭川市工芸センター", "government"),
    ("豊岡商工会議所", "chamber"), ("北陸経済連合会", "chamber"),
    ("群馬大学", "school"), ("香川高専", "school"), ("おといねっぷ美術工芸高等学校", "school"), ("おと高", "school"),
    ("NPO法人MEGURU", "association"), ("土里夢の会", "association"), ("名寄地区保護会", "association"),
    ("のと共栄信用金庫", "cooperative"), ("JA全農", "cooperative"), ("JAあいち", "cooperative"),
    ("宗谷本線マイレール意識向上事業実行委員会", "other"), ("JAL", "other"),
])
def test_organisation_kind(name, kind):
    assert actors.organisation_kind(name) == kind


def test_a_name_without_a_head_takes_its_kind_from_the_ner_label():
    # `JAL` is an airline, not a JA cooperative; the NER's label says company
    assert actors.organisation_kind("JAL", "Company") == "company"
    assert actors.organisation_kind("コマツ", "Company") == "company"


def test_kana_name_reads_as_its_municipality():
    p = actors.municipality_by_reading("おといねっぷ")
    assert (p["prefecture"], p["municipality"], p["code"]) == ("北海道", "音威子府村", "014702")
    assert actors.municipality_by_reading("ありがとう") is None


def _case(text: str, start: int, end: int, title: str) -> Case:
    return Case(doc="t", doc_id="t", ordinal=1, title=title, text=text[start:end], span=(start, end), page=None,
                section=[], layout="gold")


def _places(case: Case) -> list[dict]:
    return [dict(p, span=[case.span[0] + p["span"][0], case.span[0] + p["span"][1]])
            for p in places_mod.find_places(case.text)]


def _seed_case(seeds_dir, stem: str, heading_start: str) -> Case:
    text = ingest(next(seeds_dir.glob(f"{stem}_*.txt"))).text
    start = text.index(heading_start)
    end = text.find("\n\n", text.find("\n", start) + 1)
    end = len(text) if end < 0 else end
    for marker in ("\n①", "\n②", "\n③", "\n④", "\n⑤", "\n⑥", "\n⑦", "\n【"):  # up to the next entry
        nxt = text.find(marker, start + len(heading_start))
        if 0 < nxt < end or end == len(text):
            end = nxt if nxt > 0 else end
    title = text[start:text.find("\n", start)]
    return _case(text, start, max(end, text.find("\n", start)), title)


def test_governments_that_act_in_seed_text(seeds_dir):
    case = _seed_case(seeds_dir, "001", "② 清水建設")  # 川場村が設立した…, 世田谷区との協定に基づいて
    govs = actors.government_actors(case, _places(case), [])
    assert {g["name"]: g["role"] for g in govs} == {"川場村": "partner", "世田谷区": "partner"}
    for g in govs:
        assert case.text[g["span"][0] - case.span[0]:g["span"][1] - case.span[0]] == g["text"]
    case = _seed_case(seeds_dir, "003", "【まちづくり】三重県伊勢市")
    assert [(g["name"], g["role"], g["source"]) for g in actors.government_actors(case, _places(case), [])] == [
        ("伊勢市", "lead", "heading")]
    case = _seed_case(seeds_dir, "001", "③ 三菱商事")  # …を進める福島県会津若松市において: where, not who
    assert actors.government_actors(case, _places(case), []) == []


def test_newsletter_title_page_states_the_village_and_cases_inherit_it(pdfs_dir):
    doc = ingest(pdfs_dir / "otoineppu_kouhou_2023-09.pdf")
    start = doc.text.index("夏の新たな風物詩")
    end = doc.text.index("楽しまれていました。", start) + len("楽しまれていました。")
    case = _case(doc.text, start, end, "夏の新たな風物詩!")
    ctx = actors.document_context(doc.text, [case])
    assert ctx.place["municipality"] == "音威子府村" and ctx.own_publication
    assert doc.text[ctx.place["span"][0]:ctx.place["span"][1]] == ctx.place["text"]
    places, organisations = actors.inherit(case, ctx, _places(case), [])
    assert [(p["municipality"], p["source"]) for p in places] == [("音威子府村", "document")]
    assert [(o["name"], o["role"], o["kind"], o["source"]) for o in organisations] == [
        ("音威子府村", "lead", "government", "document")]
    # a case that names its own municipality keeps it alone
    own = [{"prefecture": "北海道", "municipality": "札幌市", "level": "municipality", "span": [start, start + 2]}]
    assert actors.inherit(case, ctx, own, [])[0] == own


def test_the_publisher_speaking_of_itself_keeps_its_place_beside_other_towns(pdfs_dir):
    """The 2021-04 newsletter's tourist-train article names the towns on the line (和寒町, 中川町) and
    says what the village does (`本村では…特産品を販売する予定です`): the village is a place of the case
    too. Only a municipality of the document's own kind speaks so (a 村 says 本村)."""
    from jirei.extract import rule_switches

    doc = ingest(pdfs_dir / "otoineppu_kouhou_2021-04.pdf")
    start = doc.text.index("観光列車「花たびそうや」号が")
    end = doc.text.index("販売する予定です。", start) + len("販売する予定です。")
    case = _case(doc.text, start, end, "観光列車「花たびそうや」号が、")
    ctx = actors.document_context(doc.text, [case])
    assert ctx.place["municipality"] == "音威子府村"
    places, _ = actors.inherit(case, ctx, _places(case), [])
    assert {"和寒町", "中川町"} <= {p.get("municipality") for p in places}
    (own,) = [p for p in places if p.get("municipality") == "音威子府村"]
    assert own["source"] == "document" and doc.text[own["span"][0]:own["span"][1]] == own["text"]
    with rule_switches.switched_off(["places.self_reference"]):
        assert "音威子府村" not in {p.get("municipality") for p in actors.inherit(case, ctx, _places(case), [])[0]}
    assert actors._refers_to_itself("当町としても支援します", {"municipality": "東川町"})
    assert not actors._refers_to_itself("本村では", {"municipality": "東川町"})
    assert not actors._refers_to_itself("本町1丁目の店舗、本町の商店街", {"municipality": "東川町"})


def test_a_seed_casebook_states_no_place_for_its_cases(seeds_dir):
    text = ingest(next(seeds_dir.glob("001_*.txt"))).text
    first = text.index("① 日立製作所")
    ctx = actors.document_context(text, [_case(text, first, first + 200, "① 日立製作所")])
    assert ctx.place is None and not ctx.own_publication


def test_the_title_page_outside_the_articles_names_the_publisher(pdfs_dir):
    """The 2025-08 newsletter's first page holds its title (`広報 おといねっぷ`, in kana) and its first
    articles; one of them names 旭川 twice (`第22回旭川展in旭川市民文化センター`). The village the
    title page states before the first article is the document's place, not the town an article names."""
    from jirei.extract import rule_switches

    doc = ingest(pdfs_dir / "otoineppu_kouhou_2025-08.pdf")
    start = doc.text.index("大人も全員本気な村民運動会")
    show = doc.text.index("今年も開催!2025木の手づくり展")
    end = doc.text.index("大盛況となりました。", show) + len("大盛況となりました。")
    cases = [_case(doc.text, start, show, "大人も全員本気な村民運動会!"), _case(doc.text, show, end, "今年も開催!2025木の手づくり展")]
    ctx = actors.document_context(doc.text, cases)
    assert (ctx.place["municipality"], ctx.place["text"]) == ("音威子府村", "おといねっぷ") and ctx.own_publication
    assert ctx.place["span"][1] <= start
    # (the village the whole document speaks of is the other way there: both off, the article's town)
    with rule_switches.switched_off(["places.title_page_first", "places.self_named_municipality"]):
        assert actors.document_context(doc.text, cases).place["municipality"] == "旭川市"


def test_a_chambers_own_report_states_its_city_for_cases_naming_none(pdfs_dir):
    """A local chamber's report (its title page names the chamber, no municipality): an article that
    names no place gets the chamber's city, stated where the title page names the chamber. The
    article is the 2023-09 newsletter's `夏の新たな風物詩!`, which names no place."""
    from jirei.extract import rule_switches

    news = ingest(pdfs_dir / "otoineppu_kouhou_2023-09.pdf").text
    start = news.index("夏の新たな風物詩")
    article = news[start:news.index("楽しまれていました。", start) + len("楽しまれていました。")]
    title = "会議所だより\n豊岡商工会議所\n2025年10月号\n\n"
    text = title + article
    case = _case(text, len(title), len(text), "夏の新たな風物詩!")
    ctx = actors.document_context(text, [case])
    assert ctx.place is None and ctx.chamber["name"] == "豊岡商工会議所"
    places, organisations = actors.inherit(case, ctx, _places(case), [])
    assert [(p["municipality"], p["source"], p["implied_by"]) for p in places] == [("豊岡市", "document", "chamber")]
    assert text[places[0]["span"][0]:places[0]["span"][1]] == "豊岡商工会議所"
    assert [(o["name"], o["role"], o["source"]) for o in organisations] == [("豊岡商工会議所", "lead", "document")]
    # a case naming its own municipality keeps it alone
    own = [{"prefecture": "北海道", "municipality": "札幌市", "level": "municipality", "span": [len(title), len(title) + 2]}]
    assert actors.inherit(case, ctx, own, [])[0] == own
    with rule_switches.switched_off(["places.chamber_report"]):
        assert actors.inherit(case, ctx, _places(case), [])[0] == []


def test_place_lines_of_case_sheets_state_the_place_of_the_cases_below(pdfs_dir):
    """Two case sheets, each opened by a line naming one municipality with its prefecture
    (`兵庫県 豊岡市`, `塩尻市(長野県)`), each holding an article that names no place (the 2025-08
    newsletter's 村民運動会 and 八幡神社祭): each article gets its sheet's municipality, stated at the line."""
    from jirei.extract import rule_switches

    news = ingest(pdfs_dir / "otoineppu_kouhou_2025-08.pdf").text
    a = news.index("大人も全員本気な村民運動会")
    b = news.index("わっしょい!わっしょい!八幡神社祭")
    first, second = news[a:b].strip(), news[b:news.index("お祭りを楽しみました。", b) + len("お祭りを楽しみました。")]
    text = f"事例集\n\n■兵庫県 豊岡市\n{first}\n\n■塩尻市(長野県)\n{second}\n"
    s1, s2 = text.index(first), text.index(second)
    cases = [_case(text, s1, s1 + len(first), "大人も全員本気な村民運動会!"),
             _case(text, s2, s2 + len(second), "わっしょい!わっしょい!八幡神社祭")]
    ctx = actors.document_context(text, cases)
    got = []
    for case in cases:
        places, organisations = actors.inherit(case, ctx, _places(case), [])
        (p,) = places
        got.append((p["municipality"], p["source"], text[p["span"][0]:p["span"][1]], organisations[0]["name"]))
    assert got == [("豊岡市", "document", "兵庫県 豊岡市", "豊岡市"), ("塩尻市", "document", "塩尻市", "塩尻市")]
    with rule_switches.switched_off(["places.place_title_lines"]):
        assert actors.document_context(text, cases).sections == []


def test_a_newsletter_named_after_its_municipality_in_kanji(pdfs_dir):
    """`広報東川`, `市報松本`: the newsletter's name is its municipality's, with or without 市町村, written
    once. The 2023-09 newsletter's title page with its kana title written in kanji (`広報 音威子府`)."""
    doc = ingest(pdfs_dir / "otoineppu_kouhou_2023-09.pdf")
    start = doc.text.index("夏の新たな風物詩")
    end = doc.text.index("楽しまれていました。", start) + len("楽しまれていました。")
    title_page = re.sub(r"おといねっぷ", "", doc.text[:start]).replace("広報", "広報 音威子府", 1)
    text = title_page + doc.text[start:end]
    case = _case(text, len(title_page), len(text), "夏の新たな風物詩!")
    ctx = actors.document_context(text, [case])
    assert (ctx.place["municipality"], ctx.place["text"]) == ("音威子府村", "音威子府") and ctx.own_publication
    assert text[ctx.place["span"][0]:ctx.place["span"][1]] == "音威子府"
    assert actors._newsletter_name_municipality("市報松本 No.123")["municipality"] == "松本市"
    # a name two municipalities share decides nothing
    assert actors._newsletter_name_municipality("町報 中川") is None and actors._newsletter_name_municipality("広報 府中") is None


def test_a_prefectures_list_signed_by_its_department(pdfs_dir):
    """A prefecture's list of programmes, its title page signed once by a department
    (`長野県企画振興部`): its programmes naming no place get the prefecture, which leads them.
    The programme is the 2025-08 newsletter's `大人も全員本気な村民運動会!`, which names no place."""
    from jirei.extract import rule_switches

    news = ingest(pdfs_dir / "otoineppu_kouhou_2025-08.pdf").text
    a = news.index("大人も全員本気な村民運動会")
    article = news[a:news.index("わっしょい!わっしょい!八幡神社祭")].strip()
    title = "令和7年度 地域づくりの取組一覧\n長野県企画振興部地域振興課\n\n"
    text = title + article
    case = _case(text, len(title), len(text), "大人も全員本気な村民運動会!")
    ctx = actors.document_context(text, [case])
    assert (ctx.place["prefecture"], ctx.place["level"], ctx.own_publication) == ("長野県", "prefecture", True)
    places, organisations = actors.inherit(case, ctx, _places(case), [])
    assert [(p["prefecture"], p["municipality"], p["source"]) for p in places] == [("長野県", None, "document")]
    assert (organisations[0]["name"], organisations[0]["role"], organisations[0]["kind"]) == ("長野県", "lead", "government")
    with rule_switches.switched_off(["places.government_office"]):
        assert actors.document_context(text, [case]).place is None


def test_cases_that_name_no_organisation_under_their_governments_heading(seeds_dir):
    """003's case sheets: `【愛知県名古屋市】STATION Ai` names no organisation, so the municipality
    its heading opens with runs it; `こうべ女性就業・活躍促進プロジェクト(兵庫県神戸市)` is named
    after its designated city in kana; `シェア金沢(石川県金沢市)` only says where it is."""
    from jirei.extract.entities import extract_entities
    from jirei.extract.segment import segment
    from jirei.pipeline import RulesOnly

    doc = ingest(next(seeds_dir.glob("003_*.txt")))
    cases = segment(doc)
    extract_entities(doc, cases, RulesOnly())
    leads = {c.title: [(o["name"], o["kind"], o["source"]) for o in c.organisations if o["role"] == "lead"]
             for c in cases}
    assert leads["【愛知県名古屋市】STATION Ai"] == [("名古屋市", "government", "heading")]
    assert leads["【茨城県つくば市】スーパーサイエンスシティ"] == [("つくば市", "government", "heading")]
    assert leads["こうべ女性就業・活躍促進プロジェクト(兵庫県神戸市)"] == [("神戸市", "government", "heading")]
    assert ("金沢市", "government", "heading") not in leads["シェア金沢(石川県金沢市)"]
    lead = next(o for c in cases if c.title.startswith("【愛知県名古屋市】") for o in c.organisations)
    assert doc.text[lead["span"][0]:lead["span"][1]] == lead["text"] == "愛知県名古屋市"


def test_designated_cities_read_by_their_wards():
    """The postal data names 神戸市 only by its wards; a programme named in kana still finds it."""
    assert actors.municipality_by_reading("こうべ")["municipality"] == "神戸市"
    assert actors.municipality_by_reading("さっぽろ")["municipality"] == "札幌市"
    assert actors.municipality_by_reading("なごや") is None  # 名古屋市 or 北名古屋市


def test_a_newsletters_articles_without_its_title_page_still_state_its_village(pdfs_dir, seeds_dir):
    """The 2025-08 newsletter's articles alone (title pages blanked, as a text report of them
    arrives): the village named most and written of in its own words (`村民`, `来村`) is the
    document's place and publisher; the first article's town (`第22回旭川展`) is not. A casebook
    naming many towns states none."""
    from jirei.extract import rule_switches
    from jirei.extract.segment import segment

    doc = ingest(pdfs_dir / "otoineppu_kouhou_2025-08.pdf")
    cases = segment(doc)
    first = cases[0].span[0]
    text = re.sub(r"[^\n]", " ", doc.text[:first]) + doc.text[first:]
    ctx = actors.document_context(text, cases)
    assert (ctx.place["prefecture"], ctx.place["municipality"]) == ("北海道", "音威子府村")
    assert text[ctx.place["span"][0]:ctx.place["span"][1]] == ctx.place["text"]
    assert ctx.own_publication
    with rule_switches.switched_off(["places.self_named_municipality"]):
        assert actors.document_context(text, cases).place["municipality"] == "旭川市"
    for stem in ("001", "004"):
        seed = ingest(next(seeds_dir.glob(f"{stem}_*.txt")))
        assert actors.document_context(seed.text, segment(seed)).place is None


def test_a_quoted_name_runs_the_case_but_a_quoted_idea_does_not():
    """`「工房そなも」によるもの` names who made it (a newsletter's real sentence); 001's
    `「交流の産業化」による地域の魅力` and `「農福連携」による` name an idea, not an organisation."""
    from jirei.records import Case

    def names(text):
        case = Case("t.txt", "t", 1, text[:10], text, (0, len(text)), None, [], "text")
        return [o["name"] for o in actors._pattern_names(case, actors.DocumentContext())]

    assert "工房そなも" in names("この作品は「工房そなも」によるものです。")
    assert names("「交流の産業化」による地域の魅力・ブランド力向上を図る。") == []
    assert names("「農福連携」による障害者の社会参画を進める。") == []


def test_a_title_opening_with_its_prefecture_and_municipality_names_the_government_that_runs_it(tmp_path):
    """A lecture's or case sheet's title line opening with the place, unbracketed
    (`北海道東川町 写真の町による移住促進`): a case naming no organisation is that municipality's."""
    from jirei.extract.entities import extract_entities
    from jirei.extract.segment import segment
    from jirei.pipeline import RulesOnly

    path = tmp_path / "deck.md"
    path.write_text(
        "# 地域の取組事例\n\n"
        "## 北海道東川町 写真の町による移住促進\n\n写真文化を核に、国際写真フェスティバルを30年以上続けている。"
        "移住者向けの住宅を町が整備した。\n\n"
        "## 徳島県神山町サテライトオフィスの誘致\n\n光ファイバー網を生かし、IT企業のサテライトオフィスを誘致した。\n\n"
        "## 島根県海士町 高校魅力化プロジェクト\n\n島外から生徒を募る「島留学」を2008年に始めた。\n", encoding="utf-8")
    doc = ingest(path)
    cases = segment(doc)
    extract_entities(doc, cases, RulesOnly())
    leads = {c.title: [(o["name"], o["kind"], o["source"]) for o in c.organisations if o["role"] == "lead"]
             for c in cases}
    assert leads["北海道東川町 写真の町による移住促進"] == [("東川町", "government", "heading")]
    assert leads["徳島県神山町サテライトオフィスの誘致"] == [("神山町", "government", "heading")]
    # the place opening a word built on it (`町民`) is no title line's place
    assert actors._PLACE_FIRST_HEADING.match("北海道東川町写真の町")["first"] == "北海道東川町"
    assert actors._PLACE_FIRST_HEADING.match("長野県大町市の取組")["first"] == "長野県大町市"
    assert actors._PLACE_FIRST_HEADING.match("北海道東川町民の写真活動") is None
    assert actors._PLACE_FIRST_HEADING.match("東川町 写真の町") is None  # no prefecture: not this rule's


def test_a_facility_named_only_as_the_venue_is_no_partner():
    """`第22回旭川展in旭川市民文化センター` (a newsletter's real line), `…センターにて開催`: the hall
    hosts, it takes no part; named as taking part (`…センターと連携し`), it is a partner. A town
    where something is done (`千葉県館山市において、自治体…と連携し`) keeps its role."""
    from jirei.extract import rule_switches
    from jirei.records import Case

    def roles(text, orgs):
        case = Case("t.txt", "t", 1, text[:10], text, (0, len(text)), None, [], "text")
        found = [{"name": name, "text": name, "source": "ner", "kind": kind,
                  "span": [text.index(name), text.index(name) + len(name)]} for name, kind in orgs]
        actors.assign_roles(case, found)
        return {o["name"]: o["role"] for o in found}

    line = "6.28(土)・29(日)第22回旭川展in旭川市民文化センター\nおと高や村のPR機会として、今年も上記の日程で開催しました!"
    assert roles(line, [("旭川市民文化センター", "government")]) == {"旭川市民文化センター": "mentioned"}
    held = "木工作品展を北斗町民センターにて開催し、北斗木材株式会社が作品を提供しました。"
    assert roles(held, [("北斗町民センター", "other"), ("北斗木材株式会社", "company")]) == {
        "北斗町民センター": "mentioned", "北斗木材株式会社": "partner"}
    partner = "北斗町民センターと連携し、親子向けの木工教室を開催しました。"
    assert roles(partner, [("北斗町民センター", "other")]) == {"北斗町民センター": "partner"}
    with rule_switches.switched_off(["organisations.venue"]):
        assert roles(held, [("北斗町民センター", "other")]) == {"北斗町民センター": "partner"}


def test_a_kana_school_abbreviation_in_brackets_or_cut_by_a_column_is_a_partner():
    """A newsletter's real lines: `道内唯一の村立高校(おと高)` names the school in brackets after what
    it is; `おと高に` / `よる学校間連携授業` is one sentence cut by a column's blank line at a particle."""
    from jirei.extract import rule_switches
    from jirei.records import Case

    def partners(text):
        case = Case("t.txt", "t", 1, text[:10], text, (0, len(text)), None, [], "text")
        found = actors._pattern_names(case, actors.DocumentContext())
        actors.assign_roles(case, found)
        return {o["name"]: o["role"] for o in found}

    agreement = ("この連携により、公設試験研究機関から、道内唯一の村立高校(おと高)の人材育成に関する支援を"
                 "いただきます。")
    assert partners(agreement) == {"おと高": "partner"}
    lesson = "今年も幼児センター・小中学校・おと高に\n\nよる学校間連携授業として、キーホルダー制作を行いました。"
    assert partners(lesson) == {"おと高": "partner"}
    with rule_switches.switched_off(["organisations.kana_school_abbreviation"]):
        assert partners(agreement) == {}
    with rule_switches.switched_off(["sentences.run_on_after_particle"]):
        assert partners(lesson) == {"おと高": "mentioned"}
    # a headline over a blank line still ends its sentence
    assert actors._sentence_at("木工技術継承普及に向けた連携協定締結\n\n7月7日(月)、協定を締結しました。", 30)[0] > 0
