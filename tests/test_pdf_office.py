"""Two-column PDFs printed by a word processor (LibreOffice), read back: reading order, line
joining and segmentation must hold as they do for Chromium's output.

Seed 001 part I is typed as a two-column Word document and printed by LibreOffice
(``office_seed_pdfs``); small documents written here (invented names) pin down the reading
order around a running header, list items and a paragraph running from one column into the next.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

try:  # tests/ may or may not be a package
    from . import office_pdf_fixtures
except ImportError:
    import office_pdf_fixtures

from jirei import paths
from jirei.evaluation.segmentation import load_gold, score_segmentation
from jirei.evaluation.segmentation_cv import _part_ii_offset, _split_001
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment
from jirei.extract.text import normalise
from jirei.gold import comparable

pytestmark = pytest.mark.slow

LAYOUT = "office-two-column"


@pytest.fixture(scope="module")
def seed001(office_seed_pdfs):
    pdf = next(p for (stem, lay), p in office_seed_pdfs.items() if stem.startswith("001_") and lay == LAYOUT)
    return pdf, ingest(pdf)


@pytest.fixture(scope="module")
def seed001_text(seeds_dir) -> str:
    return next(seeds_dir.glob("001_*.txt")).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def engine() -> None:
    reason = office_pdf_fixtures.libreoffice_missing_reason()
    if reason:
        pytest.skip(f"cannot print with LibreOffice: {reason}")


def _render(tmp: Path, text: str, title: str = "架空市 地域の取組事例集") -> Path:
    return office_pdf_fixtures.render_seed(text, title, tmp / "doc.pdf")


def _lines(text: str) -> list[str]:
    return [ln for ln in text.split("\n") if ln.strip()]


# ------------------------------------------------------------------------------- seed 001


def test_rendering_is_libreoffice_in_two_columns(seed001):
    import pdfplumber

    pdf, doc = seed001
    with pdfplumber.open(pdf) as p:
        assert "LibreOffice" in (p.metadata.get("Producer") or "")
        page = p.pages[1]
        mid = page.width / 2
        body = [c for c in page.chars if 0.1 * page.height < c["top"] < 0.9 * page.height]
        left = sum(1 for c in body if c["x1"] < mid)
        right = sum(1 for c in body if c["x0"] > mid)
        assert left > 300 and right > 300  # both columns full of text
    assert len(doc.pages) >= 10
    # the running header (the report title) and the `- N -` footers are gone from the text
    assert "with/postコロナの地方活性化【事例編】" not in doc.text.replace(" ", "")[200:]
    assert not re.search(r"^- ?\d+ ?-$", doc.text, re.M)


def test_001_part_i_every_entry_found_with_its_body(seed001):
    _, doc = seed001
    gold = load_gold(next(paths.SEGMENTATION_GOLD.glob("001_*.json")))
    cut = _part_ii_offset(doc)
    assert cut is not None
    part_i = _split_001(doc, gold, "I")[1]
    cases = [c for c in segment(doc) if c.span[0] < cut]
    score = score_segmentation(cases, part_i, doc_name="001 part I")
    assert score.gold >= 50
    assert score.missed == [] and score.spurious == [], score.as_dict()
    assert score.truncated == [], score.as_dict()
    for case in cases:
        assert doc.text[case.span[0] : case.span[1]] == case.text


def test_001_part_i_headings_start_their_own_line(seed001):
    _, doc = seed001
    gold = load_gold(next(paths.SEGMENTATION_GOLD.glob("001_*.json")))
    part_i = _split_001(doc, gold, "I")[1]
    starts = [comparable(ln) for ln in _lines(doc.text[: _part_ii_offset(doc)])]
    for case in part_i.cases:
        key = comparable(case.heading)[:25]
        assert any(s.startswith(key) for s in starts), case.heading


def test_001_part_i_no_line_welds_two_lines_of_the_seed(seed001, seed001_text):
    """Every line read back lies within one line of the seed: no heading joined to the bullet
    or the body around it, no caption welded to the other column's first line. Table cells
    (set as Word tables) are left out."""
    _, doc = seed001
    seed_part_i = seed001_text[: seed001_text.index("II. 連携中枢")]
    seed_lines = [comparable(normalise(ln)) for ln in seed_part_i.split("\n") if ln.strip()]
    in_tables = "".join(s for s, raw in zip(seed_lines, [r for r in seed_part_i.split("\n") if r.strip()])
                        if raw.lstrip().startswith("|"))
    welded = []
    for line in _lines(doc.text[: _part_ii_offset(doc)]):
        c = comparable(line)
        toks = [comparable(t) for t in line.split()]
        if len(c) < 8 or any(len(t) >= 3 and t in in_tables for t in toks) or (
                len(toks) >= 2 and all(t in in_tables for t in toks)):
            continue  # a row of a table: its cells wrap inside the cells
        if not any(c in s for s in seed_lines):
            welded.append(line)
    assert welded == []


def test_001_part_i_paragraphs_read_on_one_line_across_columns(seed001, seed001_text):
    """A body paragraph that runs from the foot of one column to the head of the next reads as
    one line: only a page break (the page separator) or a line ending a sentence may split it."""
    _, doc = seed001
    seed_part_i = seed001_text[: seed001_text.index("II. 連携中枢")]
    cut = _part_ii_offset(doc)
    text = "".join(doc.text[p.start : min(p.end, cut)] for p in doc.pages if p.start < cut)
    out = [comparable(ln) for ln in text.replace("。\n", "。").split("\n")]
    paras = [comparable(normalise(p)) for p in seed_part_i.split("\n") if len(p.strip()) >= 60
             and not p.lstrip().startswith(("|", "-"))]
    assert len(paras) >= 50
    assert [p[:30] for p in paras if not any(p in ln for ln in out)] == []


# ------------------------------------------------------------------------------- small documents

HEADS_UNDER_BULLETS = """架空市 地域の取組事例集

