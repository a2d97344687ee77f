"""`make bench`: OCR of pages without a text layer — character accuracy and seconds per page.

Pages with a known text: the seed reports printed to PDF by headless Chromium (as the test suite
does, `tests/pdf_fixtures.py`; cached under .pytest_cache/d/jirei-pdfs) and, for vertical writing,
the real vertical PDF in ../shared/pdfs. Each chosen page is rasterised (`pdftoppm -r 300`, grey) and
rebuilt as an image-only PDF (Pillow's PDF writer), which Jirei ingests: the pages have no text
layer, so they are read by Tesseract. Accuracy = 1 - character edit distance / reference length
against the page's text layer as Jirei reads the original PDF, whitespace removed from both.
A benchmark, not a test: it prints figures and asserts nothing.

    .venv/bin/python bench/bench_ocr.py [--pages N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from jirei import paths
from jirei.extract.ingest import ingest
from jirei.extract.ocr import char_accuracy, ocr_missing_reason

sys.path.insert(0, str(paths.REPO / "tests"))
import office_fixtures  # noqa: E402
import pdf_fixtures  # noqa: E402
from conftest import PDF_SEEDS, seed_file, shared_path  # noqa: E402

RENDERED = paths.REPO / ".pytest_cache" / "d" / "jirei-pdfs"


def seed_pdf(prefix: str) -> Path | None:
    """The seed printed to PDF (one column), rendered now if the test suite has not cached it."""
    cached = sorted(RENDERED.glob(f"{prefix}_*.one-column.*.pdf"))
    if cached:
        return cached[0]
    seed = seed_file(prefix)
    if seed is None or pdf_fixtures.chromium_missing_reason():
        return None
    RENDERED.mkdir(parents=True, exist_ok=True)
    out = RENDERED / f"{seed.stem}.one-column.bench.pdf"
    html = pdf_fixtures.seed_to_html(seed.read_text(encoding="utf-8"), "one-column", PDF_SEEDS[prefix])
    return pdf_fixtures.render_pdf(html, out)


def measure(src: Path, first: int, last: int, tmp: Path) -> list[dict]:
    reference = ingest(src)
    scan = office_fixtures.image_only_pdf(src, tmp / f"{src.stem}.{first}-{last}.scan.pdf", first=first, last=last)
    t0 = time.perf_counter()
    doc = ingest(scan)
    seconds = time.perf_counter() - t0
    rows = []
    for page in doc.pages:
        n = first + page.number - 1
        ref_page = reference.pages[n - 1]
        ref_text = reference.text[ref_page.start:ref_page.end]
        hyp = doc.text[page.start:page.end]
        writing = next((w.split("(")[1].split(",")[0] for w in doc.warnings if w.startswith(f"page {page.number}: text from OCR")), "-")
        rows.append({"file": src.name, "page": n, "chars": len("".join(ref_text.split())), "source": page.source,
                     "confidence": page.ocr_confidence, "writing": writing,
                     "accuracy": char_accuracy(ref_text, hyp), "seconds": seconds / len(doc.pages)})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2, help="pages per document (default: %(default)s)")
    args = ap.parse_args()
    reason = ocr_missing_reason()
    if reason:
        print(f"bench_ocr: skipped: {reason}")
        return 0
    jobs = []
    for prefix in ("001", "003", "004"):
        pdf = seed_pdf(prefix)
        if pdf is None:
            print(f"bench_ocr: seed {prefix} PDF unavailable (seed or chromium missing)")
            continue
        jobs.append((pdf, 1, args.pages))
    vertical = shared_path() / "pdfs" / "mhlw_kokuji_vertical_0000196314.pdf"
    if vertical.exists():
        jobs.append((vertical, 3, 2 + args.pages))  # pages 1-2 are the notice's cover matter
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for src, first, last in jobs:
            rows += measure(src, first, last, Path(tmp))
    print(f"OCR of image-only pages (300 dpi, Tesseract jpn / jpn_vert), {len(rows)} pages")
    print(f"{'file':<52} {'page':>4} {'chars':>6} {'writing':>10} {'conf':>5} {'accuracy':>8} {'s/page':>7}")
    for r in rows:
        print(f"{r['file'][:52]:<52} {r['page']:>4} {r['chars']:>6} {r['writing']:>10} {r['confidence'] or 0:>5.1f} "
              f"{r['accuracy']:>8.4f} {r['seconds']:>7.2f}")
    for label, part in (("horizontal (seed PDFs)", [r for r in rows if r["writing"] == "horizontal"]),
                        ("vertical (real PDF)", [r for r in rows if r["writing"] == "vertical"]),
                        ("all", rows)):
        if part:
            chars = sum(r["chars"] for r in part)
            acc = sum(r["accuracy"] * r["chars"] for r in part) / chars
            print(f"{label}: {len(part)} pages, character accuracy {acc:.4f} (weighted by characters), "
                  f"{sum(r['seconds'] for r in part) / len(part):.2f} s/page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
