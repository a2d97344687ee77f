"""Seed cases re-typeset in six report layouts: every gold heading and end is in the text Jirei
extracts from the PDF, the spans recovered from them are the cases, and each layout really has
its features (slides at 16:9 with continuation slides, one case sheet per page, running footers,
table rows, vertical text, notices between newsletter articles)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from jirei.evaluation.segmentation import gold_spans, load_gold
from jirei.extract.ingest import ingest
from jirei.extract.text import normalise

try:  # tests/ may or may not be a package
    from . import layout_fixtures as lf
    from .conftest import seed_file
except ImportError:
    import layout_fixtures as lf
    from conftest import seed_file

logging.getLogger("pdfminer").setLevel(logging.ERROR)

GOLD_DIR = Path(__file__).resolve().parents[1] / "corpus" / "segmentation"


def _cases(seeds_dir: Path, source: str) -> list[lf.SeedCase]:
    src = lf.SOURCES[source]
    seed = seed_file(src.prefix, seeds_dir)
    if seed is None:
        pytest.skip(f"seed {src.prefix} not found in {seeds_dir}")
    gold = json.loads(next(GOLD_DIR.glob(f"{src.prefix}_*.json")).read_text(encoding="utf-8"))
    return lf.seed_cases(seed.read_text(encoding="utf-8"), gold, src.part)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", normalise(s))


# --------------------------------------------------------------------------- without Chromium
def test_sources_split_training_from_held_out_cases(seeds_dir):
    assert {n for n, s in lf.SOURCES.items() if s.split == "train"} == {"train-001-partI"}
    assert all(n.startswith("heldout-") for n, s in lf.SOURCES.items() if s.split == "heldout")
    part1, part2 = _cases(seeds_dir, "train-001-partI"), _cases(seeds_dir, "heldout-001-partII")
    whole = json.loads(next(GOLD_DIR.glob("001_*.json")).read_text(encoding="utf-8"))["cases"]
    # the README counts 58 cases in part I and 5 in part II
    assert (len(part1), len(part2)) == (58, 5)
    assert [c.heading for c in part1 + part2] == [lf.clean_line(g["heading"]) for g in whole]
    assert "備後圏域連携中枢都市圏" in part2[0].heading


@pytest.mark.parametrize("source", sorted(lf.SOURCES))
def test_recovered_body_ends_with_the_gold_end(seeds_dir, source):
    cases = _cases(seeds_dir, source)
    src = lf.SOURCES[source]
    gold = json.loads(next(GOLD_DIR.glob(f"{src.prefix}_*.json")).read_text(encoding="utf-8"))
    if src.part is None:
        assert len(cases) == len(gold["cases"])
    for case in cases:
        body = _squash(" ".join([case.rest] + case.body))
        assert body.endswith(_squash(case.end)), (case.heading, case.end)
        assert "**" not in body and not body.startswith("#"), case.heading


# --------------------------------------------------------------------------- rendered
PAIRS = [(s, t) for s in sorted(lf.SOURCES) for t in lf.TEMPLATES]


@pytest.fixture(scope="module")
def extracted(layout_pdfs) -> dict[tuple[str, str], str]:
    return {key: ingest(pdf).text for key, (pdf, _) in layout_pdfs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("source,template", PAIRS)
def test_every_gold_heading_and_end_is_in_the_extracted_text(layout_pdfs, extracted, seeds_dir, source, template):
    pdf, gold_path = layout_pdfs[(source, template)]
    data = json.loads(gold_path.read_text(encoding="utf-8"))
    assert data["doc"] == pdf.name and pdf.name.startswith(gold_path.stem)
    assert data["split"] == lf.SOURCES[source].split and data["kind"] == f"template:{template}"
    text = extracted[(source, template)]
    gold = load_gold(gold_path)
    assert len(gold.cases) == len(_cases(seeds_dir, source))
    spans = gold_spans(text, gold)  # raises when a heading or end is missing
    for g, (start, stop) in zip(gold.cases, spans):
        assert text[start:].startswith(g.heading)
        assert text[:stop].endswith(g.end)
        assert len(_squash(g.heading)) >= 6 and len(_squash(g.end)) >= 5
    starts = [s for s, _ in spans]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # each heading and end were taken from the seed's gold: both are in some seed case
    seed_text = {_squash(c.heading + c.rest + "".join(c.body)) for c in _cases(seeds_dir, source)}
    for g in gold.cases:
        assert any(_squash(g.heading) in t for t in seed_text), g.heading
        assert any(_squash(g.end) in t for t in seed_text), g.end


def _pages(pdf: Path):
    pdfplumber = pytest.importorskip("pdfplumber")
    return pdfplumber.open(pdf)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["train-001-partI", "heldout-003"])
def test_slides_are_16_9_and_cases_continue_over_slides(layout_pdfs, extracted, source):
    pdf, gold_path = layout_pdfs[(source, "slides")]
    n_cases = len(load_gold(gold_path).cases)
    with _pages(pdf) as doc:
        page = doc.pages[0]
        assert abs(page.width / page.height - 16 / 9) < 0.01
        assert len(doc.pages) >= 2 * n_cases + 2  # title + closing slide, two or three per case
    text = extracted[(source, "slides")]
    assert text.count("✓概要") == n_cases
    assert text.count("(続き)") >= n_cases


@pytest.mark.slow
def test_case_sheets_have_one_case_per_page_with_boxes(layout_pdfs, extracted):
    pdf, gold_path = layout_pdfs[("train-001-partI", "case-sheet")]
    gold = load_gold(gold_path)
    with _pages(pdf) as doc:
        assert len(doc.pages) == len(gold.cases) + 1  # a cover, then one sheet per case
    text = extracted[("train-001-partI", "case-sheet")]
    assert text.count("≪KPI≫") == len(gold.cases) and text.count("【概要】") == len(gold.cases)
    # the KPI box closes the sheet but is never part of the gold end
    assert all("KPI" not in g.end for g in gold.cases)


@pytest.mark.slow
def test_booklet_has_a_running_header_and_page_numbers(layout_pdfs, extracted):
    pdf, _ = layout_pdfs[("heldout-004", "booklet")]
    title = lf.SOURCES["heldout-004"].title
    with _pages(pdf) as doc:
        assert len(doc.pages) >= 3
        raw = [p.extract_text() or "" for p in doc.pages[:3]]
    for n, page_text in enumerate(raw, 1):
        page_text = normalise(page_text)
        assert f"- {n} -" in page_text and normalise(title) in page_text.replace("\n", "")


@pytest.mark.slow
def test_table_has_one_row_per_programme(layout_pdfs, extracted):
    pdf, gold_path = layout_pdfs[("heldout-003", "table")]
    with _pages(pdf) as doc:
        page = doc.pages[0]
        assert page.width > page.height  # landscape
        assert len(page.find_tables()) >= 1
        header = page.find_tables()[0].extract()[0]
    assert [(c or "").replace("\n", "") for c in header] == ["事業名", "実施主体", "地域", "概要"]


@pytest.mark.slow
def test_vertical_pages_are_set_top_to_bottom(layout_pdfs):
    pdf, _ = layout_pdfs[("train-001-partI", "vertical")]
    with _pages(pdf) as doc:
        chars = [c for c in doc.pages[1].chars if not c["text"].isspace()]
    down = sum(1 for a, b in zip(chars, chars[1:]) if abs(a["x0"] - b["x0"]) < 1 and b["top"] > a["top"])
    across = sum(1 for a, b in zip(chars, chars[1:]) if abs(a["top"] - b["top"]) < 1 and b["x0"] > a["x0"])
    assert down > 5 * across


@pytest.mark.slow
@pytest.mark.parametrize("source", ["train-001-partI", "heldout-004"])
def test_newsletter_notices_stand_outside_every_case(layout_pdfs, extracted, source):
    _, gold_path = layout_pdfs[(source, "newsletter")]
    text = extracted[(source, "newsletter")]
    spans = gold_spans(text, load_gold(gold_path))
    marks = ["国民年金保険料は納期限までに", "会計年度任用職員の募集", "総務課職員係☎0123-45-6703", "編集後記"]
    for mark in marks:
        pos = text.find(mark)
        assert pos >= 0, mark
        assert not any(s <= pos < e for s, e in spans), mark
    # the calendar spans all three columns; its title may fall inside an article cut by it
    assert "今月のカレンダー" in text and "資源ごみ回収" in text
