"""Cases listed as table rows (`jirei.extract.table_rows`): a markdown list of programmes, a
tab-separated export and a Word table become one case per row with the organisation and place
their columns declare; tables that are not case lists (a KPI table inside a case, a list of names
without descriptions) are left to the segmenter."""

from __future__ import annotations

from pathlib import Path

import pytest

from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

PROGRAMMES = (
    "# 令和5年度 地域づくり活動事例一覧\n\n"
    "県内で取り組まれている地域づくり活動を紹介します。\n\n"
    "| No. | 団体名 | 所在地 | 取組の概要 |\n"
    "|---|---|---|---|\n"
    "| 1 | NPO法人まちづくり鳥取 | 鳥取市 | 空き家を改修してシェアオフィスとし、移住者の起業を支援している。2022年度は5件の起業につながった。 |\n"
    "| 2 | 株式会社ひかり農園 | 倉吉市 | 耕作放棄地で果樹を育て、地元高校生のインターンシップを受け入れている。 |\n"
    "| 3 | 米子商工会議所 | 米子市 | 事業承継のマッチング窓口を設け、後継者不在の中小企業と若手経営者をつないでいる。 |\n"
    "| 4 | 智頭町観光協会 | 智頭町 | 森林セラピーのツアーを企画し、都市部からの交流人口を増やしている。 |\n\n"
    "問合せ先:鳥取県地域づくり推進課 0857-26-7000\n"
)


def _check_programmes(cases, doc):
    assert [c.layout for c in cases] == ["table-rows"] * 4
    assert [c.title for c in cases] == ["NPO法人まちづくり鳥取", "株式会社ひかり農園", "米子商工会議所", "智頭町観光協会"]
    assert [c.ordinal for c in cases] == [1, 2, 3, 4]
    for c in cases:
        assert doc.text[c.span[0] : c.span[1]] == c.text
        org = c.declared["organisation"]
        assert doc.text[org["span"][0] : org["span"][1]] == org["value"] == c.title
        assert c.declared["summary"]["value"].endswith("。") or "。" in c.declared["summary"]["value"]
    assert cases[2].declared["place"]["value"] == "米子市"
    assert not any("問合せ先" in c.text or "県内で取り組まれている" in c.text for c in cases)


def test_markdown_programme_list_gives_one_case_per_row(tmp_path: Path):
    path = tmp_path / "programmes.md"
    path.write_text(PROGRAMMES, encoding="utf-8")
    doc = ingest(path)
    _check_programmes(segment(doc), doc)


def test_case_rows_sit_under_the_headings_above_their_table(tmp_path: Path):
    # a casebook page with a table per theme: each row's section is the page's title and its
    # table's theme, as the entries of a casebook with headed cases carry theirs
    text = (
        "# 地域協創の取組事例\n\n## 観光・交流\n\n"
        "| 地域 | 実施主体 | 取組名 | 概要 |\n|---|---|---|---|\n"
        "| 北海道東川町 | 東川町商工会 | 写真の町ひがしかわ | 写真を核にした町づくりで国際写真フェスティバルを開き、移住者を増やしている。 |\n"
        "| 長野県茅野市 | 茅野商工会議所 | 縄文ブランド推進事業 | 縄文文化を地域ブランドとして、体験プログラムと土産品開発を進めている。 |\n\n"
        "## 産業・雇用\n\n"
        "| 地域 | 実施主体 | 取組名 | 概要 |\n|---|---|---|---|\n"
        "| 石川県小松市 | 小松商工会議所 | 地元企業インターンシップ | 地元の高校生と大学生に市内企業での就業体験を用意し、地元就職を促している。 |\n"
        "| 福岡県北九州市 | 北九州商工会議所 | ものづくり人材育成塾 | 製造業の若手技能者に、熟練技能者が技術を伝える講座を開いている。 |\n"
    )
    path = tmp_path / "casebook.md"
    path.write_text(text, encoding="utf-8")
    cases = segment(ingest(path))
    assert [(c.title, c.section) for c in cases] == [
        ("写真の町ひがしかわ", ["地域協創の取組事例", "観光・交流"]),
        ("縄文ブランド推進事業", ["地域協創の取組事例", "観光・交流"]),
        ("地元企業インターンシップ", ["地域協創の取組事例", "産業・雇用"]),
        ("ものづくり人材育成塾", ["地域協創の取組事例", "産業・雇用"]),
    ]