さくら台商店街振興組合(栃木県さくら市)
・空き店舗を改修したコワーキングスペースを商店街の中心に整備し、移住者や若い世代の起業を継続して支援している取組
・開設から二年間で十二件の創業につながり、商店街の通行量も開設前と比べて二割増加した
みどり川交通(北海道みどり町)
・町内の路線バスが廃止された地区でデマンド型の乗合タクシーを運行し、高齢者の通院や買い物の足を確保している取組として
・予約はスマートフォンと電話で受け付け、配車は町役場の地域おこし協力隊が担当している
あおば学園(宮城県あおば市)
・地元の高校と大学が連携し、地域の課題を題材にした探究学習の授業を三年間にわたり共同で設計して実施しているところ
・卒業生の一部は地元の企業に就職し、地域に残る若者の割合が上昇した
うみべ漁業協同組合(静岡県うみべ町)
・漁港の空いた倉庫を活用して水産加工の体験施設を開設し、観光客向けの料理教室を毎週末に開催して地域の魅力を伝える
・体験施設の売上は漁協の新たな収入源となり、若手漁業者の所得向上にもつながっている
"""

HEADS = ["さくら台商店街振興組合(栃木県さくら市)", "みどり川交通(北海道みどり町)",
         "あおば学園(宮城県あおば市)", "うみべ漁業協同組合(静岡県うみべ町)"]


def test_heading_right_under_a_bullet_line_keeps_its_own_line(engine):
    """Each name line sits under a `・` line that the word processor stretched to the column's
    edge (a justified line ending at a manual break): the name starts its own line, read without
    the spread letters' spaces."""
    with tempfile.TemporaryDirectory() as tmp:
        doc = ingest(_render(Path(tmp), HEADS_UNDER_BULLETS))
    lines = _lines(doc.text)
    for head in HEADS:
        assert head in lines, (head, lines)
    assert sum(1 for ln in lines if ln.startswith("・")) == 8
    # the header (on one page it is no running header), the title, four names, eight items:
    # nothing joined, nothing split
    assert len(lines) == 14


ITEMS_FILLING_THEIR_LINES = [  # 40 characters: with the mark, two full lines of a column
    "町内の全ての小学校で地域の農家と協力した食育の授業を行い収穫した野菜を給食に使う",
    "空き家バンクに登録された住宅を町が借り上げて改修し移住を希望する子育て世帯に貸す",
    "地域の商店街と連携して空き店舗を活用し移住者の起業を支援する取組を三年続けている",
]


def test_line_under_a_hanging_list_item_is_not_the_items(engine):
    """`- ` list items printed with a hanging indent, their last line filling the column, and a
    date line back at the mark's position right under each: the items' wrapped lines join,
    the date lines stay apart."""
    text = "架空町の取組\n\n" + "".join(
        f"- {item}\n2024年4月{i}日締結\n\n" for i, item in enumerate(ITEMS_FILLING_THEIR_LINES, start=1))
    with tempfile.TemporaryDirectory() as tmp:
        doc = ingest(_render(Path(tmp), text))
    lines = _lines(doc.text)
    for i, item in enumerate(ITEMS_FILLING_THEIR_LINES, start=1):
        assert "・" + item in lines, lines
        assert f"2024年4月{i}日締結" in lines, lines


