"""The seed-to-PDF renderer really renders: structure, typography, layouts, text."""

from __future__ import annotations

import logging
import re
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

try:  # tests/ may or may not be a package
    from . import pdf_fixtures
    from .conftest import PDF_SEEDS
except ImportError:
    import pdf_fixtures
    from conftest import PDF_SEEDS

pdfplumber = pytest.importorskip("pdfplumber")

# pdfminer warns once per glyph about Chromium's CJK font descriptors (no FontBBox).
logging.getLogger("pdfminer").setLevel(logging.ERROR)

MM = 72 / 25.4
SEED001_HEADING = "データ駆動型都市プランニング実証事業"
SEED004_H4 = "諏訪市労務対策協議会(諏訪商工会議所)"


_GLYPH_FOLDS = str.maketrans(pdf_fixtures.PDF_GLYPH_FOLDS)


def fold(text: str) -> str:
    """Comparable text: glyph-sharing folds + NFKC (Chromium's ToUnicode says ⽅ for 方), no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text.translate(_GLYPH_FOLDS)))


def pdf_for(seed_pdfs: dict, prefix: str, layout: str) -> Path:
    hits = [p for (stem, lay), p in seed_pdfs.items() if stem.startswith(prefix + "_") and lay == layout]
    assert len(hits) == 1, (prefix, layout, sorted(seed_pdfs))
    return hits[0]


def body_text(page, layout: str) -> str:
    """Text of the page body, column by column (two-column pages are read left, then right)."""
    top, bottom = 20 * MM, page.height - 19 * MM
    if layout == "one-column":
        return page.crop((0, top, page.width, bottom)).extract_text() or ""
    half = page.width / 2
    left = page.crop((0, top, half, bottom)).extract_text() or ""
    right = page.crop((half, top, page.width, bottom)).extract_text() or ""
    return left + "\n" + right


def band_text(page, top: float, bottom: float) -> str:
    return (page.crop((0, top, page.width, bottom)).extract_text() or "").strip()


def seed_title_for(prefix: str) -> str:
    return PDF_SEEDS[prefix]


# ------------------------------------------------------------------ HTML (no Chromium)
SAMPLE = """\
# 大見出し
## 中見出し
### 小見出し
#### 事例見出し(諏訪商工会議所)

本文一行目
本文二行目  
**太字** と <b>タグ太字</b> と <提供：日立製作所> & "引用"

- ◆ 記号つき項目
  - 入れ子の項目
- 普通の項目
続きの行
- ・中黒つき項目

<b>目次</b>\t4
取組み①\t5
\t委員名\t会議所名

