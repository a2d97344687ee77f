"""A village's comprehensive strategy read by a case-boundary model that never saw it (the CRF fitted
on every other development document: the training set `jirei evaluate segmentation --cv document`
fits for it, `cv_documents`). Its cases are the measures (`①②③`) of four basic goals: the first measure
of a goal folds into the goal's banner, each further one opens its own entry
(corpus/segmentation/README.md, 35). Each measure prints the same part labels (`重要業績評価指標`,
`(KPI)`, `<主な事業>`), which say the measures are units of one kind (`crf.with_structured_units`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import left_out_segmenter

STRATEGY = "otoineppu_sogosenryaku.pdf"


@pytest.mark.slow
def test_a_left_out_strategys_measures_are_its_entries(cv_documents, pdfs_dir: Path, tmp_path: Path):
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.extract.segment import segment_crf

    if not (pdfs_dir / STRATEGY).is_file():
        pytest.skip(f"{STRATEGY} not found in {pdfs_dir}")
    left_out = next(d for d in cv_documents if d.name == STRATEGY)
    segmenter, _ = left_out_segmenter(cv_documents, left_out, tmp_path / "left-out.crfsuite")

    cases = segment_crf(left_out.doc, segmenter)
    titles = [c.title.replace(" ", "") for c in cases]
    for measure in ("②新規就農者・農業後継者の育成強化", "②高校を活用した交流の拡大", "③学校間連携の強化"):
        assert any(t.startswith(measure) for t in titles), "\n".join(titles)
    # a goal's first measure stays in the entry its banner opens
    assert not any(t.startswith("①") for t in titles), "\n".join(titles)
    score = score_segmentation(cases, left_out.gold)
    assert score.f1 >= 0.9 and score.ends_share >= 0.9, (score.precision, score.recall, score.truncated)
