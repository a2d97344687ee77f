"""A lecture deck on regional cases: a cover, its contents, a statistics slide, a definition slide,
three cases over two slides each (the second titled `…(続き)`, with `主なソフト事業` and `今後の取組`
sub-heads), a contact slide and a closing slide. Only the three cases are entries, each ending on its
continuation slide."""

from __future__ import annotations

from pathlib import Path

from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.extract.segment.patterns import is_framing_head

CSS = """
@page { size: 254mm 142.875mm; margin: 0; }
.slide { width: 254mm; height: 142.875mm; box-sizing: border-box; padding: 9mm 14mm 12mm 14mm;
         position: relative; break-after: page; overflow: hidden; font-size: 13pt; line-height: 1.5; }
.bar { color: #0b5394; font-weight: bold; font-size: 20pt; border-bottom: 2pt solid #0b5394; margin-bottom: 4mm; }
.sub { font-weight: bold; font-size: 14pt; margin-top: 2mm; }
.foot { position: absolute; bottom: 4mm; right: 10mm; font-size: 9pt; color: #666; }
h1 { font-size: 30pt; color: #0b5394; margin-top: 20mm; }
"""

CASES = [
    ("北海道東川町 写真の町による移住促進",
     ["写真文化を核に、国際写真フェスティバルを30年以上続けている。", "移住者向けの住宅を町が整備し、人口は20年で約15%増えた。"],
     "写真甲子園の開催、留学生の受け入れ", "町外の企業と連携し、テレワーク拠点を整える。"),
    ("島根県海士町 高校魅力化プロジェクト",
     ["島外から生徒を募る「島留学」を2008年に始めた。", "公営塾を設け、生徒数は約2倍になった。"],
     "地域学の授業、島体験生制度", "卒業生が島に戻る仕組みをつくる。"),
    ("徳島県神山町 サテライトオフィスの誘致",
     ["光ファイバー網を生かし、IT企業のサテライトオフィスを誘致した。", "古民家を改修し、16社が進出している。"],
     "アーティスト・イン・レジデンス", "高専を開校し、起業人材を育てる。"),
]


def _deck_document(slides: list[str]) -> str:
    return (f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><style>{CSS}</style></head>'
            f'<body>{"".join(slides)}</body></html>')


def _deck_html() -> str:
    slides = []

    def slide(inner: str) -> None:
        slides.append(f'<div class="slide">{inner}<div class="foot">{len(slides) + 1}</div></div>')

    slide("<h1>地域の稼ぐ力を高める取組</h1><p>令和6年度 地方創生セミナー</p>")
    slide('<div class="bar">本日の内容</div><p>1. 地方の現状</p><p>2. 先進事例の紹介</p><p>3. 支援制度</p>')
    slide('<div class="bar">地方の人口の推移</div><p>2020年 1億2,615万人</p><p>2050年 1億469万人(推計)</p>'
          '<p>出典:総務省「国勢調査」</p>')
    slide('<div class="bar">関係人口とは</div><p>移住した「定住人口」でもなく、観光に来た「交流人口」でもない、'
          "地域と多様に関わる人々を指す言葉。</p>")
    for title, body, soft, plan in CASES:
        slide(f'<div class="bar">{title}</div>' + "".join(f"<p>{p}</p>" for p in body)
              + f'<div class="sub">主なソフト事業</div><p>{soft}</p>')
        slide(f'<div class="bar">{title}(続き)</div><div class="sub">今後の取組</div><p>{plan}</p>')
    slide('<div class="bar">お問い合わせ先</div><p>内閣府 地方創生推進事務局 TEL 03-1234-5678</p>')
    slide("<h1>ご清聴ありがとうございました</h1>")
    return _deck_document(slides)