| 災害等 | 支援内容 |
|-------|----------|
| 令和元年 | <p>一段落目</p>  <p>二段落目</p> |
"""


def test_seed_to_html_converts_marks_to_markup():
    page = pdf_fixtures.seed_to_html(SAMPLE, "one-column", "題名")
    for level, text in [(1, "大見出し"), (2, "中見出し"), (3, "小見出し"), (4, "事例見出し(諏訪商工会議所)")]:
        assert f"<h{level}>{text}</h{level}>" in page
    assert "本文一行目<br>\n本文二行目" in page  # line structure survives inside a paragraph
    assert "<b>太字</b> と <b>タグ太字</b> と &lt;提供：日立製作所&gt; &amp; \"引用\"" in page
    assert '<li class="sym">◆ 記号つき項目<ul><li>入れ子の項目</li></ul></li>' in page
    assert "<li>普通の項目<br>\n続きの行</li>" in page
    assert '<li class="sym">・中黒つき項目</li>' in page
    assert '<td><b>目次</b></td><td class="num">4</td>' in page
    assert "<td></td><td>委員名</td><td>会議所名</td>" in page
    assert "<td>令和元年</td><td>一段落目<br>二段落目</td>" in page
    assert "---" not in page and "**" not in page and "#" not in page.split("<body", 1)[1]
    assert '"Noto Sans CJK JP", "Noto Sans JP", sans-serif' in page
    assert "http" not in page and "src=" not in page  # self-contained


def test_seed_to_html_layouts():
    one = pdf_fixtures.seed_to_html("本文", "one-column", "題名")
    two = pdf_fixtures.seed_to_html("本文", "two-column-running", 'A "quoted" 題名')
    assert "column-count" not in one and "@top-center" not in one and "counter(page)" not in one
    assert "column-count: 2" in two
    assert '@top-center' in two and 'content: "A \\"quoted\\" 題名"' in two
    assert 'counter(page)' in two
    with pytest.raises(ValueError):
        pdf_fixtures.seed_to_html("本文", "three-column", "題名")


def test_render_pdf_reports_chromium_failure(monkeypatch, tmp_path):
    false = shutil.which("false")
    if not false:
        pytest.skip("no `false` executable")
    monkeypatch.setattr(pdf_fixtures, "chromium_path", lambda: false)
    with pytest.raises(RuntimeError, match="chromium failed"):
        pdf_fixtures.render_pdf("<p>x</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_chromium_missing_reason_names_the_debian_packages(monkeypatch):
    monkeypatch.setattr(pdf_fixtures, "chromium_path", lambda: None)
    monkeypatch.setattr(pdf_fixtures, "_has_cjk_font", lambda: False)
    reason = pdf_fixtures.chromium_missing_reason()
    assert "Debian package chromium" in reason and "Debian package fonts-noto-cjk" in reason


# ------------------------------------------------------------------ real PDFs (Chromium)
@pytest.mark.slow
@pytest.mark.parametrize("layout", pdf_fixtures.LAYOUTS)
def test_seed001_renders_with_heading_on_page_one(seed_pdfs, layout):
    path = pdf_for(seed_pdfs, "001", layout)
    assert path.is_file() and path.read_bytes()[:5] == b"%PDF-"
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) > 1
        page = pdf.pages[0]
        assert page.width == pytest.approx(210 * MM, abs=2)  # A4
        assert page.height == pytest.approx(297 * MM, abs=2)
        assert SEED001_HEADING in fold(body_text(page, layout))


@pytest.mark.slow
@pytest.mark.parametrize("prefix", ["001", "004"])
def test_two_column_running_header_and_real_page_numbers(seed_pdfs, prefix):
    with pdfplumber.open(pdf_for(seed_pdfs, prefix, "two-column-running")) as pdf:
        assert len(pdf.pages) > 1
        for number, page in enumerate(pdf.pages, start=1):
            header = band_text(page, 0, 21 * MM)
            footer = band_text(page, page.height - 19 * MM, page.height)
            assert fold(header) == fold(seed_title_for(prefix)), f"page {number} header {header!r}"
            assert footer == f"- {number} -", f"page {number} footer {footer!r}"


@pytest.mark.slow
def test_two_column_layout_has_two_columns(seed_pdfs):
    with pdfplumber.open(pdf_for(seed_pdfs, "001", "two-column-running")) as pdf:
        page = pdf.pages[1]
        mid = page.width / 2
        body = [c for c in page.chars if 25 * MM < c["top"] < page.height - 25 * MM and c["text"].strip()]
        left = [c for c in body if c["x1"] <= mid]
        right = [c for c in body if c["x0"] >= mid]
        assert len(left) > 300 and len(right) > 300
        assert len(left) + len(right) == len(body), "text crosses the column gap"
        assert max(c["x1"] for c in left) < mid - 2 * MM  # a real gap between the columns
        assert min(c["x0"] for c in right) > mid + 2 * MM


@pytest.mark.slow
def test_one_column_layout_has_no_running_header_or_footer(seed_pdfs):
    with pdfplumber.open(pdf_for(seed_pdfs, "001", "one-column")) as pdf:
        for page in pdf.pages:
            assert not band_text(page, 0, 19 * MM), "text in the top margin"
            assert not band_text(page, page.height - 19 * MM, page.height), "text in the bottom margin"
        page = pdf.pages[1]
        mid = page.width / 2
        wide = [ln for ln in page.extract_text_lines() if ln["x0"] < mid - 40 * MM and ln["x1"] > mid + 40 * MM]
        assert len(wide) > 10, "one-column lines should run across the page"


def _first_lines(pdf, needles: list[str]) -> dict[str, dict]:
    """For each needle, the first body line (with chars) containing it; pages are read only
    until every needle is found. The running header/footer bands are left out: the header
    ends ~18 mm from the top, the footer starts ~16 mm from the bottom, and body text stays
    20 mm (one-column) / 22 mm (two-column) inside the edges."""
    found: dict[str, dict] = {}
    for page in pdf.pages:
        for line in page.extract_text_lines(return_chars=True):
            if line["bottom"] <= 19.5 * MM or line["top"] >= page.height - 19.5 * MM:
                continue
            text = fold(line["text"])
            for needle in needles:
                if needle not in found and fold(needle) in text:
                    found[needle] = line
        if len(found) == len(needles):
            break
    return found


@pytest.mark.slow
@pytest.mark.parametrize("layout", pdf_fixtures.LAYOUTS)
def test_seed004_headings_are_bold_and_sized_by_level(seed_pdfs, layout):
    # every level is bold, sized h1 18 > h2 15 > h3 13 > h4 11.5 > body 10.5 (regular)
    expected = {
        "「共創」と「循環」": ("Bold", 18.0),  # h1
        "地域が直面する課題": ("Bold", 15.0),  # h2
        "各地商工会議所の取組みのポイント": ("Bold", 13.0),  # h3
        SEED004_H4: ("Bold", 11.5),  # h4
        "<実施のきっかけ>": ("Bold", 11.5),  # h4 whose text looks like a tag: escaped
        "市内中小企業の人材採用を主目的": ("Regular", 10.5),  # body under the first ####
    }
    with pdfplumber.open(pdf_for(seed_pdfs, "004", layout)) as pdf:
        lines = _first_lines(pdf, list(expected))
    assert set(lines) == set(expected), f"not found: {set(expected) - set(lines)}"
    for needle, (weight, size) in expected.items():
        char = next(c for c in lines[needle]["chars"] if c["text"].strip())
        assert char["fontname"].endswith("-" + weight), (needle, char["fontname"])
        assert round(char["size"], 1) == size, (needle, char["size"])
    # the whole #### line is bold 11.5pt, not just its first character
    chars = [c for c in lines[SEED004_H4]["chars"] if c["text"].strip()]
    assert all(c["fontname"].endswith("-Bold") for c in chars), {c["fontname"] for c in chars}
    assert {round(c["size"], 1) for c in chars} == {11.5}


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


@pytest.mark.slow
def test_every_seed_pdf_keeps_the_seed_text(seed_pdfs, seeds_dir):
    """Nothing is clipped, lost or shrunk to fit: the seed's kana/kanji all come back out."""
    pdfium = pytest.importorskip("pypdfium2")  # a pdfplumber dependency; ~20x faster here
    assert len(seed_pdfs) == len(PDF_SEEDS) * len(pdf_fixtures.LAYOUTS)
    for (stem, layout), path in sorted(seed_pdfs.items()):
        with pdfplumber.open(path) as pdf:  # Chromium shrinks every page if one line overflows
            sizes = {round(c["size"], 1) for c in pdf.pages[0].chars}
        assert 10.5 in sizes and min(sizes) >= 8.5, f"{stem} {layout}: shrunk to fit? sizes {sizes}"
        doc = pdfium.PdfDocument(str(path))
        try:
            text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
        finally:
            doc.close()
        want = Counter(CJK.findall(fold((seeds_dir / f"{stem}.txt").read_text(encoding="utf-8"))))
        got = Counter(CJK.findall(fold(text)))
        recall = sum((want & got).values()) / sum(want.values())
        assert recall >= 0.995, f"{stem} {layout}: only {recall:.4f} of the seed's kana/kanji in the PDF"
