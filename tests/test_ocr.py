"""OCR of pages without a text layer: seed pages printed to PDF and a real vertical PDF,
rasterised with pdftoppm and rebuilt as image-only PDFs, read back through `ingest`.

Skips (with the reason) when Tesseract with Japanese data or pdftoppm is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jirei.extract.ingest import ingest
from jirei.extract.ocr import char_accuracy, flag_ocr_cases, ocr_missing_reason
from jirei.extract.segment import segment
from jirei.records import IngestError

try:
    from . import office_fixtures as of
except ImportError:
    import office_fixtures as of

# The bench's goal is 0.95; a test page must clear a margin below it on any machine's Tesseract 5.
MIN_ACCURACY = 0.93


@pytest.fixture(scope="module", autouse=True)
def _needs_ocr_tools():
    reason = ocr_missing_reason()
    if reason:
        pytest.skip(f"OCR unavailable: {reason}")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed (Debian package poppler-utils)")


def _page_text(doc, n: int) -> str:
    p = doc.pages[n - 1]
    return doc.text[p.start:p.end]


def test_horizontal_seed_pages(seed_pdfs, tmp_path: Path):
    src = seed_pdfs[("001_7db842c1dad96953", "one-column")]
    reference = ingest(src)
    scan = of.image_only_pdf(src, tmp_path / "scan.pdf", first=1, last=2)
    doc = ingest(scan)
    assert len(doc.pages) == 2
    for n in (1, 2):
        page = doc.pages[n - 1]
        assert page.source == "ocr" and not page.needs_ocr
        assert 0 < page.ocr_confidence <= 100
        assert char_accuracy(_page_text(reference, n), _page_text(doc, n)) >= MIN_ACCURACY
        assert any(w.startswith(f"page {n}: text from OCR (horizontal") for w in doc.warnings)
    # the recognised text segments like the text layer, and every case on it needs review
    cases = segment(doc)
    assert any(c.title.replace(" ", "").startswith("①日立製作所:データ駆動型") for c in cases)
    flag_ocr_cases(doc, cases)
    assert cases and all(c.needs_review for c in cases)


def test_vertical_pages_of_a_real_pdf(pdfs_dir: Path, tmp_path: Path):
    src = pdfs_dir / "mhlw_kokuji_vertical_0000196314.pdf"
    if not src.exists():
        pytest.skip(f"{src.name} not in {pdfs_dir}")
    reference = ingest(src)
    doc = ingest(of.image_only_pdf(src, tmp_path / "vscan.pdf", first=3, last=3))
    assert doc.pages[0].source == "ocr"
    assert "page 1: text from OCR (vertical" in doc.warnings[0]
    assert char_accuracy(_page_text(reference, 3), _page_text(doc, 1)) >= MIN_ACCURACY


def test_text_pages_stay_text_and_blank_pages_stay_flagged(pdfs_dir: Path):
    """The strategy PDF has two blank pages: OCR finds nothing there, so they stay `needs_ocr`."""
    sogo = pdfs_dir / "otoineppu_sogosenryaku.pdf"
    if not sogo.exists():
        pytest.skip(f"{sogo.name} not in {pdfs_dir}")
    doc = ingest(sogo)
    assert [p.number for p in doc.pages if p.needs_ocr] == [2, 4]
    assert all(p.source == "text" for p in doc.pages)


def test_ocr_switched_off_refuses_an_image_only_pdf(seed_pdfs, tmp_path: Path, monkeypatch):
    scan = of.image_only_pdf(seed_pdfs[("003_a912029e63bdb806", "one-column")], tmp_path / "s.pdf", first=1, last=1)
    monkeypatch.setenv("JIREI_OCR", "off")
    with pytest.raises(IngestError) as err:
        ingest(scan)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(scan))
    assert "no text layer on any page (image-only PDF; needs OCR): OCR switched off" in message


def test_char_accuracy():
    assert char_accuracy("地方 創生\n事例", "地方創生事例") == 1.0
    assert char_accuracy("地方創生事例", "地方剣生事例") == pytest.approx(5 / 6)
    assert char_accuracy("abc", "") == 0.0