def test_only_the_cases_of_a_lecture_deck_are_entries(tmp_path: Path):
    from tests.pdf_fixtures import render_pdf_or_skip

    cases = segment(ingest(render_pdf_or_skip(_deck_html(), tmp_path / "deck.pdf")))
    assert [c.title for c in cases] == [t.replace(" ", "") for t, *_ in CASES]
    for case, (_, _, soft, plan) in zip(cases, CASES):
        assert soft in case.text and case.text.rstrip().endswith(plan)


def test_framing_heads():
    for head in ("本日の内容", "アジェンダ", "Agenda", "関係人口とは", "関係人口とは?", "地方の人口の推移"):
        assert is_framing_head(head), head
    for head in ("北海道東川町 写真の町による移住促進", "東川町の人口の推移", "とは言え始めた朝市", "取組内容"):
        assert not is_framing_head(head), head


def test_the_same_deck_as_converted_markdown(tmp_path: Path):
    # a converter's markdown: `---` between slides, each slide's title as a heading, the case's title
    # repeated on its second slide without a continuation mark
    parts = ["# 地域の稼ぐ力を高める取組\n\n令和6年度 地方創生セミナー", "## 本日の内容\n\n1. 地方の現状\n2. 先進事例の紹介",
             "## 関係人口とは\n\n移住した「定住人口」でもなく、観光に来た「交流人口」でもない、地域と多様に関わる人々を指す言葉。"]
    for title, body, soft, plan in CASES:
        parts.append(f"## {title}\n\n" + "\n".join(body) + f"\n\n### 主なソフト事業\n\n{soft}")
        parts.append(f"## {title}\n\n### 今後の取組\n\n{plan}")
    parts.append("## お問い合わせ先\n\n内閣府 地方創生推進事務局 TEL 03-1234-5678")
    path = tmp_path / "deck.md"
    path.write_text("\n\n---\n\n".join(parts) + "\n", encoding="utf-8")
    cases = segment(ingest(path))
    assert [c.title for c in cases] == [t for t, *_ in CASES]
    for case, (_, _, soft, plan) in zip(cases, CASES):
        assert soft in case.text and case.text.endswith(plan)  # the page break after it is no part of it


def test_the_rule_sets_open_no_case_at_a_framing_head(tmp_path: Path):
    from jirei.extract.segment import segment_rules

    path = tmp_path / "talk.md"
    path.write_text(
        "# 地方創生セミナー\n\n## 本日の内容\n\n1. 地方の現状\n2. 先進事例\n\n## 関係人口とは\n\n"
        "移住した「定住人口」でもなく、観光に来た「交流人口」でもない、地域と多様に関わる人々を指す言葉。\n\n"
        "## 北海道東川町 写真の町による移住促進\n\n写真文化を核に、国際写真フェスティバルを30年以上続けている。\n\n"
        "## 島根県海士町 高校魅力化プロジェクト\n\n島外から生徒を募る「島留学」を2008年に始めた。\n", encoding="utf-8")
    cases = segment_rules(ingest(path))
    assert [c.title for c in cases] == ["北海道東川町 写真の町による移住促進", "島根県海士町 高校魅力化プロジェクト"]
    assert "関係人口とは" not in cases[0].text


# A second deck: cases numbered `事例N`, each continued on a slide titled `事例N …(続き)` whose
# `■成果` / `■今後の展開` sub-heads the rule sets read as sections, and a divider slide holding
# nothing but its title.
NUMBERED_CASES = [
    ("株式会社信州りんご舎", "長野県小布施町", ["規格外品が年間30トン廃棄されていた"],
     ["2019年に加工場を開設しシードルとジャムを製造", "地元農家20戸と契約し全量買取"], ["通年雇用12人を創出"]),
    ("NPO法人ひだまり", "岡山県真庭市", ["子育て世帯の孤立", "中心部の空き家の増加"],
     ["空き家を改修し一時預かりと学習支援を実施"], ["年間延べ4,000人が利用", "移住した子育て世帯は5年で38世帯"]),
    ("三陸観光協同組合", "岩手県釜石市", ["震災後の観光客の減少"],
     ["漁師と連携した定置網体験ツアーを造成", "修学旅行の受入れを開始"], ["体験客は年間6,500人"]),
]
LAST_LINE = "近隣地域への展開を検討している"


