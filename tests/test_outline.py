"""The document outline: every non-blank line in exactly one typed block, with its heading evidence."""

from pathlib import Path

import pytest

from jirei.extract.ingest import ingest
from jirei.extract.segment.outline import BlockKind, family_of, outline


def _covers_every_line_once(out) -> None:
    seen = [li for b in out.blocks for li in b.lines]
    assert len(seen) == len(set(seen))
    assert sorted(seen) == [ln.index for ln in out.lines if not ln.blank]
    for b in out.blocks:
        first, last = out.lines[b.lines[0]], out.lines[b.lines[-1]]
        assert b.start == first.content_start and b.end <= last.end
        assert out.doc.text[b.start : b.end].startswith(first.content[:5])


def test_casebook_text_outline(seeds_dir: Path):
    doc = ingest(next(seeds_dir.glob("001_*.txt")))
    out = outline(doc)
    _covers_every_line_once(out)
    heads = {b.text: b for b in out.blocks if b.kind is BlockKind.HEADING}
    hitachi = next(b for t, b in heads.items() if "日立製作所" in t)
    assert hitachi.heading.family == "circled"
    theme = next(b for t, b in heads.items() if t.startswith("(1) データ駆動型"))
    assert theme.heading.family == "paren_num"
    # a wrapped body paragraph is one block, not one block per line
    assert any(b.kind is BlockKind.PARAGRAPH and len(b.lines) > 1 for b in out.blocks)
    assert all(b.page is None for b in out.blocks)


def test_real_pdf_outline_has_pages_and_typographic_levels(pdfs_dir: Path):
    doc = ingest(pdfs_dir / "otoineppu_kouhou_2023-09.pdf")
    out = outline(doc)
    _covers_every_line_once(out)
    assert [b.page for b in out.blocks] == sorted(b.page for b in out.blocks)
    firsts = [b for b in out.blocks if b.page_first]
    assert len(firsts) == len({b.page for b in out.blocks})  # one first block per page with text
    festival = next(b for b in out.blocks if b.text == "森と匠の村ふるさと納涼まつり")
    assert festival.kind is BlockKind.HEADING and festival.heading.level is not None and festival.page == 2


@pytest.mark.parametrize(
    "line, family",
    [
        ("✓概要", "check"), ("○ 観光振興部会の取組", "circle"), ("【民】民間事業者の取組", "bracket"),
        ("≪成果・KPI≫", "angle"), ("<取り組みのイメージ図>", "angle"), ("Q1 取組のきっかけは?", "qa"),
        ("1-1 地域交通の再編", "hyphen_num"), ("(1) 移動の支援", "paren_num"), ("■ 高山市の取組", "square"),
        ("◆ 事業の概要", "diamond"), ("① 日立製作所", "circled"), ("第3条 目的", "article"),
        ("2. 「働く」", "dot_num"), ("今後の取組", None),
    ],
)
def test_numbering_families(line: str, family: str | None):
    assert family_of(line) == family


def test_tables_fields_bullets_and_sub_headings(tmp_path: Path):
    path = tmp_path / "sheet.md"
    path.write_text(
        "## 【長野県伊那市】モバイルクリニック\n\n"
        "実施主体:伊那市\n"
        "✓概要\n"
        "・医療機器を載せた車両で、看護師が患者宅を訪問する。\n"
        "オンライン診療と組み合わせる。\n\n"
        "| 年度 | 利用者数 | 備考 |\n"
        "| 2021 | 120 | 実証 |\n\n"
        "問合せ先\n\n"
        "企画政策課 電話 0265-78-4111\n",
        encoding="utf-8",
    )
    out = outline(ingest(path))
    _covers_every_line_once(out)
    kinds = [(b.kind, b.text[:8]) for b in out.blocks]
    assert kinds[0] == (BlockKind.HEADING, "【長野県伊那市】")
    assert (BlockKind.FIELD, "実施主体:伊那市") in kinds
    assert (BlockKind.HEADING, "✓概要") in kinds
    bullet = next(b for b in out.blocks if b.kind is BlockKind.BULLET)
    assert len(bullet.lines) == 2  # the wrapped line stays with its bullet
    assert sum(b.kind is BlockKind.TABLE_ROW for b in out.blocks) == 2
    assert (BlockKind.HEADING, "問合せ先") in kinds


