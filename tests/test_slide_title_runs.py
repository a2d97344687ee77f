"""A lecture deck whose case runs over two or three 16:9 slides, each slide titled with the case's
exact title in the top bar and footed with the deck's name: the deck's name is a running footer
(dropped), the case's title is no running header (kept where its run starts), and the slides it runs
over fold into one case."""

from __future__ import annotations

from pathlib import Path

import pytest

from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

CSS = """
@page { size: 254mm 142.875mm; margin: 0; }
.slide { width: 254mm; height: 142.875mm; box-sizing: border-box; padding: 9mm 14mm 12mm 14mm;
         position: relative; break-after: page; overflow: hidden; font-size: 12pt; line-height: 1.5; }
.bar { background: #0b5394; color: #fff; font-weight: bold; font-size: 18pt; padding: 3mm 6mm;
       margin: -9mm -14mm 5mm -14mm; }
.foot { position: absolute; bottom: 4mm; right: 10mm; font-size: 9pt; color: #666; }
.label { position: absolute; bottom: 4mm; left: 14mm; font-size: 9pt; color: #666; }
h1 { font-size: 28pt; color: #0b5394; }
"""

CASES = [
    ("事例1 上士幌町 ドローン配送による買物支援",
     ["町内の高齢者世帯に日用品をドローンで届ける実証を2022年に始めた。",
      "配送拠点を役場に置き、民間事業者と連携して運航している。",
      "利用者は延べ300人に達し、今後は医薬品の配送も検討している。"]),
    ("事例2 伊勢市 観光DXによる周遊促進",
     ["観光客の移動データを分析し、周遊ルートを提案するアプリを開発した。",
      "市内の宿泊施設と商店が参加し、来訪者の滞在時間が伸びた。"]),
    ("事例3 豊岡市 演劇を核としたまちづくり",
     ["演劇の専門職大学を誘致し、若者の定住を促している。",
      "市民向けのワークショップを年20回開き、地域の担い手を育てている。",
      "国際演劇祭には2万人が来場し、宿泊と飲食の売上も伸びた。"]),
]


def _deck_html() -> str:
    slides = ['<div class="slide"><h1>地方創生の取組事例</h1><p>講演資料</p></div>']
    n = 2
    for title, paragraphs in CASES:
        for text in paragraphs:  # one slide per paragraph, each under the case's own title
            slides.append(f'<div class="slide"><div class="bar">{title}</div><p>{text}</p>'
                          f'<div class="label">地域づくり講座</div><div class="foot">{n}</div></div>')
            n += 1
    return (f'<!doctype html><html lang="ja"><head><meta charset="utf-8"><style>{CSS}</style></head>'
            f'<body>{"".join(slides)}</body></html>')


@pytest.fixture(scope="module")
def deck(tmp_path_factory) -> Path:
    from tests.pdf_fixtures import render_pdf_or_skip

    return render_pdf_or_skip(_deck_html(), tmp_path_factory.mktemp("deck") / "deck.pdf")


def test_a_title_repeated_over_a_cases_slides_is_kept_once(deck):
    text = ingest(deck).text
    assert "地域づくり講座" not in text  # the running footer, on every slide
    for title, _ in CASES[::2]:  # three slides each: often enough for a running header
        assert text.count(title.replace(" ", "")) == 1, title
    for _, paragraphs in CASES:
        assert all(p in text for p in paragraphs)


def test_a_case_over_several_slides_is_one_entry(deck):
    cases = segment(ingest(deck))
    assert [c.title for c in cases] == [t.replace(" ", "") for t, _ in CASES]
    for case, (_, paragraphs) in zip(cases, CASES):
        assert case.text.rstrip().endswith(paragraphs[-1]), case.title
        assert all(p in case.text for p in paragraphs)
