"""One entry per topic page, the reading `segment_crf` falls back to when the CRF opens cases on too
few pages of a document paged by topic: checked on a rendered slide deck (cases over two or three
slides, continuation slides titled `…(続き)`) and a case-sheet booklet against their seed gold, and
on real PDFs that are not paged by topic (where it must never apply)."""

from __future__ import annotations

import pytest

from jirei import paths
from jirei.evaluation.segmentation import load_gold, score_segmentation
from jirei.evaluation.segmentation_cv import locate_gold
from jirei.extract.ingest import ingest
from jirei.extract.outline import outline
from jirei.extract.segment import assemble, rule_priors
from jirei.extract.segment.crf import gold_labels, tags_from_labels, topic_page_labels, topic_pages, under_read

PDFS = paths.shared_dir() / "pdfs"


def _topic_cases(doc):
    out = outline(doc)
    _, priors = rule_priors(out.lines)
    return assemble(doc, out.lines, tags_from_labels(out, topic_page_labels(out), priors["declared"]), "pages")


@pytest.mark.slow
@pytest.mark.parametrize("template", ["slides", "case-sheet"])
def test_topic_pages_give_one_entry_per_case(layout_pdfs, template):
    pdf, gold_path = layout_pdfs[("train-001-partI", template)]
    gold = load_gold(gold_path)
    doc = ingest(pdf)
    score = score_segmentation(_topic_cases(doc), gold, doc_name=pdf.name)
    # the title slide or cover is one spurious entry at most; continuation slides fold in
    assert score.f1 >= 0.95, (score.precision, score.recall)
    assert score.ends_share >= 0.95


@pytest.mark.slow
def test_under_read_fires_only_when_the_model_opens_too_few_cases(layout_pdfs):
    pdf, gold_path = layout_pdfs[("train-001-partI", "slides")]
    doc = ingest(pdf)
    out = outline(doc)
    gold = gold_labels(out, locate_gold(doc, load_gold(gold_path)))
    assert topic_pages(out)
    assert not under_read(out, gold)  # a case on every second or third slide: the model's reading stands
    assert under_read(out, ["I"] * len(out.blocks))


@pytest.mark.skipif(not PDFS.is_dir(), reason=f"real PDFs not found at {PDFS}")
def test_documents_not_paged_by_topic_never_fall_back_to_pages():
    # the model work rules (93 pages of articles) and the official notice (220 vertical pages) hold
    # no case: most of their pages do not open with a heading, so one-entry-per-page never applies
    for name in ("mhlw_model_shugyo_kisoku_R4-11.pdf", "mhlw_kokuji_vertical_0000196314.pdf"):
        out = outline(ingest(PDFS / name))
        assert topic_pages(out) == [], name
        assert not under_read(out, ["O"] * len(out.blocks)), name