def test_a_converters_page_breaks_are_noise_not_heading_candidates(pdfs_dir: Path):
    """The village strategy as PDF-to-markdown converters write it (`---` between pages, `#` marks
    from font sizes): the break lines are noise, so a page's opening head is no longer preceded by a
    heading candidate and the breaks weigh in no heading family's statistics."""
    from jirei.evaluation.segmentation_cv import as_paged_text

    doc = as_paged_text(ingest(pdfs_dir / "otoineppu_sogosenryaku.pdf"), headings=True)
    out = outline(doc)
    _covers_every_line_once(out)
    breaks = [b for b in out.blocks if b.text.strip() == "---"]
    assert len(breaks) >= len(doc.pages) - 1  # an empty page (no text layer) leaves two breaks in a row
    assert all(b.kind is BlockKind.NOISE for b in breaks)
    measure = next(b for b in out.blocks if b.text.startswith("3.高校を軸とした人の流れの促進"))
    assert measure.kind is BlockKind.HEADING and measure.page_first


def test_markdown_image_references_are_noise(pdfs_dir: Path, tmp_path: Path):
    """Converters to markdown write a picture as `![...](file)`: the line is noise, not a short
    line standing alone that could head a case. The 2023-09 newsletter's first article, as such a
    converter writes it."""
    text = ingest(pdfs_dir / "otoineppu_kouhou_2023-09.pdf").text
    start = text.index("夏の新たな風物詩")
    article = text[start:text.index("\n\n", start + 200)]
    path = tmp_path / "kouhou.md"
    path.write_text(f"![](images/p2-1.png)\n\n## {article}\n\n![写真: 納涼まつり](images/p2-2.png)\n", encoding="utf-8")
    out = outline(ingest(path))
    images = [b for b in out.blocks if b.text.startswith("![")]
    assert len(images) == 2 and all(b.kind is BlockKind.NOISE for b in images)
    assert any(b.kind is BlockKind.HEADING and b.text.startswith("夏の新たな風物詩") for b in out.blocks)


def test_a_text_newsletters_headlines_are_heading_candidates(tmp_path: Path):
    # a village newsletter saved as text: headlines end with `！` or `♪`, run over two lines (a
    # subtitle under them, or broken after a comma), and stand between blank lines
    text = (
        "夏の新たな風物詩！\n森と匠の村ふるさと納涼まつり\n\n"
        "8月17日（木）、第1回目となる納涼まつりが開催されました。村内外から約300人が訪れました。\n\n"
        "観光列車「花たびそうや」号が、\n春の宗谷本線を駆け抜けます！\n\n"
        "この春、宗谷本線にて観光列車が運行されます。沿線各地域でおもてなしを行います。\n\n"
        "おと高卒業生と、デコ盛り♪\n\n"
        "8月29日（火）、公民館教室が行われ、12人が参加しました。とても楽しかったです！\n"
        "次回もぜひご参加ください。\n"
    )
    path = tmp_path / "kouhou.txt"
    path.write_text(text, encoding="utf-8")
    out = outline(ingest(path))
    _covers_every_line_once(out)
    heads = [b.text for b in out.blocks if b.kind is BlockKind.HEADING]
    assert heads == ["夏の新たな風物詩!森と匠の村ふるさと納涼まつり",  # the reader folds full-width `！`
                     "観光列車「花たびそうや」号が、春の宗谷本線を駆け抜けます!", "おと高卒業生と、デコ盛り♪"]
    assert all(b.heading.standalone for b in out.blocks if b.kind is BlockKind.HEADING)
    # prose that ends with `！` stays a paragraph
    assert any(b.kind is BlockKind.PARAGRAPH and b.text.startswith("8月29日") and len(b.lines) == 2 for b in out.blocks)
