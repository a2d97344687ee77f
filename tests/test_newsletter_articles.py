"""A village newsletter whose articles and notices alternate: the article that follows a notice is
still an entry when its text reports an event held (`8月1日(木)、…が開設されました`), and an
interview's `Q1`/`A1` lines stay in their article."""

from __future__ import annotations

from pathlib import Path

from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

CSS = """@page { size: A4; margin: 14mm; } body { font-size: 10pt; line-height: 1.6; }
h2 { font-size: 16pt; margin: 5mm 0 2mm 0; } h3 { font-size: 11pt; margin: 3mm 0 1mm 0; } .pg { break-after: page; }
.notice { border: 1pt solid #999; padding: 2mm; margin: 3mm 0; } .notice .h { font-weight: bold; font-size: 12pt; }"""

ARTICLES = [
    ("村の森で木育キャンプ", "7月20日(土)、村有林で親子向けの木育キャンプが開かれ、12組が参加しました。"
     "森林組合の職員が間伐の意味を説明し、子どもたちは丸太切りに挑戦しました。", []),
    ("新しい地域おこし協力隊員を紹介します", "4月から着任した佐藤さんにお話を伺いました。",
     [("Q1 村に来たきっかけは?", "A1 大学で林業を学び、木工の村で働きたいと思いました。"),
      ("Q2 これからの抱負は?", "A2 木工品の販路を広げ、村の魅力を発信したいです。")]),
    ("道の駅に直売所がオープン", "8月1日(木)、道の駅に農産物の直売所が開設されました。"
     "村内の農家8戸が出荷し、初日は200人が訪れました。", []),
]
NOTICES = [("ごみの出し方が変わります", "10月から、プラスチック製容器包装は毎週水曜日の収集になります。"),
           ("献血にご協力ください", "9月5日(木)10時から役場前で献血を行います。"),
           ("休日当番医", "9月の休日当番医は村立診療所です。")]


def _newsletter_html() -> str:
    parts = []
    for (title, text, qa), (notice, body) in zip(ARTICLES, NOTICES):
        parts.append(f"<h2>{title}</h2><p>{text}</p>" + "".join(f"<h3>{q}</h3><p>{a}</p>" for q, a in qa))
        parts.append(f'<div class="notice"><div class="h">{notice}</div><p>{body}</p><p>問 住民課 ☎01656-5-3311</p></div>')
        parts.append('<div class="pg"></div>')
    return (f'<html><head><meta charset="utf-8"><style>{CSS}</style></head><body><h1>広報むら 9月号</h1>'
            f'{"".join(parts)}</body></html>')


def test_the_article_after_a_notice_is_an_entry(tmp_path: Path):
    from tests.pdf_fixtures import render_pdf_or_skip

    cases = segment(ingest(render_pdf_or_skip(_newsletter_html(), tmp_path / "news.pdf")))
    titles = [c.title for c in cases]
    assert titles == [t for t, _, _ in ARTICLES], titles
    assert "A2木工品の販路を広げ" in cases[1].text.replace(" ", "")  # the interview stays one article
    assert cases[2].text.rstrip().endswith("初日は200人が訪れました。")
    assert not any("献血" in c.text or "休日当番医" in c.text for c in cases)
