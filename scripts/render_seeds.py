"""Render the seed reports to PDF in every layout of tests/pdf_fixtures.py (headless Chromium).

    .venv/bin/python scripts/render_seeds.py [OUT_DIR]      (default: out/renderings)

Writes `<seed stem>.<layout>.pdf`, which `jirei train-segmenter` and
`jirei evaluate segmentation --cv document` read as development (001 part I, 002) and held-out
(001 part II, 003, 004) documents. Existing files are kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import conftest  # noqa: E402
import pdf_fixtures  # noqa: E402


def main() -> int:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "out" / "renderings"
    reason = pdf_fixtures.chromium_missing_reason()
    if reason:
        print(f"render_seeds: {reason}", file=sys.stderr)
        return 1
    seeds = conftest.seeds_path()
    for prefix, title in conftest.PDF_SEEDS.items():
        src = conftest.seed_file(prefix, seeds)
        if src is None:
            print(f"render_seeds: no seed {prefix} in {seeds}", file=sys.stderr)
            return 1
        for layout in pdf_fixtures.LAYOUTS:
            out = out_dir / f"{src.stem}.{layout}.pdf"
            if not out.exists():
                pdf_fixtures.render_pdf(pdf_fixtures.seed_to_html(src.read_text(encoding="utf-8"), layout, title), out)
            print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
