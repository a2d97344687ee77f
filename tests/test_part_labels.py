"""Sub-headings inside a case never become cases: a government case sheet's `【民】`/`【官】` boxes and
`≪KPI≫` box under its `【県市】` title, and a programme list's check-mark items (`✓概要`, `✓補助対象者`)
under each programme's name, whatever decides the document's entries."""

from __future__ import annotations

from pathlib import Path

from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.extract.segment.patterns import part_label_lines

A4 = ("@page { size: A4; margin: 16mm; } body { font-size: 10.5pt; line-height: 1.6; } "
      "h2 { font-size: 15pt; margin: 6mm 0 3mm 0; } .chk { font-weight: bold; margin-top: 2mm; } "
      ".pg { break-after: page; }")

SHEETS = [
    ("兵庫県豊岡市", "演劇のまちづくり", ["専門職大学の開学", "国際演劇祭の開催"],
     "観光協会が公演の運営を担う。", "市が稽古場と宿泊施設を整備した。", "来場者数 年間2万人"),
    ("三重県伊勢市", "観光DXで周遊を促す", ["来訪者データの分析", "周遊アプリの開発"],
     "地元の交通事業者がアプリを運営する。", "市がデータ基盤を整えた。", "周遊率 30%"),
    ("北海道上士幌町", "ドローン配送で買物を支える", ["物流拠点の整備", "高齢者世帯への配送"],
     "物流会社が運航を受託している。", "町が配送拠点を設けた。", "配送件数 年間1,000件"),
]

PROGRAMMES = [
    ("とっとり週1副社長", "鳥取県", "県外の副業人材と県内企業をつなぎ、週1日から経営課題の解決に参加してもらう。",
     "県内に本社を置く中小企業", "マッチング費用の2分の1、上限30万円"),
    ("移住支援金", "長野県", "東京圏から県内に移住し、就業または起業した人に支援金を支給する。",
     "東京23区に5年以上在住していた人", "単身60万円、世帯100万円"),
    ("ふるさとワーキングホリデー", "北海道", "都市部の若者が一定期間道内で働き、地域の人と交流する機会を提供する。",
     "18歳以上の学生・社会人", "交通費の一部を補助"),
    ("空き店舗活用補助", "富山県高岡市", "中心市街地の空き店舗に出店する事業者の改装費を補助する。",
     "新たに出店する個人・法人", "改装費の3分の2、上限200万円"),
]


def _sheets_html() -> str:
    pages = []
    for place, title, subs, private, public, kpi in SHEETS:
        body = "".join(f"<p>○{s}</p><p>{s}に取り組み、地域の事業者と連携して成果を上げている。</p>" for s in subs)
        pages.append(f'<div class="pg"><h2>【{place}】{title}</h2>{body}<p><b>【民】</b>{private}</p>'
                     f"<p><b>【官】</b>{public}</p><p><b>≪KPI≫</b>{kpi}</p><p><b>今後の取組</b></p>"
                     "<p>近隣市町村への展開を目指す。</p></div>")
    return f'<html><head><meta charset="utf-8"><style>{A4}</style></head><body>{"".join(pages)}</body></html>'


def _programmes_html() -> str:
    parts = []
    for i, (name, place, gist, who, amount) in enumerate(PROGRAMMES):
        parts.append(f'<h2>{name}({place})</h2><div class="chk">✓概要</div><p>{gist}</p>'
                     f'<div class="chk">✓補助対象者</div><p>{who}</p>'
                     f'<div class="chk">✓補助対象・補助限度額</div><p>{amount}</p>')
        if i % 2:
            parts.append('<div class="pg"></div>')
    return (f'<html><head><meta charset="utf-8"><style>{A4}</style></head><body>'
            f'<h1>地方創生に関する支援制度一覧</h1>{"".join(parts)}</body></html>')


def _render(html: str, path: Path) -> Path:
    from tests.pdf_fixtures import render_pdf_or_skip

    return render_pdf_or_skip(html, path)


def test_a_case_sheets_boxes_stay_in_its_case(tmp_path: Path):
    cases = segment(ingest(_render(_sheets_html(), tmp_path / "sheets.pdf")))
    assert [c.title for c in cases] == [f"【{place}】{title}" for place, title, *_ in SHEETS]
    for case, (_, _, _, private, public, kpi) in zip(cases, SHEETS):
        assert private in case.text and public in case.text and kpi.replace(" ", "") in case.text.replace(" ", "")
        assert case.text.rstrip().endswith("近隣市町村への展開を目指す。")


def test_a_programme_lists_check_mark_items_stay_in_their_programme(tmp_path: Path):
    cases = segment(ingest(_render(_programmes_html(), tmp_path / "programmes.pdf")))
    assert [c.title for c in cases] == [f"{name}({place})" for name, place, *_ in PROGRAMMES]
    for case, (*_, amount) in zip(cases, PROGRAMMES):
        assert "✓補助対象者" in case.text and case.text.rstrip().endswith(amount)