def test_a_casebook_pages_lead_in_and_contact_are_no_cases(tmp_path: Path):
    # a casebook page exported as markdown: one sentence introducing the table, the table, a rule
    # and the contact line; only the rows are cases
    text = ("# 地域課題解決の取組事例集\n\n本ページでは、県内の事業者による地域課題解決の取組を紹介します。\n\n"
            "| 事業者名 | 所在地 | 取組名 | 取組概要 |\n|---|---|---|---|\n"
            "| 株式会社みなと交通 | 伊勢市 | デマンド交通「のってこ」 | 中山間地域で予約型の乗合交通を運行し、高齢者の通院や買物を支えている。 |\n"
            "| NPO法人まちの縁側 | 津市 | こども食堂ネットワーク | 市内12か所のこども食堂を結び、食材の融通や学習支援を行っている。 |\n"
            "| 鳥羽商工会議所 | 鳥羽市 | 海女文化の観光商品化 | 海女小屋体験を旅行商品として造成し、インバウンド客の受入れを進めている。 |\n\n"
            "---\n\nお問い合わせ先：県地域連携部 地域支援課\n")
    path = tmp_path / "casebook.md"
    path.write_text(text, encoding="utf-8")
    cases = segment(ingest(path))
    assert [c.title for c in cases] == ["デマンド交通「のってこ」", "こども食堂ネットワーク", "海女文化の観光商品化"]
    assert [c.declared["organisation"]["value"] for c in cases] == ["株式会社みなと交通", "NPO法人まちの縁側", "鳥羽商工会議所"]


def test_tab_separated_list_gives_one_case_per_row(tmp_path: Path):
    rows = [line.strip("| ").split(" | ") for line in PROGRAMMES.splitlines() if line.startswith("| ") and "---" not in line]
    path = tmp_path / "programmes.txt"
    path.write_text("活動事例一覧\n\n" + "\n".join("\t".join(r) for r in rows) + "\n", encoding="utf-8")
    doc = ingest(path)
    _check_programmes(segment(doc), doc)


def test_word_table_of_programmes_gives_one_case_per_row(tmp_path: Path):
    docx = pytest.importorskip("docx")
    rows = [line.strip("| ").split(" | ") for line in PROGRAMMES.splitlines() if line.startswith("| ") and "---" not in line]
    d = docx.Document()
    d.add_heading("令和5年度 地域づくり活動事例一覧", level=1)
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    path = tmp_path / "programmes.docx"
    d.save(path)
    doc = ingest(path)
    _check_programmes(segment(doc), doc)


def test_case_rows_carry_their_declared_organisation_and_place(tmp_path: Path):
    from jirei.extract.entities import extract_entities
    from jirei.pipeline import RulesOnly

    path = tmp_path / "programmes.md"
    path.write_text(PROGRAMMES, encoding="utf-8")
    doc = ingest(path)
    cases = segment(doc)
    extract_entities(doc, cases, RulesOnly())
    chamber = cases[2]
    assert [(o["name"], o["role"], o["source"]) for o in chamber.organisations][:1] == [("米子商工会議所", "lead", "declared")]
    assert (chamber.places[0]["prefecture"], chamber.places[0]["municipality"]) == ("鳥取県", "米子市")
    # the chamber named in row 3 does not become the lead of row 4
    assert [o["name"] for o in cases[3].organisations if o["role"] == "lead"] == ["智頭町観光協会"]


