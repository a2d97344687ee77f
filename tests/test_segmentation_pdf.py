"""The seeds printed to PDF by headless Chromium, read back and segmented: the same gold must hold.

Markdown marks are rendered as real typography (h1–h4, bold, lists), so the headed-report layout
must find its headings from font size and weight; the two-column layout adds a running header,
a footer and page numbers that ingestion has to remove.
"""

import pytest

from jirei import paths
from jirei.evaluation.segmentation import load_gold, score_segmentation
from jirei.extract.ingest import ingest
from jirei.extract.segment import segment

pytestmark = pytest.mark.slow

GOAL_F1 = 0.95


@pytest.mark.parametrize("prefix", ["001", "002", "003", "004"])
@pytest.mark.parametrize("layout", ["one-column", "two-column-running"])
def test_rendered_seed_meets_gold(seed_pdfs, prefix: str, layout: str):
    pdf = next(p for (stem, lay), p in seed_pdfs.items() if stem.startswith(prefix) and lay == layout)
    gold = load_gold(next(paths.SEGMENTATION_GOLD.glob(f"{prefix}_*.json")))
    doc = ingest(pdf)
    cases = segment(doc)
    score = score_segmentation(cases, gold, doc_name=pdf.name)
    assert score.f1 >= GOAL_F1, score.as_dict()
    assert score.ends_share >= GOAL_F1, score.as_dict()
    for case in cases:
        assert case.page is not None and 1 <= case.page <= len(doc.pages)
        assert doc.text[case.span[0] : case.span[1]] == case.text


def test_running_header_and_page_numbers_do_not_enter_cases(seed_pdfs):
    pdf = next(p for (stem, lay), p in seed_pdfs.items() if stem.startswith("001") and lay == "two-column-running")
    doc = ingest(pdf)
    cases = segment(doc)
    assert len(doc.pages) > 3
    header = "with/post コロナの地方活性化【事例編】"
    assert sum(header in c.text for c in cases) == 0
    last_pages = {c.page for c in cases}
    assert len(last_pages) > 3  # entries are spread over the pages they really sit on