def _numbered_slides() -> list[tuple[str, list[str]]]:
    slides = [("地域の担い手がつくる新しい仕事", ["2024年度 地域づくりセミナー"]),
              ("本日の内容", ["1. 地方の現状", "2. 取組事例", "3. まとめ"]),
              ("地方の人口の推移", ["2010年 1億2,806万人", "地方圏は年0.8%の減少が続く"]),
              ("2. 取組事例", [])]
    for i, (org, place, background, actions, results) in enumerate(NUMBERED_CASES, 1):
        slides.append((f"事例{i} {org}({place})", ["■背景", *background, "■取組内容", *actions]))
        slides.append((f"事例{i} {org}(続き)", ["■成果", *results, "■今後の展開", LAST_LINE]))
    return slides + [("まとめ", ["地域資源を仕事に変える", "行政と民間の役割分担"]), ("ご清聴ありがとうございました", [])]


def _check_numbered(cases) -> None:
    assert [c.title.replace(" ", "") for c in cases] == [
        f"事例{i}{org}({place})" for i, (org, place, *_rest) in enumerate(NUMBERED_CASES, 1)]
    for c, (_org, _place, _b, _a, results) in zip(cases, NUMBERED_CASES):
        assert results[-1] in c.text and c.text.rstrip().endswith(LAST_LINE)  # the continued slide stays in
        assert "まとめ" not in c.text


def test_a_numbered_deck_keeps_each_continued_slide_and_skips_its_divider(tmp_path: Path):
    from jirei.extract.segment import load_segmenter, segment_crf
    from tests.pdf_fixtures import render_pdf_or_skip

    slides = [
        f'<div class="slide"><div class="bar">{title}</div>'
        + "".join(f'<div class="sub">{p}</div>' if p.startswith("■") else f"<p>{p}</p>" for p in paras)
        + f'<div class="foot">{n}</div></div>' for n, (title, paras) in enumerate(_numbered_slides(), 1)]
    html = _deck_document(slides)
    doc = ingest(render_pdf_or_skip(html, tmp_path / "numbered-deck.pdf"))
    _check_numbered(segment(doc))
    # the model's reading too, where it falls back to one case per topic page
    _check_numbered(segment_crf(doc, load_segmenter(None)))


def test_the_numbered_deck_as_powerpoint(tmp_path: Path):
    import pytest

    pptx = pytest.importorskip("pptx")
    prs = pptx.Presentation()
    for title, paras in _numbered_slides():
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        frame = slide.placeholders[1].text_frame
        frame.text = paras[0] if paras else ""
        for p in paras[1:]:
            frame.add_paragraph().text = p
    path = tmp_path / "numbered-deck.pptx"
    prs.save(path)
    _check_numbered(segment(ingest(path)))


def test_a_slide_of_two_cases_under_a_list_label(tmp_path: Path):
    # two `【県市】` cases side by side on each slide, the slides titled `事例紹介(1)`, `事例紹介(2)`:
    # the next slide's label is no part of the case before it
    from tests.pdf_fixtures import render_pdf_or_skip

    pairs = [[("北海道上士幌町", "ドローン配送で買物を支える", "物流会社と連携し2021年から定期配送している。"),
              ("三重県伊勢市", "観光DXで周遊を促す", "来訪者データを分析し周遊アプリを開発した。")],
             [("兵庫県豊岡市", "演劇のまちづくり", "専門職大学を2021年に開学した。"),
              ("徳島県神山町", "サテライトオフィスの誘致", "光ファイバー網を生かし16社が進出した。")]]
    slides = ['<div class="slide"><h1>地方創生の取組事例</h1><p>全国の特色ある取組を紹介します。</p></div>']
    for n, pair in enumerate(pairs, 1):
        boxes = "".join(f'<div style="flex:1;border:1pt solid #0b5394;padding:3mm"><div class="sub">【{place}】{title}</div>'
                        f"<p>{text}</p></div>" for place, title, text in pair)
        slides.append(f'<div class="slide"><div class="bar">事例紹介({n})</div><div style="display:flex;gap:6mm">{boxes}</div>'
                      f'<div class="foot">{n + 1}</div></div>')
    html = _deck_document(slides)
    cases = segment(ingest(render_pdf_or_skip(html, tmp_path / "pairs.pdf")))
    assert [c.title for c in cases] == [f"【{p}】{t}" for pair in pairs for p, t, _ in pair]
    assert not any("事例紹介" in c.text for c in cases)