GOVERNMENT_PROGRAMMES = (
    "# 地方創生の取組事例\n\n"
    "| 都道府県 | 市町村 | 事業名 | 概要 |\n"
    "|---|---|---|---|\n"
    "| 北海道 | 上士幌町 | 自動運転バスの定時運行 | 町内の移動手段を確保するため、2022年12月から自動運転バスの定時運行を開始した。 |\n"
    "| 鳥取県 | 鳥取県 | とっとり週1副社長 | 県内企業と都市部の副業人材をマッチングし、経営課題の解決を支援している。 |\n"
    "| 三重県 | 伊勢市 | 空き家を活用した移住促進 | 市が空き家バンクを運営し、移住希望者に住まいを紹介している。 |\n"
)


def test_a_list_of_municipal_programmes_names_each_municipality_as_its_actor(tmp_path: Path):
    """`都道府県 | 市町村 | 事業名 | 概要`: the title column is a form label, the municipality column a
    bare head; the municipality runs the programme (a government organisation) and is its place,
    the prefecture cell qualifying it (no prefecture entry of its own unless it stands alone)."""
    from jirei.extract.entities import extract_entities
    from jirei.pipeline import RulesOnly

    path = tmp_path / "programmes.md"
    path.write_text(GOVERNMENT_PROGRAMMES, encoding="utf-8")
    doc = ingest(path)
    cases = segment(doc)
    extract_entities(doc, cases, RulesOnly())
    assert [c.title for c in cases] == ["自動運転バスの定時運行", "とっとり週1副社長", "空き家を活用した移住促進"]
    leads = [[(o["name"], o["kind"], o["source"]) for o in c.organisations if o["role"] == "lead"] for c in cases]
    assert leads == [[("上士幌町", "government", "declared")], [("鳥取県", "government", "declared")],
                     [("伊勢市", "government", "declared")]]
    places = [[(p["prefecture"], p["municipality"]) for p in c.places] for c in cases]
    assert places == [[("北海道", "上士幌町")], [("鳥取県", None)], [("三重県", "伊勢市")]]


def test_tables_that_list_no_cases_stay_with_the_segmenter(tmp_path: Path):
    text = (
        "## ① 株式会社サンプル農園:耕作放棄地を活かした果樹栽培(静岡県浜松市)\n\n"
        "浜松市の耕作放棄地を借り受け、2021年から果樹栽培を始めた。収穫体験には年間3千人が訪れる。"
        "地元の高校と連携し、農業体験の授業も受け入れている。販路は市内の道の駅と直売所である。\n\n"
        "| 指標 | 2021年度 | 2022年度 |\n|---|---|---|\n| 来訪者数 | 1,200人 | 3,000人 |\n| 雇用 | 2人 | 5人 |\n\n"
        "## ② 鳥取大学:地域人材育成講座(鳥取県鳥取市)\n\n"
        "地元企業の社員を対象に、データ活用の講座を開いている。\n\n"
        "| 団体名 | 所在地 |\n|---|---|\n| 鳥取大学 | 鳥取市 |\n| 鳥取県 | 鳥取市 |\n"
    )
    path = tmp_path / "casebook.md"
    path.write_text(text, encoding="utf-8")
    cases = segment(ingest(path))
    assert len(cases) == 2 and not any(c.layout == "table-rows" for c in cases)
    assert "サンプル農園" in cases[0].title and "鳥取大学" in cases[1].title


