"""A case has a body: a head the page reading opens right over a notice's head, with nothing
between, is the notice's own title (`第30回YOSAKOIソーラン` over `oshirase 祭り 市民審査員募集`, the
notice column's romanised banner printed inside the title), and no case
(`crf.with_bodied_cases`). Shown on a village newsletter read by a model fitted without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import left_out_segmenter

NEWSLETTER = "otoineppu_kouhou_2021-04.pdf"


@pytest.mark.slow
def test_a_title_right_over_a_notice_head_opens_no_case(cv_documents, pdfs_dir: Path, tmp_path: Path):
    from jirei.evaluation.segmentation import score_segmentation
    from jirei.extract.segment import segment_crf

    if not (pdfs_dir / NEWSLETTER).is_file():
        pytest.skip(f"{NEWSLETTER} not found in {pdfs_dir}")
    pdf = next(d for d in cv_documents if d.name == NEWSLETTER)
    segmenter, _ = left_out_segmenter(cv_documents, pdf, tmp_path / "left-out.crfsuite")
    cases = segment_crf(pdf.doc, segmenter)
    titles = [c.title for c in cases]
    assert not any("YOSAKOI" in t for t in titles), titles
    assert all(len(c.text) > len(c.title) + 20 for c in cases), [c.title for c in cases if len(c.text) <= len(c.title) + 20]
    # the articles stay: the feature's four and the museum's opening
    for head in ("音威子府村「みんなの駅」プロジェクト", "4月26日、砂澤ビッキ記念館開館します!"):
        assert any(t.startswith(head) for t in titles), (head, titles)
    assert score_segmentation(cases, pdf.gold).f1 >= 0.9
