"""Seed cases re-typeset in six report layouts, printed to PDF, each with its segmentation gold.

Writes `<source>.<template>.pdf` and `<source>.<template>.json` (gold in the format of
corpus/segmentation/*.json, plus `kind`, `split` and `source`) into OUT_DIR for every source in
tests/layout_fixtures.SOURCES and every template in tests/layout_fixtures.TEMPLATES. Sources named
`heldout-*` (seed 001 part II, 003, 004) are the held-out test set: never train or tune on them.
Files already rendered from the same seed, gold and renderer are reused. Needs /usr/bin/chromium,
a CJK font and the shared seeds folder ($JIREI_SHARED/seeds, default ../shared/seeds).

    .venv/bin/python scripts/render_layouts.py OUT_DIR [--template slides ...] [--source heldout-003 ...]
    .venv/bin/jirei evaluate segmentation --gold OUT_DIR OUT_DIR/*.pdf
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import layout_fixtures  # noqa: E402
import pdf_fixtures  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for the PDFs and gold files")
    p.add_argument("--template", action="append", choices=layout_fixtures.TEMPLATES,
                   help="render only this template (repeatable; default: all)")
    p.add_argument("--source", action="append", choices=sorted(layout_fixtures.SOURCES),
                   help="render only this case set (repeatable; default: all)")
    p.add_argument("--seeds", default=None, help="seeds folder (default: $JIREI_SHARED/seeds or ../shared/seeds)")
    p.add_argument("--workers", type=int, default=2, help="Chromium processes at once (default: %(default)s)")
    args = p.parse_args(argv)
    reason = pdf_fixtures.chromium_missing_reason()
    if reason:
        print(f"render_layouts: error: cannot render: {reason}", file=sys.stderr)
        return 2
    try:
        done = layout_fixtures.render_all(args.out_dir, args.seeds, workers=args.workers,
                                          sources=args.source, templates=args.template)
    except (FileNotFoundError, layout_fixtures.LayoutGoldError, RuntimeError) as exc:
        print(f"render_layouts: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    for (source, template), (pdf, gold) in done.items():
        n = len(json.loads(gold.read_text(encoding="utf-8"))["cases"])
        split = layout_fixtures.SOURCES[source].split
        print(f"{pdf.name:<44} {split:<8} {n:>3} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