def _programmes_html(kpi: bool = False) -> str:
    rows = [line.strip("|").split("|") for line in PROGRAMMES.splitlines() if line.startswith("| ") or line.startswith("| No")]
    cells = "".join(
        "<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{c.strip()}</{'th' if i == 0 else 'td'}>" for c in row) + "</tr>"
        for i, row in enumerate(rows)
    )
    kpi_table = (
        "<h2>① 株式会社サンプル農園:耕作放棄地を活かした果樹栽培(静岡県浜松市)</h2>"
        "<p>浜松市の耕作放棄地を借り受け、2021年から果樹栽培を始めた。収穫体験には年間3千人が訪れる。</p>"
        "<table><tr><th>指標</th><th>2021年度</th><th>2022年度</th></tr>"
        "<tr><td>来訪者数</td><td>1,200人</td><td>3,000人</td></tr><tr><td>雇用</td><td>2人</td><td>5人</td></tr></table>"
    ) if kpi else ""
    return (
        "<html><head><meta charset='utf-8'><style>body{font-family:'Noto Sans CJK JP';font-size:10pt}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #000;padding:3pt;vertical-align:top}"
        "td:last-child{width:45%}</style></head><body>"
        "<h1>令和5年度 地域づくり活動事例一覧</h1><p>県内で取り組まれている地域づくり活動を紹介します。</p>"
        f"<table>{cells}</table><p>問合せ先:鳥取県地域づくり推進課 0857-26-7000</p>{kpi_table}</body></html>"
    )


def test_a_ruled_table_in_a_pdf_gives_one_case_per_row(tmp_path: Path):
    from tests.pdf_fixtures import chromium_missing_reason, render_pdf

    if chromium_missing_reason():
        pytest.skip(chromium_missing_reason())
    pdf = render_pdf(_programmes_html(), tmp_path / "programmes.pdf")
    doc = ingest(pdf)
    # the table reaches the text as one `cell | cell` line per row, wrapped cells joined
    assert "| 1 | NPO法人まちづくり鳥取 | 鳥取市 | 空き家を改修して" not in doc.text
    assert "1 | NPO法人まちづくり鳥取 | 鳥取市 | 空き家を改修してシェアオフィスとし、移住者の起業を支援している。" in doc.text
    _check_programmes(segment(doc), doc)


def test_a_ruled_kpi_table_in_a_pdf_stays_in_its_case(tmp_path: Path):
    from tests.pdf_fixtures import chromium_missing_reason, render_pdf

    if chromium_missing_reason():
        pytest.skip(chromium_missing_reason())
    pdf = render_pdf(_programmes_html(kpi=True), tmp_path / "programmes-kpi.pdf")
    doc = ingest(pdf)
    assert "指標 | 2021年度" not in doc.text  # no organisation or title column: read as the page reads it
    cases = segment(doc)
    assert [c.title for c in cases if c.layout == "table-rows"] == [
        "NPO法人まちづくり鳥取", "株式会社ひかり農園", "米子商工会議所", "智頭町観光協会"]
    assert not any("来訪者数" in c.text or "サンプル農園" in c.text for c in cases if c.layout == "table-rows")
    assert "来訪者数 1,200人 3,000人" in doc.text


def test_a_ruled_table_over_several_pages_stays_one_list(tmp_path: Path):
    # a long programme list: Chromium prints the header row once, the rows run over three pages
    from tests.pdf_fixtures import chromium_missing_reason, render_pdf

    if chromium_missing_reason():
        pytest.skip(chromium_missing_reason())
    towns = ["鳥取市", "米子市", "倉吉市", "境港市", "智頭町", "八頭町", "湯梨浜町", "琴浦町", "北栄町", "大山町",
             "南部町", "伯耆町", "日南町", "日野町", "江府町", "岩美町", "若桜町", "三朝町"]
    rows = "".join(
        f"<tr><td>{i}</td><td>{t}まちづくり協議会</td><td>{t}</td><td>"
        + f"{t}の空き家を改修して交流拠点とし、移住者と地域住民が集う催しを毎月開いている。" * 3 + "</td></tr>"
        for i, t in enumerate(towns, start=1))
    html = (
        "<html><head><meta charset='utf-8'><style>body{font-family:'Noto Sans CJK JP';font-size:11pt}"
        "table{border-collapse:collapse;width:100%}td{border:1px solid #000;padding:4pt;vertical-align:top}"
        "tr{break-inside:avoid}</style></head><body><h1>地域づくり活動事例一覧</h1><table>"
        "<tr><td>No.</td><td>団体名</td><td>所在地</td><td>取組の概要</td></tr>" + rows + "</table></body></html>")
    doc = ingest(render_pdf(html, tmp_path / "long-list.pdf"))
    assert len(doc.pages) >= 3
    cases = segment(doc)
    assert [c.title for c in cases] == [f"{t}まちづくり協議会" for t in towns]
    assert {c.layout for c in cases} == {"table-rows"}
    assert cases[-1].declared["place"]["value"] == towns[-1]