def test_part_labels_are_labels_that_open_many_lines_and_name_no_one():
    lines = [
        "【兵庫県豊岡市】演劇のまちづくり", "【民】観光協会が公演の運営を担う。", "【官】市が稽古場を整備した。",
        "【三重県伊勢市】観光DXで周遊を促す", "【民】交通事業者が運営する。", "【官】市がデータ基盤を整えた。",
        "【北海道上士幌町】ドローン配送", "【民】物流会社が受託している。", "【官】", "≪KPI≫配送件数",
        # a theme tag on the cases' own heads recurs too, but what follows it names a place
        "【まちづくり】三重県伊勢市", "【まちづくり】北海道上士幌町", "【まちづくり】兵庫県豊岡市",
    ]
    parts = part_label_lines(lines)
    assert parts == {1, 2, 4, 5, 7, 8}


def test_a_plain_text_casebooks_numbered_cases_keep_their_sub_heads(tmp_path: Path):
    # `事例N 名称(県市)` over a subtitle line and `【概要】` `【成果】` `【今後の展開】` sub-heads, in a text
    # file without marks: the sub-heads are the cases' bodies, not heads that leave them empty
    cases = [("株式会社みらい農園", "長野県伊那市", "耕作放棄地を活用したワイン用ぶどうの栽培", "醸造所の建設を計画している。"),
             ("北陸信用金庫", "富山県高岡市", "事業承継マッチング", "近隣の金融機関と連携を広げる。"),
             ("NPO法人さとやま", "岡山県西粟倉村", "森林資源を生かしたローカルベンチャー育成", "育成プログラムを他地域に展開する。")]
    parts = ["地域活性化事例集 2024\n\n1. 働く\n"]
    for n, (org, place, title, plan) in enumerate(cases, 1):
        parts.append(f"事例{n} {org}({place})\n\n{title}\n\n【概要】\n{org}が{place}で2020年に始めた取組である。\n\n"
                     f"【成果】\n地元の雇用が生まれた。\n\n【今後の展開】\n{plan}\n")
    path = tmp_path / "casebook.txt"
    path.write_text("\n".join(parts), encoding="utf-8")
    got = segment(ingest(path))
    assert [c.title for c in got] == [f"事例{n} {org}({place})" for n, (org, place, _, _) in enumerate(cases, 1)]
    for case, (_, _, title, plan) in zip(got, cases):
        assert title in case.text and case.text.rstrip().endswith(plan)


FIELD_PROGRAMMES = [
    ("地域おこし協力隊推進事業", "総務省", "都市地域から過疎地域等に生活の拠点を移した者を地域おこし協力隊員として委嘱し、地域協力活動を行う。",
     "地方公共団体", "隊員1人あたり480万円を上限に特別交付税措置"),
    ("地方創生推進交付金", "内閣府", "地方公共団体が地方版総合戦略に基づき実施する自主的・主体的な事業を複数年度にわたり支援する。",
     "都道府県・市町村", "事業費の2分の1"),
    ("中小企業事業承継・引継ぎ補助金", "中小企業庁", "事業承継を契機として経営革新等に取り組む中小企業者を支援する。",
     "中小企業者・個人事業主", "補助率2分の1以内、上限600万円"),
    ("ふるさと起業家支援プロジェクト", "総務省", "ふるさと納税を活用して地域で起業する者を地方公共団体が支援する取組に対し、特別交付税措置を講じる。",
     "地方公共団体", "起業家への補助金の2分の1"),
]


def test_a_one_page_programme_list_of_labelled_fields_gives_one_case_per_programme(tmp_path: Path):
    # each programme a `■` head over `所管:` `概要:` `対象:` `補助率等:` lines, a notice box between two of
    # them and a contact at the end: a layout the segmenter's model opens no case in
    from tests.pdf_fixtures import render_pdf_or_skip

    parts = ["<h1>地方創生関連の支援制度(令和6年度)</h1><p>地域の取組に活用できる主な国の支援制度を紹介します。</p>"]
    for i, (name, ministry, gist, who, rate) in enumerate(FIELD_PROGRAMMES):
        parts.append(f"<h2>■ {name}</h2><p>所管:{ministry}</p><p>概要:{gist}</p><p>対象:{who}</p><p>補助率等:{rate}</p>")
        if i == 1:
            parts.append("<div><b>お知らせ</b><br>各制度の公募期間は年度により異なります。最新の情報は各省庁のホームページで"
                         "ご確認ください。</div>")
    parts.append("<h2>問合せ先</h2><p>〇〇県 地域振興課 TEL 000-000-0000</p>")
    html = f'<html><head><meta charset="utf-8"><style>{A4}</style></head><body>{"".join(parts)}</body></html>'
    cases = segment(ingest(render_pdf_or_skip(html, tmp_path / "field-programmes.pdf")))
    assert [c.title.lstrip("■ ") for c in cases] == [p[0] for p in FIELD_PROGRAMMES]
    for c, (_name, _ministry, _gist, _who, rate) in zip(cases, FIELD_PROGRAMMES):
        assert c.text.endswith(rate)  # the notice and the contact are in no programme
    assert cases[0].layout.startswith("rules+")  # the rule set decided where the model opened no case