# A third deck: a trend slide (`人口減少の現状`) and a statistics slide (figures and their source),
# then each case over three slides, only the first
# titled with the case; the others titled with a part of it, either saying whose (`東川町の主な取組`) or a part label every case
# repeats (`成果と今後の課題`). A running footer with the lecture's name and the slide number.
PART_SLIDE_CASES = [
    ("北海道東川町 写真の町による移住促進", "東川町", ["写真文化を核に、国際写真フェスティバルを30年以上続けている。"],
     ["写真甲子園の開催", "留学生の受け入れと日本語学校の運営"], ["町外の企業と連携し、テレワーク拠点を整える。"]),
    ("島根県海士町 高校魅力化プロジェクト", "海士町", ["島外から生徒を募る「島留学」を2008年に始めた。"],
     ["地域学の授業", "島体験生制度"], ["卒業生が島に戻る仕組みをつくる。"]),
    ("徳島県神山町 サテライトオフィスの誘致", "神山町", ["光ファイバー網を生かし、IT企業のサテライトオフィスを誘致した。"],
     ["アーティスト・イン・レジデンス", "移住支援センターの運営"], ["高専を開校し、起業人材を育てる。"]),
]


def _part_slide_deck() -> str:
    slides = []

    def slide(inner: str) -> None:
        slides.append(f'<div class="slide">{inner}<div class="foot">地方創生論 第5回 {len(slides) + 1}</div></div>')

    slide("<h1>地域の取組事例</h1><p>地方創生論 第5回</p>")
    slide('<div class="bar">本日の内容</div><p>1. 人口減少の現状</p><p>2. 事例紹介</p>')
    slide('<div class="bar">人口減少の現状</div><p>2020年 1億2,615万人</p><p>2050年 1億469万人(推計)</p>'
          "<p>出典:総務省「国勢調査」</p>")
    slide('<div class="bar">人口と高齢化率</div><p>2020年 1億2,615万人 高齢化率28.6%</p>'
          "<p>2050年 1億469万人 高齢化率37.7%</p><p>出典:国立社会保障・人口問題研究所</p>")
    for title, town, intro, acts, plans in PART_SLIDE_CASES:
        slide(f'<div class="bar">{title}</div>' + "".join(f"<p>{p}</p>" for p in intro))
        slide(f'<div class="bar">{town}の主な取組</div>' + "".join(f"<p>・{p}</p>" for p in acts))
        slide('<div class="bar">成果と今後の課題</div>' + "".join(f"<p>{p}</p>" for p in plans))
    slide("<h1>ご清聴ありがとうございました</h1>")
    return _deck_document(slides)


def test_a_case_over_slides_titled_with_its_parts_is_one_entry(tmp_path: Path):
    from tests.pdf_fixtures import render_pdf_or_skip

    cases = segment(ingest(render_pdf_or_skip(_part_slide_deck(), tmp_path / "parts.pdf")))
    assert [c.title for c in cases] == [t.replace(" ", "") for t, *_ in PART_SLIDE_CASES]
    for case, (_, town, _, acts, plans) in zip(cases, PART_SLIDE_CASES):
        assert f"{town}の主な取組" in case.text and acts[-1] in case.text
        assert case.text.rstrip().endswith(plans[-1])