@pytest.mark.parametrize("rules", ["none", "horizontal", "shaded header"])
def test_a_table_drawn_without_vertical_rules_gives_one_case_per_row(tmp_path: Path, rules: str):
    # a programme list set by alignment alone: no rules, rules between rows only, or a shaded header;
    # the summary column wraps over two or three lines
    from tests.pdf_fixtures import render_pdf_or_skip

    css = {"none": "th,td{border:none;padding:3pt;vertical-align:top}",
           "horizontal": "th,td{border:none;border-bottom:1px solid #000;padding:3pt;vertical-align:top}",
           "shaded header": "th,td{border:none;padding:3pt;vertical-align:top} tr:first-child{background:#ddd}"}[rules]
    html = _programmes_html().replace("th,td{border:1px solid #000;padding:3pt;vertical-align:top}", css)
    doc = ingest(render_pdf_or_skip(html, tmp_path / "programmes.pdf"))
    assert "1 | NPO法人まちづくり鳥取 | 鳥取市 | 空き家を改修してシェアオフィスとし、移住者の起業を支援している。" in doc.text
    _check_programmes(segment(doc), doc)


# A prefecture's list of its towns' programmes, headed with bare column names no form uses
# (`市町村` for who runs it, `事業` for its title).
TOWN_PROGRAMMES = (
    "# 移住・定住支援の取組(令和5年度)\n\n"
    "| 市町村 | 事業 | 内容 | 開始年度 |\n|:--|:--|:--|:--|\n"
    "| 中川町 | お試し暮らし住宅 | 移住希望者が最長1か月滞在できる住宅を用意し、仕事体験とあわせて提供する。 | 2019 |\n"
    "| 音威子府村 | 木工技術者の育成 | 美術工芸高校の卒業生が村内で木工の仕事を続けられるよう工房を貸し出す。 | 2021 |\n"
    "| 美深町 | 子育て世帯の家賃補助 | 町内に転入した子育て世帯に月2万円を最長3年補助する。 | 2020 |\n"
)
TOWN_TITLES = ["お試し暮らし住宅", "木工技術者の育成", "子育て世帯の家賃補助"]


def test_a_list_headed_with_bare_column_names_gives_one_case_per_row(tmp_path: Path):
    path = tmp_path / "towns.md"
    path.write_text(TOWN_PROGRAMMES, encoding="utf-8")
    doc = ingest(path)
    cases = segment(doc)
    assert [c.title for c in cases] == TOWN_TITLES
    assert [c.declared["organisation"]["value"] for c in cases] == ["中川町", "音威子府村", "美深町"]
    assert [c.declared["period"]["value"] for c in cases] == ["2019", "2021", "2020"]


def test_a_ruled_pdf_table_headed_with_bare_column_names_gives_one_case_per_row(tmp_path: Path):
    from tests.pdf_fixtures import render_pdf_or_skip, table_page_html

    rows = [line.strip("|").split("|") for line in TOWN_PROGRAMMES.splitlines() if line.startswith("| ")]
    cells = "".join("<tr>" + "".join(f"<td>{c.strip()}</td>" for c in row) + "</tr>" for row in rows)
    html = table_page_html("移住・定住支援の取組(令和5年度)", f"<table>{cells}</table>",
                           "table{border-collapse:collapse;width:100%}"
                           "td{border:1px solid #000;padding:3pt;vertical-align:top}td:nth-child(3){width:50%}")
    doc = ingest(render_pdf_or_skip(html, tmp_path / "towns.pdf"))
    cases = segment(doc)
    assert [c.title for c in cases] == TOWN_TITLES
    assert {c.layout for c in cases} == {"table-rows"}
