"""OCR of PDF pages that have no text layer, with Tesseract (Debian `tesseract-ocr`,
`tesseract-ocr-jpn`, `tesseract-ocr-jpn-vert`) through pytesseract.

Contract:
- `ocr_missing_reason()` → None when OCR can run here, else why not (no tesseract binary, no
  Japanese language data, or `JIREI_OCR=off` in the environment).
- `ocr_pdf_pages(data, numbers)` → {page number: OcrPage(text, confidence, writing)} for the
  1-based pages of a PDF's bytes: each page is rendered at 300 dpi (pypdfium2) and read as
  horizontal Japanese (`jpn`, automatic page segmentation); when that reads poorly (mean word
  confidence under `VERTICAL_RETRY_BELOW`) it is read again as vertical Japanese (`jpn_vert`, one
  vertical block per column) and the better-scored reading is kept. `confidence` is the mean word
  confidence (0-100); `writing` is "horizontal" or "vertical".
- `char_accuracy(reference, recognised)` → 1 - (character edit distance / reference length), with
  whitespace removed from both (line breaks and spacing are layout, not text); the figure the OCR
  tests and `bench/bench_ocr.py` report.
- `flag_ocr_cases(doc, cases)` sets `needs_review` on every case whose span touches an OCR page:
  recognised text is not the author's text.

`read_pdf` calls this automatically for every page without a text layer; the page's text then
carries `source: "ocr"` and its confidence in `Document.pages`.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

DPI = 300
# Horizontal reading below this mean confidence is retried as vertical writing.
VERTICAL_RETRY_BELOW = 80.0
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass
class OcrPage:
    text: str
    confidence: float
    writing: str  # horizontal | vertical


def ocr_missing_reason() -> str | None:
    if os.environ.get("JIREI_OCR", "").lower() in ("0", "off", "no", "false"):
        return "OCR switched off (JIREI_OCR=off)"
    if shutil.which("tesseract") is None:
        return "tesseract not installed (Debian packages tesseract-ocr, tesseract-ocr-jpn, tesseract-ocr-jpn-vert)"
    try:
        import pytesseract

        langs = set(pytesseract.get_languages(config=""))
    except Exception as exc:  # a broken install must not stop ingestion
        return f"tesseract not usable ({type(exc).__name__})"
    missing = [lang for lang in ("jpn", "jpn_vert") if lang not in langs]
    if missing:
        return f"tesseract lacks language data {', '.join(missing)} (Debian tesseract-ocr-jpn, tesseract-ocr-jpn-vert)"
    return None


def _join_words(words: list[str]) -> str:
    """Words of one line: Japanese is written without spaces; Latin words keep one between them."""
    out = ""
    for w in words:
        if out and not _CJK.search(out[-1]) and not _CJK.search(w[0]) and out[-1].isalnum() and w[0].isalnum():
            out += " "
        out += w
    return out


def _read(image, lang: str, psm: int) -> tuple[str, float]:
    import pytesseract

    # Tesseract's OpenMP threads fight each other (and batch workers) on a small machine: one
    # thread reads a page 3-4x faster here (4.8 s vs 20.9 s on 2 cores).
    saved = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        data = pytesseract.image_to_data(image, lang=lang, config=f"--psm {psm}",
                                         output_type=pytesseract.Output.DICT)
    finally:
        if saved is None:
            del os.environ["OMP_THREAD_LIMIT"]
        else:
            os.environ["OMP_THREAD_LIMIT"] = saved
    lines: dict[tuple[int, int, int], list[str]] = {}
    confs = []
    for i, word in enumerate(data["text"]):
        word = (word or "").strip()
        conf = float(data["conf"][i])
        if not word or conf < 0:
            continue
        confs.append(conf)
        lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(word)
    out, last_par = [], None
    for (block, par, _line), words in lines.items():
        if last_par is not None and (block, par) != last_par:
            out.append("")  # a new paragraph
        out.append(_join_words(words))
        last_par = (block, par)
    return "\n".join(out), (sum(confs) / len(confs) if confs else 0.0)


def ocr_image(image) -> OcrPage:
    """Text of one page image, horizontal or vertical writing, whichever reads better."""
    lo, _hi = image.convert("L").getextrema()
    if lo > 250:  # a blank page: nothing to read
        return OcrPage("", 0.0, "horizontal")
    text, conf = _read(image, "jpn", 3)
    best = OcrPage(text, conf, "horizontal")
    if conf < VERTICAL_RETRY_BELOW:
        vtext, vconf = _read(image, "jpn_vert", 5)
        if vconf > conf:
            best = OcrPage(vtext, vconf, "vertical")
    return best


def render_page(pdf, index: int, dpi: int = DPI):
    """A PIL image of page `index` (0-based) of an open pypdfium2 document, in grey."""
    page = pdf[index]
    try:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        return bitmap.to_pil()
    finally:
        page.close()


def ocr_pdf_pages(data: bytes, numbers: list[int], dpi: int = DPI) -> dict[int, OcrPage]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return {n: ocr_image(render_page(pdf, n - 1, dpi)) for n in numbers}
    finally:
        pdf.close()


def flag_ocr_cases(doc, cases) -> None:
    """needs_review on every case that overlaps a page whose text came from OCR."""
    ocr_pages = [p for p in doc.pages if p.source == "ocr"]
    if not ocr_pages:
        return
    for case in cases:
        s, e = case.span
        if any(p.start < e and s < max(p.end, p.start + 1) for p in ocr_pages):
            case.needs_review = True


def char_accuracy(reference: str, recognised: str) -> float:
    """1 - Levenshtein distance / len(reference), whitespace removed; 0 when nothing matches."""
    ref = "".join(reference.split())
    hyp = "".join(recognised.split())
    if not ref:
        return 1.0 if not hyp else 0.0
    prev = list(range(len(hyp) + 1))
    for i, rc in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, hc in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc != hc))
        prev = cur
    return max(0.0, 1.0 - prev[-1] / len(ref))