def _docx_two_columns(path: Path, title: str, left: list[str], right: list[str]) -> Path:
    """A two-column Word document: `left` paragraphs, a column break, `right` paragraphs."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Mm, Pt

    doc = Document()
    office_pdf_fixtures._set_fonts(doc.styles["Normal"], office_pdf_fixtures.BODY_FONT, office_pdf_fixtures.BODY_FONT)
    doc.styles["Normal"].font.size = Pt(10.5)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    office_pdf_fixtures._two_columns(section, space_twips=454)
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    header.add_run(title).font.size = Pt(8.5)
    for text in left:
        doc.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    for i, text in enumerate(right):
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if i == 0:
            para.add_run().add_break(WD_BREAK.COLUMN)  # the text starts at the next column's top
        para.add_run(text)
    doc.save(str(path))
    return path


def test_running_header_over_the_gutter_does_not_pull_the_right_column_forward(engine):
    """A short caption heads the left column on the same row as the right column's first line,
    under a header centred over the gutter: the left column is read whole, then the right
    one, and the caption stays a line of its own."""
    left = ["<提供:架空市>", "架空市では、地域の商店街と連携して空き店舗の活用を進め、移住者の起業を支援している。" * 4]
    right = ["右の段の最初の行から始まる段落であり、左の段を読み終えてから読まれる。" * 3]
    with tempfile.TemporaryDirectory() as tmp:
        docx_path = _docx_two_columns(Path(tmp) / "doc.docx", "架空市 地域の取組事例集 (ヘッダー)", left, right)
        doc = ingest(office_pdf_fixtures.render_pdf(docx_path, Path(tmp) / "doc.pdf"))
    text = doc.text
    assert "<提供:架空市>" in _lines(text), _lines(text)
    assert text.index("<提供:架空市>") < text.index("架空市では、地域の商店街") < text.index("右の段の最初の行")


def test_paragraph_running_into_the_next_column_reads_as_one_line(engine):
    """A long paragraph fills the left column and runs on at the top of the right one: read
    back, it is one line (no blank line where the column turns)."""
    sentence = "架空市の地域おこし協力隊は、山あいの集落に残る古い民家を改修して宿泊施設とし、週末ごとに都市部から訪れる家族に農作業の体験と郷土料理の講習を提供しており"
    para = "、".join([sentence] * 12) + "、その取組は三年目を迎えた。"
    text = "架空市の取組\n\n" + para + "\n\nこれは別の段落である。\n"
    with tempfile.TemporaryDirectory() as tmp:
        pdf = _render(Path(tmp), text)
        import pdfplumber

        with pdfplumber.open(pdf) as p:
            page = p.pages[0]
            mid = page.width / 2
            assert any(c["x0"] > mid for c in page.chars if c["text"] == "架"), "the paragraph reaches the right column"
        doc = ingest(pdf)
    assert comparable(para) in [comparable(ln) for ln in doc.text.split("\n")]


def test_paragraph_spacing_reads_as_a_blank_line(engine):
    """Paragraphs set apart by a few points of spacing (no empty line between them) read as
    paragraphs: a blank line between them, the lines of each joined."""
    paras = [
        "架空市では、駅前の空き店舗を改修して子育て世帯向けの交流拠点を開設し、週末には地域の農家が野菜を販売する朝市を開いている。",
        "架空町では、廃校になった小学校の校舎を宿泊施設に改修し、都市部の企業の研修や合宿を受け入れて町の収入につなげている。",
        "架空村では、村内の全世帯にタブレット端末を配布し、役場の手続きや診療所の予約をオンラインで受け付ける仕組みを整えた。",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        doc = ingest(_render(Path(tmp), "架空地域の取組\n\n" + "\n\n".join(paras) + "\n"))
    assert "\n\n".join(paras) in doc.text, doc.text


def test_heading_ending_one_character_short_of_the_edge_stays_apart(engine):
    """Ragged text without paragraph spacing: a heading whose last line stops one character
    short of where the body's lines end did not wrap (the body's first character had room
    there), so the body starts a new line. (A heading that fills its last line exactly cannot
    be told from wrapped text by position.)"""
    head = "①架空商事株式会社による駅前商店街の空き店舗の再生事業と交流拠点の整備による若い世代の起業"
    body = "架空市では駅前の空き店舗を改修して子育て世帯向けの交流拠点を開設し、週末には地域の農家が野菜を販売する朝市を開いている。"
    with tempfile.TemporaryDirectory() as tmp:
        pdf = office_pdf_fixtures.render_seed(f"架空市の取組\n\n{head}\n\n{body * 2}\n", "架空市", Path(tmp) / "d.pdf",
                                              "office-two-column-tight")
        doc = ingest(pdf)
    lines = _lines(doc.text)
    assert head in lines and body * 2 in lines, lines


@pytest.mark.parametrize("layout", office_pdf_fixtures.LAYOUTS)
def test_001_part_i_segments_in_every_office_layout(office_seed_pdfs, layout):
    pdf = next(p for (stem, lay), p in office_seed_pdfs.items() if stem.startswith("001_") and lay == layout)
    doc = ingest(pdf)
    gold = load_gold(next(paths.SEGMENTATION_GOLD.glob("001_*.json")))
    cut = _part_ii_offset(doc)
    score = score_segmentation([c for c in segment(doc) if c.span[0] < cut], _split_001(doc, gold, "I")[1])
    assert (score.matched, score.ends_included) == (score.gold, score.gold), score.as_dict()
    assert score.spurious == [], score.as_dict()
