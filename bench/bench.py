"""`make bench`: speed of PDF ingestion (pages/s) and segmentation (chars/s), with profiles.

Inputs: the real PDFs in ../shared/pdfs, the seed texts in ../shared/seeds, and the seed PDFs
the test suite rendered with Chromium (.pytest_cache/d/jirei-pdfs) when present.
A benchmark, not a test: it prints figures and where the time goes; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import sys
import time
from pathlib import Path

from jirei import paths
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

RENDERED = paths.REPO / ".pytest_cache" / "d" / "jirei-pdfs"


def _profile_top(func, n: int = 12) -> str:
    prof = cProfile.Profile()
    prof.enable()
    func()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).sort_stats("cumulative")
    stats.print_stats(n)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(lines[start : start + n + 1])


def bench_pdf_ingestion(pdfs: list[Path]) -> list[dict]:
    rows = []
    for pdf in pdfs:
        t0 = time.perf_counter()
        doc = ingest(pdf)
        dt = time.perf_counter() - t0
        pages = len(doc.pages)
        rows.append({"file": pdf.name, "pages": pages, "seconds": dt, "pages_per_s": pages / dt, "ms_per_page": 1000 * dt / pages, "chars": len(doc.text), "doc": doc})
    return rows


def bench_segmentation(docs: list, repeat: int = 5) -> list[dict]:
    rows = []
    for doc in docs:
        t0 = time.perf_counter()
        for _ in range(repeat):
            cases = segment(doc)
        dt = (time.perf_counter() - t0) / repeat
        rows.append({"file": doc.name, "chars": len(doc.text), "cases": len(cases), "layout": cases[0].layout if cases else "-", "seconds": dt, "chars_per_s": len(doc.text) / dt if dt else float("inf")})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-profile", action="store_true", help="skip the profiles")
    args = parser.parse_args(argv)

    real_pdfs = sorted((paths.shared_dir() / "pdfs").glob("*.pdf"))
    rendered = sorted(RENDERED.glob("*.pdf")) if RENDERED.is_dir() else []
    seeds = sorted(paths.seeds_dir().glob("*.txt"))
    if not (real_pdfs or seeds):
        print(f"nothing to measure: no PDFs or seeds under {paths.shared_dir()}", file=sys.stderr)
        return 1

    print("PDF ingestion (pdfplumber + Jirei's reading order, de-duplication, header/footer removal)")
    print(f"{'file':<58} {'pages':>5} {'s':>7} {'pages/s':>8} {'ms/page':>8}")
    pdf_rows = bench_pdf_ingestion(real_pdfs + rendered)
    for r in pdf_rows:
        print(f"{r['file'][:58]:<58} {r['pages']:>5} {r['seconds']:>7.2f} {r['pages_per_s']:>8.2f} {r['ms_per_page']:>8.1f}")
    if pdf_rows:
        pages = sum(r["pages"] for r in pdf_rows)
        secs = sum(r["seconds"] for r in pdf_rows)
        print(f"{'all PDFs':<58} {pages:>5} {secs:>7.2f} {pages / secs:>8.2f} {1000 * secs / pages:>8.1f}")

    docs = [ingest(p) for p in seeds] + [r["doc"] for r in pdf_rows]
    print("\nSegmentation (rule-set choice + tagging + assembly; mean of 5 runs)")
    print(f"{'file':<58} {'chars':>8} {'cases':>5} {'layout':<14} {'chars/s':>10}")
    seg_rows = bench_segmentation(docs)
    for r in seg_rows:
        print(f"{r['file'][:58]:<58} {r['chars']:>8} {r['cases']:>5} {r['layout']:<14} {r['chars_per_s']:>10.0f}")
    chars = sum(r["chars"] for r in seg_rows)
    secs = sum(r["seconds"] for r in seg_rows)
    print(f"{'all documents':<58} {chars:>8} {'':>5} {'':<14} {chars / secs:>10.0f}")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this run: {peak_mb:.0f} MB")

    if not args.no_profile:
        biggest = max(real_pdfs, key=lambda p: p.stat().st_size) if real_pdfs else None
        if biggest is not None:
            print(f"\nProfile: ingesting {biggest.name} (top functions by cumulative time)")
            print(_profile_top(lambda: ingest(biggest)))
        print("\nProfile: segmenting every document")
        print(_profile_top(lambda: [segment(d) for d in docs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
