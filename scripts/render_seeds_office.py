"""Render the seed reports to two-column PDFs with LibreOffice (tests/office_pdf_fixtures.py)
and, with --score, score segmentation on them.

    .venv/bin/python scripts/render_seeds_office.py [OUT_DIR] [--score] [-v]
                                                    (default OUT_DIR: out/renderings-office)

Writes `<seed stem>.office-two-column.pdf` (existing files are kept), which
`jirei evaluate segmentation` pairs with the seed's gold by file-name prefix. --score prints
per document predicted/gold entries, P/R/F1 and the share of matched entries keeping their
gold ending, with seed 001 split into part I (development) and part II (held out); -v lists
the missed, spurious and truncated entries of the development part only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import conftest  # noqa: E402
import office_pdf_fixtures  # noqa: E402


def render(out_dir: Path) -> list[Path]:
    seeds = conftest.seeds_path()
    out = []
    for prefix, title in conftest.PDF_SEEDS.items():
        src = conftest.seed_file(prefix, seeds)
        if src is None:
            raise SystemExit(f"render_seeds_office: no seed {prefix} in {seeds}")
        for layout in office_pdf_fixtures.LAYOUTS:
            pdf = out_dir / f"{src.stem}.{layout}.pdf"
            if not pdf.exists():
                office_pdf_fixtures.render_seed(src.read_text(encoding="utf-8"), title, pdf, layout)
            out.append(pdf)
    return out


def score(pdfs: list[Path], verbose: bool) -> None:
    from jirei.evaluation.segmentation import format_table, score_segmentation
    from jirei.evaluation.segmentation_cv import _part_ii_offset, _split_001
    from jirei.extract.ingest import ingest
    from jirei.extract.segment import segment
    from jirei.gold import load_gold_dir

    golds = {Path(g.doc).stem[:3]: g for g in load_gold_dir(REPO / "corpus" / "segmentation")}
    rows = []
    for pdf in pdfs:
        gold = golds.get(pdf.name[:3])
        if gold is None:
            continue
        doc = ingest(pdf)
        cases = segment(doc)
        parts = [("", cases, gold)]
        cut = _part_ii_offset(doc) if pdf.name.startswith("001") else None
        if cut is not None:
            # the whole document segmented once; its entries and gold cases on either side of
            # the part II heading scored apart
            parts = [(f" part {p}", [c for c in cases if (c.span[0] < cut) == (p == "I")],
                      _split_001(doc, gold, p)[1]) for p in ("I", "II")]
        for label, cs, g in parts:
            stem, layout = pdf.name.split(".")[:2]
            s = score_segmentation(cs, g, doc_name=f"{stem[:3]} {layout}{label}")
            rows.append(s)
            if verbose and label == " part I":
                for kind in ("missed", "spurious", "truncated"):
                    for t in getattr(s, kind):
                        print(f"  {kind:<9} {t[:70]}")
    print(format_table(rows))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", nargs="?", type=Path, default=REPO / "out" / "renderings-office")
    ap.add_argument("--score", action="store_true", help="score segmentation on the renderings")
    ap.add_argument("-v", "--verbose", action="store_true", help="list part I's missed/spurious/truncated entries")
    args = ap.parse_args()
    reason = office_pdf_fixtures.libreoffice_missing_reason()
    if reason:
        print(f"render_seeds_office: {reason}", file=sys.stderr)
        return 1
    pdfs = render(args.out_dir)
    for pdf in pdfs:
        print(pdf)
    if args.score:
        score(pdfs, args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
